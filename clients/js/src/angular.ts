// SPDX-License-Identifier: MIT
// An Angular service for NotifierClient, on rxjs alone (rxjs is an optional
// peer dependency; @angular/core is not needed to import it). Provide it
// with a factory, so it needs no decorator:
//
//     providers: [
//       { provide: NotificationService,
//         useFactory: () => new NotificationService({ url: new URL('/ws', location.href).href }) },
//     ]
//
// and inject it as usual (`inject(NotificationService)` or a constructor
// parameter). Angular calls ngOnDestroy() when the injector that made it is
// destroyed, which closes the connection.

import { isObservable, type Observable } from 'rxjs';

import { NotifierClient, type NotifierClientOptions } from './client.js';
import type { LiveOptions, LiveSnapshot } from './live.js';
import { connectionState, errors, fromCollection, fromLive, resyncs } from './rxjs.js';
import type { TokenSource } from './token.js';
import type { ConnectionState, Notification, ResyncEvent, ServerError } from './types.js';

export class NotificationService {
  /** The underlying client (for cursor, subscriptions, …). */
  readonly client: NotifierClient;
  readonly #owned: boolean;

  /** live / reconnecting / …, starting with the current state. */
  readonly state$: Observable<ConnectionState>;
  /** Resume was impossible: reload whatever the page shows. */
  readonly resync$: Observable<ResyncEvent>;
  /** Refused frames or connections (see ServerError). */
  readonly error$: Observable<ServerError>;

  /** Connects with `options`, or wraps a client made elsewhere (which
   * ngOnDestroy() then leaves open). */
  constructor(clientOrOptions: NotifierClient | NotifierClientOptions) {
    // Not instanceof: the app may hold a client from another copy of the package.
    const given = typeof (clientOrOptions as Partial<NotifierClient>).on === 'function';
    this.#owned = !given;
    this.client = given ? (clientOrOptions as NotifierClient) : new NotifierClient(clientOrOptions as NotifierClientOptions);
    this.state$ = connectionState(this.client);
    this.resync$ = resyncs(this.client);
    this.error$ = errors(this.client);
  }

  /** Changes of one collection ('forums') or record ('posts/7'); `T` types
   * their `data`. The connection subscribes while someone listens. */
  collection<T = unknown>(entry: string): Observable<Notification<T>> {
    return fromCollection<T>(this.client, entry);
  }

  /**
   * A live query (see live() of notifierd-client): the snapshots of what
   * `topic` covers, loaded by `load` once the server confirmed the
   * subscription and kept up to date (loaded again on changes, or patched
   * with `options.apply`). `load` may return an Observable, such as
   * HttpClient's (its first value is used; unsubscribed when the query
   * closes), a promise or a value. Starts with a `loading` snapshot; each
   * subscriber runs its own query, closed when it unsubscribes. As a
   * signal: `toSignal(service.live(…), { requireSync: true })`.
   */
  live<T, R = unknown>(
    topic: string,
    load: (signal: AbortSignal) => Observable<T> | Promise<T> | T,
    options?: LiveOptions<T, R>,
  ): Observable<LiveSnapshot<T>> {
    return fromLive<T, R>(this.client, topic, (signal) => settle(load(signal), signal), options);
  }

  /** A new token (after a refusal, or to change rights): see
   * NotifierClient.setToken(). */
  setToken(token: TokenSource): void {
    this.client.setToken(token);
  }

  ngOnDestroy(): void {
    if (this.#owned) this.client.close();
  }
}

// The first value of an Observable (unsubscribed when `signal` aborts), or
// the promise or value as it is.
function settle<T>(result: Observable<T> | Promise<T> | T, signal: AbortSignal): Promise<T> | T {
  if (!isObservable(result)) return result;
  const source = result as Observable<T>;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const subscription = source.subscribe({
      next: (value) => {
        if (done) return;
        done = true;
        resolve(value);
        queueMicrotask(() => subscription.unsubscribe());
      },
      error: (error: unknown) => reject(error),
      complete: () => {
        if (!done) reject(new Error('notifierd-client: the load Observable completed without a value'));
      },
    });
    signal.addEventListener('abort', () => subscription.unsubscribe(), { once: true });
  });
}
