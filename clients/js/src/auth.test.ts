// SPDX-License-Identifier: MIT
// Tokens on an open connection, against a scripted server: setToken() sends
// an auth frame, subscriptions wait for its answer, entries the new token
// drops stay dropped, and a token function refreshes the token before its
// exp.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { serverSet, state } from './testing/fixtures.js';
import { cleanUp, type FakeConnection, fakeClient, fakeServer, sleep, unsignedJwt } from './testing/fake_server.js';
import { waitFor } from './testing/notifierd.js';
import { tokenExpiry } from './token.js';
import type { ServerError } from './types.js';

afterEach(cleanUp);

/** Answers subscribe/unsubscribe frames like notifierd (the full set). */
function answerSubscriptions(c: FakeConnection, initial: string[]): { set: Set<string> } {
  const held = { set: new Set(initial) };
  c.socket.on('message', (data) => {
    const f = JSON.parse(String(data)) as { type: string; collections?: string[] };
    if (f.type === 'subscribe') f.collections!.forEach((e) => held.set.add(e));
    else if (f.type === 'unsubscribe') f.collections!.forEach((e) => held.set.delete(e));
    else return;
    c.send({ type: 'subscribed', collections: [...held.set].sort() });
  });
  return held;
}

describe('setToken on a live connection', () => {
  it('sends an auth frame, and later connections use the new token', async () => {
    const s = await fakeServer();
    const c = fakeClient(s, { token: 'first' });
    await state(c, 'live');
    const conn = await s.connection(1);
    c.setToken('second');
    assert.deepEqual(await conn.frame('auth'), { type: 'auth', token: 'second' });
    conn.send({ type: 'authenticated', exp: 0 });
    conn.socket.terminate();
    assert.equal((await s.connection(2)).token, 'second');
  });

  it('a refused auth frame is an error event; the connection stays', async () => {
    const s = await fakeServer();
    const c = fakeClient(s, { token: 'first' });
    await state(c, 'live');
    const conn = await s.connection(1);
    const error = waitFor<ServerError>((cb) => c.onError(cb), () => true, 'error');
    c.setToken('bad');
    await conn.frame('auth');
    conn.send({ type: 'error', code: 'invalid_signature', message: 'the signature does not verify' });
    assert.deepEqual(await error, { code: 'invalid_signature', message: 'the signature does not verify' });
    assert.equal(c.state, 'live');
    // Subscriptions held back meanwhile still go out.
    answerSubscriptions(conn, []);
    c.subscribe('x');
    await serverSet(c, ['x']);
  });

  it('keeps entries the new token dropped out, and tells them from the answer to a subscribe', async () => {
    const s = await fakeServer();
    const c = fakeClient(s, { token: 'all', collections: ['a', 'b'] });
    await state(c, 'live');
    const conn = await s.connection(1);
    c.setToken('only-a-and-c');
    await conn.frame('auth');
    c.subscribe('c'); // sent before the auth answer arrives
    await conn.frame('subscribe');
    // notifierd answers in order: the auth (the new token covers a and c, b
    // is dropped), then the subscribe.
    conn.send({ type: 'authenticated', exp: 0 });
    conn.send({ type: 'subscribed', collections: ['a'] });
    conn.send({ type: 'subscribed', collections: ['a', 'c'] });
    await serverSet(c, ['a', 'c']);
    assert.deepEqual(c.subscriptions, ['a', 'b', 'c'], 'the app still wants b');
    await sleep(50);
    assert.deepEqual(conn.frames.filter((f) => f.type === 'subscribe'), [{ type: 'subscribe', collections: ['c'] }],
      'b is not asked for again');
    // b stays out of the next URL, where it would fail the whole upgrade.
    conn.socket.terminate();
    assert.equal((await s.connection(2)).url.searchParams.get('collections'), 'a,c');
  });

  it('an authenticated without a dropped set leaves the subscriptions alone', async () => {
    const s = await fakeServer();
    const c = fakeClient(s, { token: 'all', collections: ['a'] });
    await state(c, 'live');
    const conn = await s.connection(1);
    c.setToken('more');
    await conn.frame('auth');
    conn.send({ type: 'authenticated', exp: 0 });
    answerSubscriptions(conn, ['a']);
    c.subscribe('b');
    await serverSet(c, ['a', 'b']);
  });
});

