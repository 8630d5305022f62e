// SPDX-License-Identifier: MIT
// What the client tests share: servers and clients they start (and stop
// after each test), and waits on a client's state and server-side set.

import { EventSource, type EventSourceInit } from 'eventsource';
import WebSocket from 'ws';

import { NotifierClient, type NotifierClientOptions } from '../client.js';
import type { ConnectionState, WebSocketConstructor } from '../types.js';
import { Notifierd, type TlsTrust, waitFor } from './notifierd.js';

const clients: NotifierClient[] = [];
const servers: Notifierd[] = [];

/** For afterEach: closes the clients the test made. */
export function closeClients(): void {
  for (const c of clients.splice(0)) c.close();
}

/** For after: stops the servers the file started. */
export async function stopServers(): Promise<void> {
  for (const s of servers.splice(0)) await s.stop();
}

export async function server(args: string[] = [], port = 0, trust?: TlsTrust): Promise<Notifierd> {
  const s = await Notifierd.start(args, port, trust);
  servers.push(s);
  return s;
}

/** A client of `s` with fast reconnects, on Node's `ws` unless told otherwise. */
export function client(s: Notifierd, options: Partial<NotifierClientOptions> = {}): NotifierClient {
  const c = new NotifierClient({
    url: s.url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...options,
  });
  clients.push(c);
  return c;
}

/**
 * The `eventsource` package's EventSource, each stream on a connection of
 * its own. notifierd closes the connection after a stream's `close` event
 * without announcing it (no `Connection: close` in the stream's head), and
 * Node's fetch may put that connection back in its pool when the body ends
 * and send the next request on it, which then fails ("other side closed"):
 * one more failed attempt after each refusal, 4008 or shutdown. (Browsers
 * retry a request that fails on a reused connection.)
 */
export class TestEventSource extends EventSource {
  constructor(url: string | URL, init: EventSourceInit = {}) {
    super(url, {
      fetch: (input, options) => fetch(input, { ...options, headers: { ...options.headers, Connection: 'close' } }),
      ...init,
    });
  }
}

/** A client of `s` on the event stream (/sse), through the `eventsource`
 * package; `transport` may be overridden (`auto`, with a WebSocket too). */
export function sseClient(s: { url: string }, options: Partial<NotifierClientOptions> = {}): NotifierClient {
  const c = new NotifierClient({
    url: s.url,
    transport: 'sse',
    EventSource: TestEventSource,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...options,
  });
  clients.push(c);
  return c;
}

export function state(c: NotifierClient, wanted: ConnectionState, ms?: number): Promise<ConnectionState> {
  return waitFor((cb) => c.onState(cb), (s) => s === wanted, `state ${wanted}`, ms);
}

/** Waits until the server confirmed exactly `wanted`. */
export function serverSet(c: NotifierClient, wanted: string[]): Promise<string[]> {
  return waitFor(
    (cb) => {
      const undo = c.onSubscriptions(cb);
      cb(c.serverSubscriptions);
      return undo;
    },
    (set) => JSON.stringify(set) === JSON.stringify(wanted),
    `the server to confirm ${JSON.stringify(wanted)}`,
  );
}
