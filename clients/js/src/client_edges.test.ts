// SPDX-License-Identifier: MIT
// The client at the edges: refused subscriptions, an empty set on resume, a
// connection lost between welcome and resync, shared handlers, a token that
// never comes or expires. Against a real notifierd.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, afterEach, describe, it } from 'node:test';

import WebSocket from 'ws';

import type { NotifierClient, NotifierClientOptions } from './client.js';
import { client as fixtureClient, closeClients, server, serverSet, state, stopServers } from './testing/fixtures.js';
import { type Notifierd, waitFor } from './testing/notifierd.js';
import type { Notification, ResyncEvent, ServerError, WebSocketConstructor } from './types.js';

afterEach(closeClients);
after(stopServers);

// ws, remembering its sockets so a test can cut the network.
const sockets: WebSocket[] = [];
class TrackedWS extends WebSocket {
  constructor(url: string) {
    super(url);
    sockets.push(this);
  }
}

const client = (s: Notifierd, options: Partial<NotifierClientOptions> = {}): NotifierClient =>
  fixtureClient(s, { WebSocket: TrackedWS as unknown as WebSocketConstructor, ...options });
const cutNetwork = () => sockets[sockets.length - 1]!.terminate();

/** An HS256 token. */
function sign(secret: string, payload: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

describe('client edges', () => {
  it('a subscription the server refused does not block every later reconnect', async () => {
    const s = await server(['--max-subscriptions', '2']);
    const c = client(s, { collections: ['a'] });
    await state(c, 'live');
    const error = waitFor((cb) => c.onError(cb), () => true, 'error frame');
    c.subscribe('b', 'c');
    await error; // too_many_subscriptions: the server's set is still ['a']
    cutNetwork();
    await state(c, 'reconnecting');
    // Every attempt now asks for collections=a,b,c: HTTP 400, forever.
    await state(c, 'live', 2000);
  });

  it('an empty subscription set does not receive the resume replay of everything', async () => {
    const s = await server();
    const c = client(s);
    const got: Notification[] = [];
    c.onNotification((n) => got.push(n));
    await state(c, 'live');
    await serverSet(c, []);
    c.close();
    await s.publish([{ collection: 'x', action: 'a' }, { collection: 'y', action: 'a' }]);
    c.connect(); // resumes with since=0 and no collections
    await state(c, 'live');
    await serverSet(c, []);
    // A barrier: z is published after x and y, which a resume would replay first.
    c.subscribe('z');
    await serverSet(c, ['z']);
    const z = waitFor<Notification>((cb) => c.onNotification(cb), (n) => n.collection === 'z', 'z');
    await s.publish({ collection: 'z', action: 'a' });
    await z;
    assert.deepEqual(got.map((n) => n.collection), ['z'], 'only what was subscribed');
  });

  it('a connection lost between welcome(resumed:false) and resync still raises resync', async () => {
    const s = await server();
    await s.publish([{ collection: 'r', action: 'a' }]);
    // Drop the connection right after a welcome that refused the resume
    // (the resync frame that follows is lost with it).
    let cut = false;
    class CutAfterWelcome extends TrackedWS {
      constructor(url: string) {
        super(url);
        const resuming = url.includes('since=');
        const original = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage')!;
        let handler: ((e: { data: unknown }) => void) | null = null;
        original.set!.call(this, (e: { data: unknown }) => {
          if (cut && this === sockets[0]) return; // after the cut nothing more arrives
          handler?.(e);
          const f = JSON.parse(String(e.data));
          if (resuming && !cut && f.type === 'welcome' && f.resumed === false) {
            cut = true;
            this.terminate();
          }
        });
        Object.defineProperty(this, 'onmessage', { get: () => handler, set: (h) => { handler = h; } });
      }
    }
    sockets.length = 0;
    const c = client(s, {
      collections: ['r'],
      resume: { epoch: 'an-epoch-that-is-gone', seq: 40 },
      WebSocket: CutAfterWelcome as unknown as WebSocketConstructor,
    });
    const resynced = waitFor<ResyncEvent>((cb) => c.onResync(cb), () => true, 'resync', 5000);
    await resynced; // raised by the second connection, after the first was cut
    assert.ok(cut, 'the first connection was cut after its welcome');
  });

  it('the same handler registered twice survives one off()', async () => {
    const s = await server();
    const c = client(s);
    const got: Notification[] = [];
    const h = (n: Notification) => got.push(n);
    c.on('f', h);        // component A
    const offB = c.on('f', h); // component B, same (shared) callback
    offB();
    // Registered after h: when it runs, h has run.
    const later = waitFor<Notification>((cb) => c.on('f', cb), () => true, 'f');
    await state(c, 'live');
    await serverSet(c, ['f']);
    await s.publish({ collection: 'f', action: 'a' });
    await later;
    assert.equal(got.length, 1, 'the handler component A registered still runs');
  });

  it('a token function that never settles is timed out', async () => {
    const s = await server();
    const c = client(s, { token: () => new Promise<string>(() => {}), connectTimeoutMs: 100 });
    await state(c, 'reconnecting', 1500);
  });

  it('setToken() on a live connection changes its rights without reconnecting', async () => {
    const secret = 'a-test-secret-of-enough-length-1234';
    const s = await server(['--jwt-secret', secret]);
    const exp = Math.floor(Date.now() / 1000) + 600;
    sockets.length = 0;
    const c = client(s, { token: sign(secret, { exp, notifier: { read: ['a', 'b'] } }), collections: ['a', 'b'] });
    const errors: ServerError[] = [];
    c.onError((e) => errors.push(e));
    const got: Notification[] = [];
    c.onNotification((n) => got.push(n));
    await state(c, 'live');
    await serverSet(c, ['a', 'b']);
    c.setToken(sign(secret, { exp, notifier: { read: ['a'] } }));
    await serverSet(c, ['a']); // the server dropped b
    assert.deepEqual(c.subscriptions, ['a', 'b']);
    const a = waitFor<Notification>((cb) => c.onNotification(cb), (n) => n.collection === 'a', 'a');
    await s.publish([{ collection: 'b', action: 'x' }, { collection: 'a', action: 'x' }]);
    await a;
    assert.deepEqual(got.map((n) => n.collection), ['a']);
    assert.deepEqual(errors, []);
    assert.equal(sockets.length, 1, 'the same connection');
  });

  it('a refused auth frame is an error event and the connection stays', async () => {
    const secret = 'a-test-secret-of-enough-length-1234';
    const s = await server(['--jwt-secret', secret]);
    const c = client(s, { token: sign(secret, { exp: Math.floor(Date.now() / 1000) + 600, notifier: { read: ['*'] } }) });
    await state(c, 'live');
    const error = waitFor<ServerError>((cb) => c.onError(cb), () => true, 'error');
    c.setToken('not-a-token');
    assert.equal((await error).code, 'invalid_token');
    assert.equal(c.state, 'live');
    c.subscribe('x');
    await serverSet(c, ['x']);
  });

  it('an expired static token is reported instead of retried forever', async () => {
    const secret = 'a-test-secret-of-enough-length-1234';
    const s = await server(['--jwt-secret', secret]);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: Math.floor(Date.now() / 1000) - 4, notifier: { read: ['*'] } })}`;
    const token = `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
    sockets.length = 0;
    const c = client(s, { token });
    const errors: unknown[] = [];
    c.onError((e) => errors.push(e));
    await state(c, 'live');
    await state(c, 'closed', 8000); // 4001 token expired after ~1 s
    assert.equal(c.state, 'closed', `still ${c.state} after ${sockets.length - 1} attempts`);
    assert.deepEqual(errors.map((e) => (e as { code: string }).code), ['token_expired']);
    assert.equal(sockets.length, 1, 'no attempt with the dead token');
  });
});
