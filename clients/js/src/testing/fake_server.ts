// SPDX-License-Identifier: MIT
// Test support: a scripted WebSocket server on 127.0.0.1 (Node's `ws`), for
// what a real notifierd cannot be made to do on demand: refuse a connection
// after the upgrade (an error frame, then close 4401/4403), refuse the
// upgrade itself (HTTP 403), answer auth frames as told.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import WebSocket, { WebSocketServer } from 'ws';

import { NotifierClient, type NotifierClientOptions } from '../client.js';
import type { WebSocketConstructor } from '../types.js';
import { waitFor } from './notifierd.js';

/** One accepted connection: its URL, the frames it sent, and what the test
 * makes the server do. */
export class FakeConnection {
  readonly socket: WebSocket;
  readonly url: URL;
  readonly frames: Array<Record<string, unknown>> = [];
  readonly #frameListeners = new Set<() => void>();
  closed = false;

  constructor(socket: WebSocket, request: IncomingMessage) {
    this.socket = socket;
    this.url = new URL(request.url ?? '/', 'ws://127.0.0.1');
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Record<string, unknown>);
      for (const l of [...this.#frameListeners]) l();
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  /** The `token` query parameter the client connected with. */
  get token(): string | null {
    return this.url.searchParams.get('token');
  }

  send(frame: object): void {
    this.socket.send(JSON.stringify(frame));
  }

  welcome(seq = 0, epoch = 'e1', resumed = false): void {
    this.send({ type: 'welcome', epoch, seq, resumed });
  }

  /** Refuses the connection as notifierd does after the upgrade: one error
   * frame, then the close code. */
  refuse(closeCode: 4401 | 4403, code: string, message: string): void {
    this.send({ type: 'error', code, message });
    this.socket.close(closeCode, code);
  }

  /** Waits for the first frame of `type` sent from `from` on (an index
   * into frames). */
  frame(type: string, from = 0, ms?: number): Promise<Record<string, unknown>> {
    const find = () => this.frames.slice(from).find((f) => f.type === type);
    return waitFor<Record<string, unknown> | undefined>(
      (cb) => {
        const l = () => cb(find());
        this.#frameListeners.add(l);
        l();
        return () => this.#frameListeners.delete(l);
      },
      (f) => f !== undefined,
      `a ${type} frame`,
      ms,
    ) as Promise<Record<string, unknown>>;
  }
}

export class FakeServer {
  readonly connections: FakeConnection[] = [];
  /** What happens to each new connection: by default a welcome. */
  onConnection: (c: FakeConnection) => void = (c) => c.welcome();
  /** When set, upgrades are refused with this HTTP status (what a browser
   * reports as close 1006 and nothing else). */
  rejectUpgrade: number | null = null;
  /** Upgrade requests refused so far. */
  rejected = 0;

  readonly #http: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #listeners = new Set<() => void>();

  private constructor(http: Server) {
    this.#http = http;
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {}); // a client that gave up resets it
      if (this.rejectUpgrade !== null) {
        this.rejected++;
        socket.end(`HTTP/1.1 ${this.rejectUpgrade} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        this.#changed();
        return;
      }
      this.#wss.handleUpgrade(request, socket, head, (ws) => {
        const c = new FakeConnection(ws, request);
        this.connections.push(c);
        this.onConnection(c);
        this.#changed();
      });
    });
  }

  static async start(): Promise<FakeServer> {
    const http = createServer((_, res) => res.writeHead(426).end());
    await new Promise<void>((res) => http.listen(0, '127.0.0.1', res));
    return new FakeServer(http);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#http.address() as AddressInfo).port}/ws`;
  }

  /** Waits until `n` connections were accepted; returns the n-th. */
  async connection(n: number, ms?: number): Promise<FakeConnection> {
    await this.#until(() => this.connections.length >= n, `${n} connections`, ms);
    return this.connections[n - 1]!;
  }

  /** Waits until `n` upgrades were refused. */
  async rejections(n: number, ms?: number): Promise<void> {
    await this.#until(() => this.rejected >= n, `${n} refused upgrades`, ms);
  }

  async stop(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    this.#http.closeAllConnections();
    await new Promise<void>((res) => this.#http.close(() => res()));
  }

  #until(predicate: () => boolean, what: string, ms?: number): Promise<boolean> {
    return waitFor<boolean>(
      (cb) => {
        const l = () => cb(predicate());
        this.#listeners.add(l);
        l();
        return () => this.#listeners.delete(l);
      },
      (ok) => ok,
      what,
      ms,
    );
  }

  #changed(): void {
    for (const l of [...this.#listeners]) l();
  }
}

const servers: FakeServer[] = [];
const clients: NotifierClient[] = [];

/** A fake server, stopped by cleanUp(). */
export async function fakeServer(): Promise<FakeServer> {
  const s = await FakeServer.start();
  servers.push(s);
  return s;
}

/** A client of `s` on Node's `ws` with fast reconnects, closed by cleanUp(). */
export function fakeClient(s: FakeServer, options: Partial<NotifierClientOptions> = {}): NotifierClient {
  const c = new NotifierClient({
    url: s.url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { initialDelayMs: 10, maxDelayMs: 40 },
    ...options,
  });
  clients.push(c);
  return c;
}

/** For afterEach: closes the clients and stops the servers. */
export async function cleanUp(): Promise<void> {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.stop();
}

export const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** A JWT with this payload; the signature is not valid (the client does not
 * check it, the fake server neither). */
export function unsignedJwt(payload: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}.c2lnbmF0dXJl`;
}
