// SPDX-License-Identifier: MIT
// RxJS adapters (rxjs is an optional peer dependency: import this module only
// where rxjs is installed). Unsubscribing from an observable releases the
// subscription it made on the connection.

import { Observable } from 'rxjs';

import type { NotifierClient } from './client.js';
import { live, type LiveClient, type LiveOptions, type LiveSnapshot } from './live.js';
import type { ConnectionState, Notification, ResyncEvent, ServerError } from './types.js';

/** Notifications matching `entry` ('forums', 'posts/7', '*'); `T` types
 * their `data`. */
export function fromCollection<T = unknown>(client: NotifierClient, entry: string): Observable<Notification<T>> {
  return new Observable<Notification<T>>((subscriber) => client.on<T>(entry, (n) => subscriber.next(n)));
}

/** The connection state, starting with the current one. */
export function connectionState(client: NotifierClient): Observable<ConnectionState> {
  return new Observable<ConnectionState>((subscriber) => client.onState((s) => subscriber.next(s)));
}

/** Resync events: reload what was built from notifications. */
export function resyncs(client: NotifierClient): Observable<ResyncEvent> {
  return new Observable<ResyncEvent>((subscriber) => client.onResync((e) => subscriber.next(e)));
}

/** Error events: refused frames, a refused connection (4401/4403), an
 * expired fixed token, attempts that keep failing. */
export function errors(client: NotifierClient): Observable<ServerError> {
  return new Observable<ServerError>((subscriber) => client.onError((e) => subscriber.next(e)));
}

/** A live query (see live()) as an observable of its snapshots, starting
 * with the current one (`loading`). Each subscriber gets its own query;
 * unsubscribing closes it. Share it (`shareReplay({ bufferSize: 1,
 * refCount: true })`) to load once for several subscribers. */
export function fromLive<T, R = unknown>(
  client: LiveClient,
  topic: string,
  load: (signal: AbortSignal) => Promise<T> | T,
  options?: LiveOptions<T, R>,
): Observable<LiveSnapshot<T>> {
  return new Observable<LiveSnapshot<T>>((subscriber) => {
    const query = live<T, R>(client, topic, load, options);
    const off = query.onChange((s) => subscriber.next(s));
    subscriber.next(query.snapshot);
    return () => {
      off();
      query.close();
    };
  });
}
