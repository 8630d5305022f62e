// RxJS adapters (rxjs is an optional peer dependency: import this module only
// where rxjs is installed). Unsubscribing from an observable releases the
// subscription it made on the connection.

import { Observable } from 'rxjs';

import type { NotifierClient } from './client.js';
import type { ConnectionState, Notification, ResyncEvent } from './types.js';

/** Notifications matching `entry` ('forums', 'posts/7', '*'). */
export function fromCollection(client: NotifierClient, entry: string): Observable<Notification> {
  return new Observable<Notification>((subscriber) => client.on(entry, (n) => subscriber.next(n)));
}

/** The connection state, starting with the current one. */
export function connectionState(client: NotifierClient): Observable<ConnectionState> {
  return new Observable<ConnectionState>((subscriber) => client.onState((s) => subscriber.next(s)));
}

/** Resync events: reload what was built from notifications. */
export function resyncs(client: NotifierClient): Observable<ResyncEvent> {
  return new Observable<ResyncEvent>((subscriber) => client.onResync((e) => subscriber.next(e)));
}