describe('token refresh', () => {
  const inSeconds = (s: number) => Date.now() / 1000 + s;

  it('a token function replaces the token before its exp, again after each authenticated', async () => {
    const s = await fakeServer();
    const issued: string[] = [];
    const c = fakeClient(s, {
      token: () => {
        // 2 s of life: refreshed after half of it (30 s before would be now).
        const t = unsignedJwt({ exp: inSeconds(2), n: issued.length });
        issued.push(t);
        return t;
      },
    });
    await state(c, 'live');
    const conn = await s.connection(1);
    const started = Date.now();
    const first = await conn.frame('auth', 0, 3000);
    const waited = Date.now() - started;
    assert.ok(waited > 700 && waited < 1900, `refreshed after ${waited} ms`);
    assert.equal(first.token, issued[1]);
    conn.send({ type: 'authenticated', exp: tokenExpiry(first.token as string) });
    const second = await conn.frame('auth', conn.frames.indexOf(first) + 1, 3000);
    assert.equal(second.token, issued[2]);
    assert.equal(s.connections.length, 1, 'no reconnect');
  });

  it('no refresh without exp, nor with a fixed token', async () => {
    const s = await fakeServer();
    const noExp = fakeClient(s, { token: () => unsignedJwt({ sub: 'x' }) });
    const fixed = fakeClient(s, { token: unsignedJwt({ exp: inSeconds(1) }) });
    await state(noExp, 'live');
    await state(fixed, 'live');
    await sleep(800);
    for (const conn of s.connections) assert.deepEqual(conn.frames.filter((f) => f.type === 'auth'), []);
  });

  it('authenticated with exp 0 stops refreshing', async () => {
    const s = await fakeServer();
    let calls = 0;
    const c = fakeClient(s, { token: () => (++calls === 1 ? unsignedJwt({ exp: inSeconds(1) }) : 'no-exp') });
    await state(c, 'live');
    const conn = await s.connection(1);
    await conn.frame('auth', 0, 3000);
    conn.send({ type: 'authenticated', exp: 0 });
    await sleep(800);
    assert.equal(conn.frames.filter((f) => f.type === 'auth').length, 1);
    assert.equal(calls, 2);
  });

  it('a server without tokens (auth_disabled) is not sent refreshes again', async () => {
    const s = await fakeServer();
    const c = fakeClient(s, { token: () => unsignedJwt({ exp: inSeconds(1) }) });
    const errors: ServerError[] = [];
    c.onError((e) => errors.push(e));
    await state(c, 'live');
    const first = await s.connection(1);
    await first.frame('auth', 0, 3000);
    first.send({ type: 'error', code: 'auth_disabled', message: 'this server does not use tokens' });
    await waitFor<number>((cb) => { const t = setInterval(() => cb(errors.length), 10); return () => clearInterval(t); },
      (n) => n === 1, 'the error event');
    first.socket.terminate();
    const second = await s.connection(2);
    await state(c, 'live');
    await sleep(800);
    assert.deepEqual(second.frames.filter((f) => f.type === 'auth'), []);
    assert.deepEqual(errors.map((e) => e.code), ['auth_disabled']);
  });

  it('a refresh whose token function throws leaves the connection alone', async () => {
    const s = await fakeServer();
    let calls = 0;
    const c = fakeClient(s, {
      token: () => {
        if (++calls > 1) throw new Error('offline');
        return unsignedJwt({ exp: inSeconds(1) });
      },
    });
    const logged = console.error;
    console.error = () => {};
    try {
      await state(c, 'live');
      await waitFor<number>((cb) => { const t = setInterval(() => cb(calls), 10); return () => clearInterval(t); },
        (n) => n >= 2, 'the refresh');
      await sleep(50);
    } finally {
      console.error = logged;
    }
    assert.equal(c.state, 'live');
    assert.equal(s.connections.length, 1);
  });
});
