// SPDX-License-Identifier: MIT
// notifierd-client: real-time change notifications from a notifier hub.

export { NotifierClient, type NotifierClientOptions } from './client.js';
export { live, type LiveClient, type LiveOptions, type LiveQuery, type LiveSnapshot, type LiveStatus } from './live.js';
export { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
export {
  canonicalEntry,
  checkEntry,
  matches,
  parseTopic,
  where,
  type Condition,
  type Conditions,
  type FilterValue,
  type Topic,
} from './topics.js';
export { tokenExpiry, type TokenSource } from './token.js';
export type {
  ConnectionState,
  Cursor,
  EventSourceConstructor,
  EventSourceLike,
  Notification,
  ResyncEvent,
  ServerError,
  SubscribedEvent,
  Transport,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
export type { Listener } from './listeners.js';
