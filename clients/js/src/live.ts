// SPDX-License-Identifier: MIT
// live(): a snapshot loaded by the app plus the changes that follow it,
// without the race between the two. The subscription is confirmed by the
// server first (docs/protocol.md: subscribing mid-stream replays nothing,
// so a snapshot loaded before that answer could miss a change); then the
// snapshot is loaded; every matching notification that arrives during or
// after the load is applied, by loading again or by the app's patch.

import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { NotifierClient } from './client.js';
import { Listeners, type Listener } from './listeners.js';
import { canonicalEntry } from './topics.js';
import type { Notification, ServerError } from './types.js';

/** `loading`: before the first snapshot; `live`: a snapshot is loaded and
 * kept up to date; `error`: the last load (or patch) failed and a retry is
 * due, or the server refused the subscription (`error` says which). */
export type LiveStatus = 'loading' | 'live' | 'error';

/** What a live query holds at one moment; a new object on every change. */
export interface LiveSnapshot<T> {
  /** The last snapshot (patched), `undefined` before the first load. It is
   * kept while a reload runs and after a failure. */
  readonly data: T | undefined;
  readonly status: LiveStatus;
  /** Why the status is `error`: what load() or apply() threw, or the
   * ServerError that refused the subscription. */
  readonly error: unknown;
}

export interface LiveOptions<T, R = unknown> {
  /**
   * Patches the data with one notification and returns the new data (a new
   * object, for React and Angular to see the change). Without it, every
   * matching notification loads the data again (coalesced: one load at a
   * time, and notifications during a load cause exactly one more).
   *
   * With it, notifications that arrive while a load runs are applied to
   * its result, in order, once it completes. The load may or may not
   * already reflect them (it ran after the subscription was confirmed, while
   * they happened), so a patch should be idempotent: an upsert by id, a
   * removal by id; not "count + 1". A patch that throws is reported and the
   * data is loaded again.
   */
  apply?: (data: T, notification: Notification<R>) => T;
  /** Delays between retries of a failed load (default: the client's
   * reconnect defaults, 250 ms doubling to 10 s, with jitter). A matching
   * notification or a resync retries at once. */
  retry?: BackoffOptions;
  /** Called with each failure (load, patch, or the subscription refused).
   * Without it, failures are logged with console.warn. */
  onError?: (error: unknown) => void;
}

/** The handle of a live query. */
export interface LiveQuery<T> extends LiveSnapshot<T> {
  /** The entry, in canonical form. */
  readonly topic: string;
  /** The current data, status and error as one object (a new one on every
   * change: usable with React's useSyncExternalStore). */
  readonly snapshot: LiveSnapshot<T>;
  /** Calls `listener` after every change with the new snapshot. */
  onChange(listener: Listener<LiveSnapshot<T>>): () => void;
  /** Loads the data again (coalesced with a load in progress). */
  reload(): void;
  /** Stops: aborts a running load's signal, removes the handlers and
   * releases the subscription (the connection drops it once nothing else
   * uses the entry). */
  close(): void;
}

/** What live() needs of a client. */
export type LiveClient = Pick<NotifierClient, 'on' | 'onSubscribed' | 'onResync' | 'onError'>;

/**
 * A live query: `load()` (the app's own request for the current state of
 * what `topic` covers) once the server has confirmed the subscription, and
 * the changes that follow, applied by loading again or with
 * `options.apply`. After a resync (the server could not resume, so changes
 * may have been missed) it loads again; after a resumed reconnect it does
 * not (nothing was missed).
 *
 *     const posts = live(client, where('posts', { forum_id: 7 }), (signal) =>
 *       fetch('/api/posts?forum=7', { signal }).then((r) => r.json()));
 *     posts.onChange(({ data, status }) => render(data, status));
 *     …
 *     posts.close();
 *
 * A failed load sets the status to `error` (data keeps the last snapshot)
 * and is retried after a growing delay, or at once when a matching
 * notification or a resync arrives. A refused subscription (an error event
 * naming the topic: forbidden, invalid_name, too_many_subscriptions) sets
 * the status to `error` and is not retried: a new live() of the topic, or
 * anything else subscribing to it, asks the server again, and this query
 * then loads too. Connection problems are not errors of the query: see the
 * client's state.
 *
 * `signal` is aborted by close(). `T` is the data, `R` the notifications'
 * `data` (for `apply`; not checked).
 */
export function live<T, R = unknown>(
  client: LiveClient,
  topic: string,
  load: (signal: AbortSignal) => Promise<T> | T,
  options: LiveOptions<T, R> = {},
): LiveQuery<T> {
  return new LiveQueryImpl<T, R>(client, topic, load, options);
}

