// SPDX-License-Identifier: MIT
// transport: 'auto' against a real notifierd (build/notifierd, or
// $NOTIFIERD) behind a TCP proxy that refuses WebSocket upgrades (as some
// corporate proxies do) and passes /sse, /healthz and /publish on.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';

import { live } from './live.js';
import { closeClients, server, sseClient, state, stopServers } from './testing/fixtures.js';
import { snapshot } from './testing/loads.js';
import { type Notifierd, waitFor } from './testing/notifierd.js';
import { Posts } from './testing/posts.js';
import { Proxy } from './testing/proxy.js';
import { note, Recorder } from './testing/recorder.js';
import type { ResyncEvent, ServerError } from './types.js';

const proxies: Proxy[] = [];
afterEach(async () => {
  closeClients();
  for (const p of proxies.splice(0)) await p.stop();
});
after(stopServers);

async function proxy(s: Notifierd, blockWebSocket: boolean): Promise<Proxy> {
  const p = await Proxy.start(s.port, { blockWebSocket });
  proxies.push(p);
  return p;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((res) => probe.listen(0, '127.0.0.1', res));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((res) => probe.close(() => res()));
  return port;
}

describe("transport 'auto'", () => {
  it('stays on the WebSocket while it works', async () => {
    const s = await server();
    const p = await proxy(s, false);
    const c = sseClient(p, { transport: 'auto' });
    const got = new Recorder();
    c.on('w', got.push);
    await state(c, 'live');
    await s.publish(note('w'));
    await got.until(1);
    assert.equal(c.transport, 'websocket');
  });

  it('moves to the event stream when upgrades are refused, and live() works there', async () => {
    const s = await server();
    const p = await proxy(s, true);
    const c = sseClient(p, { transport: 'auto', fallbackAfterAttempts: 3 });
    c.on('barrier', () => {});
    const db = new Posts(s);
    await db.put({ id: '1', forum_id: 7, title: 'first' });
    const q = live(c, 'posts[forum_id=7]', () => db.select(7));
    await snapshot(q, (x) => x.data?.length === 1, 'the first post');
    assert.equal(c.transport, 'sse');
    assert.equal(p.refusedUpgrades, 3);
    await db.put({ id: '2', forum_id: 7, title: 'second' });
    await snapshot(q, (x) => x.data?.length === 2, 'the second post');
    q.close();
  });

  it('resumes from its cursor when it moves, and stays on the stream', async () => {
    const s = await server();
    const p = await proxy(s, false);
    const c = sseClient(p, { transport: 'auto', collections: ['r'] });
    const got = new Recorder();
    const resyncs: ResyncEvent[] = [];
    c.onResync((e) => resyncs.push(e));
    c.onNotification(got.push);
    await state(c, 'live');
    assert.equal(c.transport, 'websocket');
    await s.publish([1, 2, 3].map((i) => note('r', i)));
    await got.until(3);
    // The network starts breaking upgrades; the connection drops.
    p.blockWebSocket = true;
    p.drop();
    await state(c, 'reconnecting');
    await s.publish([4, 5, 6].map((i) => note('r', i)));
    await got.until(6);
    assert.equal(c.transport, 'sse');
    assert.deepEqual(got.seqs, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(resyncs, []);
    // Upgrades work again: the client stays where it is.
    p.blockWebSocket = false;
    p.drop();
    await state(c, 'reconnecting');
    await state(c, 'live');
    await s.publish(note('r', 7));
    await got.until(7);
    assert.equal(c.transport, 'sse');
    assert.deepEqual(got.seqs, [1, 2, 3, 4, 5, 6, 7]);
  });

  it('keeps trying the WebSocket while the server does not answer HTTP either', async () => {
    const port = await closedPort();
    const c = sseClient({ url: `ws://127.0.0.1:${port}/ws` }, { transport: 'auto', fallbackAfterAttempts: 2, failedAttemptsBeforeError: 6 });
    const error = await waitFor<ServerError>((cb) => c.onError(cb), () => true, 'handshake_failed');
    assert.equal(error.code, 'handshake_failed');
    assert.equal(c.transport, 'websocket');
    assert.equal(c.state, 'reconnecting');
  });
});
