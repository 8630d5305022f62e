// The wire types of notifier protocol v1 (docs/protocol.md) and the
// client's own public types.

/** One change, as the server sends it. `id` and `data` are absent when the
 * notification has none. */
export interface Notification {
  seq: number;
  collection: string;
  action: string;
  id?: string;
  data?: unknown;
  /** true when the change's data was too large to send (a database change
   * source's limit): re-fetch the record. */
  data_omitted?: boolean;
}

/** `connecting`: first attempt; `live`: welcomed, notifications flow;
 * `reconnecting`: the connection was lost and is being re-established;
 * `closed`: close() was called. */
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

/** An error frame: the server refused one of our frames. */
export interface ServerError {
  code: string;
  message: string;
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

/** Server → client frames other than notifications. */
export type ControlFrame =
  | { type: 'welcome'; epoch: string; seq: number; resumed: boolean }
  | { type: 'resync'; epoch: string; seq: number }
  | { type: 'subscribed'; collections: string[] }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string };
