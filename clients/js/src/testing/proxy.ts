// SPDX-License-Identifier: MIT
// Test support: a TCP proxy in front of a notifierd, standing for the
// networks that break WebSocket upgrades. It reads each connection's first
// request head: a WebSocket upgrade is refused (403) while `blockWebSocket`
// is set, anything else is passed on byte for byte. The test can cut every
// connection (a network drop) and hold what the server sends (a reader that
// stalls, until the server's queue limit closes the stream with 4008).

import { createServer, connect, type Server, type Socket } from 'node:net';

import { withTimeout } from './notifierd.js';

export class Proxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  blockWebSocket: boolean;
  #held = false;
  /** Upgrades refused so far. */
  refusedUpgrades = 0;
  port = 0;

  private constructor(upstreamPort: number, blockWebSocket: boolean) {
    this.blockWebSocket = blockWebSocket;
    this.#server = createServer((client) => this.#accept(client, upstreamPort));
  }

  static async start(upstreamPort: number, { blockWebSocket = true } = {}): Promise<Proxy> {
    const proxy = new Proxy(upstreamPort, blockWebSocket);
    await withTimeout(new Promise<void>((res) => proxy.#server.listen(0, '127.0.0.1', res)), 'the proxy to listen');
    proxy.port = (proxy.#server.address() as { port: number }).port;
    return proxy;
  }

  /** The proxy's WebSocket URL (as a Notifierd's `url`). */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Cuts every connection, as a network outage would. */
  drop(): void {
    for (const [client, upstream] of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  /** Stops reading from the server (its sends pile up), or starts again. */
  hold(held: boolean): void {
    this.#held = held;
    for (const [client, upstream] of this.#pairs) {
      if (held) {
        upstream.unpipe(client);
        upstream.pause();
      } else {
        upstream.pipe(client);
      }
    }
  }

  async stop(): Promise<void> {
    this.drop();
    await new Promise<void>((res) => this.#server.close(() => res()));
  }

  #accept(client: Socket, upstreamPort: number): void {
    let head = Buffer.alloc(0);
    client.on('error', () => client.destroy());
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      client.pause();
      const text = head.subarray(0, end).toString('latin1');
      if (this.blockWebSocket && /^upgrade:\s*websocket\s*$/im.test(text)) {
        this.refusedUpgrades++;
        client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const upstream = connect(upstreamPort, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      this.#pairs.add(pair);
      const close = () => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', close);
      upstream.on('close', close);
      client.on('close', close);
      upstream.write(head);
      client.pipe(upstream);
      if (this.#held) upstream.pause();
      else upstream.pipe(client);
      client.resume();
    };
    client.on('data', onData);
  }
}
