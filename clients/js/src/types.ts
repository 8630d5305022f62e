// SPDX-License-Identifier: MIT
// The wire types of notifier protocol v1 (docs/protocol.md) and the
// client's own public types.

/** One change, as the server sends it. `id` and `data` are absent when the
 * notification has none. `T` is what the app expects in `data` (the client
 * does not check it): `client.on<Post>('posts', (n) => n.data.title)`. A
 * collection whose notifications may come without data (deletes, or
 * `data_omitted`) is better typed `on<Post | undefined>`. */
export interface Notification<T = unknown> {
  seq: number;
  collection: string;
  action: string;
  id?: string;
  data: T;
  /** true when the change's data was too large to send (a database change
   * source's limit): re-fetch the record. */
  data_omitted?: boolean;
  /** The record before an update or a delete, when the publisher sent it
   * (a JSON object; typed like `data`, not checked). A filtered
   * subscription also delivers a change whose `old` matches, so that a
   * record that left the filter can be removed from a view. */
  old?: T;
}

/** `connecting`: first attempt; `live`: welcomed, notifications flow;
 * `reconnecting`: the connection was lost and is being re-established;
 * `closed`: close() was called, or the server refused the client's token or
 * subscriptions (an error event says which; setToken() or connect() starts
 * again). */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** The server could not resume: state built from notifications may be stale
 * and must be reloaded from the source of truth. Notifications with seq >
 * `seq` follow. */
export interface ResyncEvent {
  epoch: string;
  seq: number;
}

/** A position in the server's stream, for resuming later. */
export interface Cursor {
  epoch: string;
  seq: number;
}

/** An error event: the server refused one of the client's frames (an error
 * frame), refused the connection (`closeCode` 4401 or 4403, with the code
 * and message of the error frame before the close), closed it because the
 * token expired (`token_expired`, 4001), or the connection attempts keep
 * failing before the server says anything (`handshake_failed`). */
export interface ServerError {
  code: string;
  message: string;
  /** The WebSocket close code, when the error ended the connection. */
  closeCode?: number;
  /** The entries of the subscribe frame this error refused (canonical
   * form); they stay unsubscribed until the app subscribes to them again. */
  entries?: string[];
}

/** The server confirmed an entry on the current connection: every
 * notification matching it with a seq above `seq` is delivered from now on
 * (until the connection is lost; a resumed connection continues the same
 * stream). Load a snapshot of what the entry covers after this. */
export interface SubscribedEvent {
  /** The entry, in canonical form. */
  entry: string;
  seq: number;
}

/** The subset of the WebSocket API the client uses: browsers' WebSocket and
 * Node's `ws` both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  // The event types differ between implementations; only `data`, `code` and
  // `reason` are read.
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The subset of the EventSource API the client uses for the /sse stream:
 * browsers' EventSource and the `eventsource` package both fit. */
export interface EventSourceLike {
  // Only `data` is read from the events.
  addEventListener(type: string, listener: (event: any) => void): void;
  close(): void;
}

export type EventSourceConstructor = new (url: string) => EventSourceLike;

/** How the client reaches the hub: `websocket` (`/ws`), `sse` (`/sse`,
 * Server-Sent Events: for networks that break WebSocket upgrades), or
 * `auto`: WebSocket, and the stream for good once WebSocket attempts keep
 * failing while plain HTTP to the hub works (see NotifierClientOptions). */
export type Transport = 'auto' | 'websocket' | 'sse';

/** Server → client frames other than notifications. */
export type ControlFrame =
  | { type: 'welcome'; epoch: string; seq: number; resumed: boolean; protocol?: number }
  | { type: 'resync'; epoch: string; seq: number }
  | { type: 'subscribed'; collections: string[]; seq?: number; ref?: Ref }
  | { type: 'authenticated'; exp: number; ref?: Ref }
  | { type: 'pong'; ref?: Ref }
  | { type: 'error'; code: string; message: string; ref?: Ref };

/** A frame's `ref`, echoed by its answer (docs/protocol.md, "Request
 * references"). The client sends integers. */
export type Ref = number | string;