class LiveQueryImpl<T, R> implements LiveQuery<T> {
  readonly topic: string;
  readonly #load: (signal: AbortSignal) => Promise<T> | T;
  readonly #options: LiveOptions<T, R>;
  readonly #controller = new AbortController();
  readonly #listeners = new Listeners<LiveSnapshot<T>>();
  readonly #undo: Array<() => void> = [];

  #snapshot: LiveSnapshot<T> = Object.freeze({ data: undefined, status: 'loading' as LiveStatus, error: undefined });
  #closed = false;
  // The server confirmed the topic (and has not refused it since).
  #subscribed = false;
  #loading = false;
  // Load again once the running load completes.
  #again = false;
  // With apply: the notifications received while the current load runs.
  #buffer: Array<Notification<R>> = [];
  #failures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(client: LiveClient, topic: string, load: (signal: AbortSignal) => Promise<T> | T, options: LiveOptions<T, R>) {
    this.topic = canonicalEntry(topic);
    this.#load = load;
    this.#options = { ...options };
    this.#undo.push(
      client.onError((e) => this.#refused(e)),
      client.onResync(() => this.#subscribed && this.#request()),
      client.on<R>(this.topic, (n) => this.#notified(n)),
      // Last: it may call back at once, starting the first load.
      client.onSubscribed(this.topic, () => {
        if (this.#subscribed) return; // a resumed connection: nothing was missed
        this.#subscribed = true;
        this.#request();
      }),
    );
  }

  get snapshot(): LiveSnapshot<T> {
    return this.#snapshot;
  }

  get data(): T | undefined {
    return this.#snapshot.data;
  }

  get status(): LiveStatus {
    return this.#snapshot.status;
  }

  get error(): unknown {
    return this.#snapshot.error;
  }

  onChange(listener: Listener<LiveSnapshot<T>>): () => void {
    return this.#listeners.add(listener);
  }

  reload(): void {
    if (this.#subscribed) this.#request();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#controller.abort();
    for (const undo of this.#undo.splice(0)) undo();
  }

  #notified(n: Notification<R>): void {
    if (this.#closed || !this.#subscribed) return; // before the load: it will reflect it
    const apply = this.#options.apply;
    if (apply && this.#loading) {
      this.#buffer.push(n); // applied to the load's result
    } else if (!apply || this.#snapshot.status === 'error' || this.#snapshot.data === undefined) {
      this.#request();
    } else {
      try {
        this.#set({ data: apply(this.#snapshot.data, n), status: 'live', error: undefined });
      } catch (error) {
        this.#report(error);
        this.#request();
      }
    }
  }

  #refused(e: ServerError): void {
    if (this.#closed || !e.entries?.includes(this.topic)) return;
    this.#subscribed = false;
    clearTimeout(this.#retryTimer);
    this.#report(e);
    this.#set({ data: this.#snapshot.data, status: 'error', error: e });
  }

  // Loads now, or once more after the running load.
  #request(): void {
    if (this.#closed) return;
    if (this.#loading) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#run();
  }

  async #run(): Promise<void> {
    this.#loading = true;
    try {
      do {
        this.#again = false;
        this.#buffer = [];
        let data: T;
        try {
          data = await this.#load(this.#controller.signal);
        } catch (error) {
          if (this.#closed) return;
          this.#report(error);
          this.#set({ data: this.#snapshot.data, status: 'error', error });
          const delay = backoffDelay(this.#failures++, this.#options.retry);
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            if (this.#subscribed) this.#request();
          }, delay);
          return;
        }
        if (this.#closed) return;
        this.#failures = 0;
        const apply = this.#options.apply;
        const buffered = this.#buffer;
        this.#buffer = [];
        try {
          if (apply) for (const n of buffered) data = apply(data, n);
        } catch (error) {
          this.#report(error);
          this.#again = true;
        }
        // (A subscription refused meanwhile keeps its error.)
        if (this.#subscribed) this.#set({ data, status: 'live', error: undefined });
        else this.#set({ ...this.#snapshot, data });
      } while (this.#again && !this.#closed);
    } finally {
      this.#loading = false;
    }
  }

  #report(error: unknown): void {
    const onError = this.#options.onError;
    if (!onError) {
      console.warn(`notifierd-client: live(${this.topic}):`, error);
      return;
    }
    try {
      onError(error);
    } catch (e) {
      console.error('notifierd-client: an onError callback threw', e);
    }
  }

  #set(snapshot: LiveSnapshot<T>): void {
    if (this.#closed) return;
    this.#snapshot = Object.freeze({ ...snapshot });
    this.#listeners.emit(this.#snapshot);
  }
}
