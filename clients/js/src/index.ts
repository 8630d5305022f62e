// SPDX-License-Identifier: MIT
// notifierd-client: real-time change notifications from a notifier hub.

export { NotifierClient, type NotifierClientOptions } from './client.js';
export { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
export { checkEntry, matches } from './topics.js';
export { tokenExpiry, type TokenSource } from './token.js';
export type {
  ConnectionState,
  Cursor,
  Notification,
  ResyncEvent,
  ServerError,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
export type { Listener } from './listeners.js';
