// SPDX-License-Identifier: MIT
// live() against a scripted server, which decides when the subscription is
// confirmed and what arrives during a load (the races that a real server
// cannot be made to produce on demand). Loads are answered by the test.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import type { NotifierClient } from './client.js';
import { live, type LiveQuery } from './live.js';
import { state } from './testing/fixtures.js';
import { cleanUp, type FakeConnection, fakeClient, fakeServer } from './testing/fake_server.js';
import { Loads, snapshot } from './testing/loads.js';
import { waitFor } from './testing/notifierd.js';
import type { Notification, ServerError } from './types.js';

afterEach(cleanUp);

const welcome = (conn: FakeConnection, seq = 10, resumed = false) =>
  conn.send({ type: 'welcome', protocol: 1, epoch: 'e1', seq, resumed });

/** A client live on a scripted server that announces protocol 1 (refs). */
async function connected() {
  const s = await fakeServer();
  s.onConnection = (conn) => welcome(conn);
  const c = fakeClient(s);
  await state(c, 'live');
  return { s, c, conn: await s.connection(1) };
}

/** Answers the next subscribe frame (from frame index `from`) with its ref. */
async function confirm(conn: FakeConnection, seq?: number, from = 0): Promise<Record<string, unknown>> {
  const frame = await conn.frame('subscribe', from);
  conn.send({ type: 'subscribed', collections: frame.collections, ...(seq !== undefined && { seq }), ref: frame.ref });
  return frame;
}

/** Resolves once the client received the notification with `seq`: every
 * frame sent before it has been handled. */
function received(c: NotifierClient, seq: number): Promise<Notification> {
  return waitFor<Notification>((cb) => c.onNotification(cb), (n) => n.seq === seq, `notification ${seq}`);
}

/** Sends a notification of another collection and waits for it: a barrier. */
async function barrier(conn: FakeConnection, c: NotifierClient, seq: number): Promise<void> {
  const done = received(c, seq);
  conn.send({ seq, collection: 'elsewhere', action: 'create' });
  await done;
}

const post = (seq: number, id: string, data?: object, old?: object, action = 'update') => ({
  seq, collection: 'posts', action, id, ...(data && { data }), ...(old && { old }),
});

interface Row {
  id: string;
  title: string;
}

// An idempotent patch: upsert by id, remove on delete.
const upsert = (rows: Row[], n: Notification<Row>): Row[] =>
  n.action === 'delete' ? rows.filter((r) => r.id !== n.id) : [...rows.filter((r) => r.id !== n.id), n.data].sort((a, b) => a.id.localeCompare(b.id));

describe('live()', () => {
  it('loads once the server confirmed the subscription; notifications before that are left to the load', async () => {
    const { c, conn } = await connected();
    const loads = new Loads<string>();
    const q = live(c, 'posts', loads.load);
    assert.equal(q.status, 'loading');
    const frame = await conn.frame('subscribe');
    assert.deepEqual(frame.collections, ['posts']);
    assert.equal(typeof frame.ref, 'number', 'the subscribe carries a ref');
    const early = received(c, 11);
    conn.send(post(11, '1', { title: 'before the answer' }));
    await early;
    assert.equal(loads.count, 0, 'no load before the subscribed answer');
    conn.send({ type: 'subscribed', collections: ['posts'], seq: 11, ref: frame.ref });
    (await loads.call(1)).resolve('v1');
    const s = await snapshot(q, (x) => x.status === 'live', 'live');
    assert.deepEqual(s, { data: 'v1', status: 'live', error: undefined });
    assert.equal(q.data, 'v1');
    assert.equal(loads.count, 1);
  });

  it('reload mode: notifications during a load cause exactly one more load', async () => {
    const { c, conn } = await connected();
    const loads = new Loads<string>();
    const q = live(c, 'posts', loads.load);
    await confirm(conn, 10);
    const first = await loads.call(1);
    const both = received(c, 12);
    conn.send(post(11, '1', { title: 'a' }));
    conn.send(post(12, '2', { title: 'b' }));
    await both;
    assert.equal(loads.count, 1, 'one load at a time');
    first.resolve('v1');
    (await loads.call(2)).resolve('v2');
    await snapshot(q, (s) => s.data === 'v2', 'the second load');
    await barrier(conn, c, 13);
    assert.equal(loads.count, 2, 'two loads, not three');
    conn.send(post(14, '1', { title: 'c' }));
    (await loads.call(3)).resolve('v3');
    await snapshot(q, (s) => s.data === 'v3', 'a load per change after that');
  });

  it('apply mode: notifications during the load are applied to its result in order, later ones without loading', async () => {
    const { c, conn } = await connected();
    const loads = new Loads<Row[]>();
    const applied: number[] = [];
    const q = live<Row[], Row>(c, 'posts', loads.load, {
      apply: (rows, n) => {
        applied.push(n.seq);
        return upsert(rows, n);
      },
    });
    await confirm(conn, 10);
    const first = await loads.call(1);
    const during = received(c, 12);
    conn.send(post(11, '2', { id: '2', title: 'new' }, undefined, 'create'));
    conn.send(post(12, '1', { id: '1', title: 'edited' }, { id: '1', title: 'original' }));
    await during;
    assert.deepEqual(applied, [], 'buffered while the load runs');
    // The load may or may not reflect them: here it reflects the first.
    first.resolve([{ id: '1', title: 'original' }, { id: '2', title: 'new' }]);
    let s = await snapshot(q, (x) => x.status === 'live', 'live');
    assert.deepEqual(applied, [11, 12]);
    assert.deepEqual(s.data, [{ id: '1', title: 'edited' }, { id: '2', title: 'new' }]);
    const del = received(c, 13);
    conn.send(post(13, '2', undefined, { id: '2', title: 'new' }, 'delete'));
    await del;
    s = q.snapshot;
    assert.deepEqual(s.data, [{ id: '1', title: 'edited' }]);
    assert.equal(loads.count, 1, 'patched, not loaded again');
  });

  it('apply mode: a patch that throws is reported and the data loaded again', async () => {
    const { c, conn } = await connected();
    const loads = new Loads<Row[]>();
    const errors: unknown[] = [];
    const q = live<Row[], Row>(c, 'posts', loads.load, {
      apply: (rows, n) => {
        if (n.id === 'bad') throw new Error('cannot apply');
        return upsert(rows, n);
      },
      onError: (e) => errors.push(e),
    });
    await confirm(conn, 10);
    (await loads.call(1)).resolve([]);
    await snapshot(q, (s) => s.status === 'live', 'live');
    conn.send(post(11, 'bad', { id: 'bad', title: 'x' }));
    (await loads.call(2)).resolve([{ id: 'bad', title: 'x' }]);
    await snapshot(q, (s) => s.data?.length === 1, 'reloaded');
    assert.match(String(errors[0]), /cannot apply/);
  });

  it('a resync loads again; a resumed reconnect does not, a reconnect that could not resume does', async () => {
    const { s, c, conn } = await connected();
    const loads = new Loads<string>();
    const q = live(c, 'posts', loads.load);
    await confirm(conn, 10);
    (await loads.call(1)).resolve('v1');
    await snapshot(q, (x) => x.data === 'v1', 'the first load');

    conn.send({ type: 'resync', epoch: 'e1', seq: 20 });
    (await loads.call(2)).resolve('v2');
    await snapshot(q, (x) => x.data === 'v2', 'a load after the resync');

    s.onConnection = (next) => welcome(next, 25, true);
    conn.socket.terminate();
    const resumed = await s.connection(2);
    assert.equal(resumed.url.searchParams.get('collections'), 'posts');
    assert.equal(resumed.url.searchParams.get('since'), '20');
    await state(c, 'live');
    await barrier(resumed, c, 21);
    assert.equal(loads.count, 2, 'nothing was missed: no load');

    s.onConnection = (next) => {
      welcome(next, 40, false);
      next.send({ type: 'resync', epoch: 'e2', seq: 40 });
    };
    resumed.socket.terminate();
    await s.connection(3);
    (await loads.call(3)).resolve('v3');
    await snapshot(q, (x) => x.data === 'v3', 'a load after a reconnect without resume');
    await barrier(await s.connection(3), c, 41);
    assert.equal(loads.count, 3, 'one load for the welcome and its resync');
  });

  it('a subscription not yet answered when the connection drops is confirmed by the next welcome', async () => {
    const { s, c, conn } = await connected();
    const loads = new Loads<string>();
    const q = live(c, 'posts', loads.load);
    await conn.frame('subscribe');
    s.onConnection = (next) => welcome(next, 12, true);
    conn.socket.terminate();
    const next = await s.connection(2);
    assert.equal(next.url.searchParams.get('collections'), 'posts');
    (await loads.call(1)).resolve('v1');
    await snapshot(q, (x) => x.status === 'live', 'live');
  });

  it('a topic the connection already has loads at once; a subscribe answer without seq (older servers) works too', async () => {
    const { c, conn } = await connected();
    const off = c.on('posts', () => {});
    await confirm(conn); // no seq
    await waitFor((cb) => c.onSubscribed('posts', cb), () => true, 'posts confirmed');
    const loads = new Loads<string>();
    const q = live(c, 'posts', loads.load);
    assert.equal(loads.count, 1, 'loaded at once, without a subscribe frame');
    loads.calls[0]!.resolve('v1');
    await snapshot(q, (x) => x.status === 'live', 'live');
    assert.equal(conn.frames.filter((f) => f.type === 'subscribe').length, 1);
    off();
  });

  it('a failed load is reported, and retried after a delay or at the next notification', async () => {
    const { c, conn } = await connected();
    const loads = new Loads<string>();
    const errors: unknown[] = [];
    const q = live(c, 'posts', loads.load, { retry: { initialDelayMs: 10, maxDelayMs: 10 }, onError: (e) => errors.push(e) });
    await confirm(conn, 10);
    (await loads.call(1)).reject(new Error('503'));
    let s = await snapshot(q, (x) => x.status === 'error', 'the error');
    assert.match(String(s.error), /503/);
    assert.equal(s.data, undefined);
    (await loads.call(2)).resolve('v1');
    s = await snapshot(q, (x) => x.status === 'live', 'live after the retry');
    assert.deepEqual(s, { data: 'v1', status: 'live', error: undefined });
    assert.equal(errors.length, 1);
    q.close();

    const slow = live(c, 'posts', loads.load, { retry: { initialDelayMs: 60_000 }, onError: () => {} });
    (await loads.call(3)).reject(new Error('down'));
    await snapshot(slow, (x) => x.status === 'error', 'the error');
    conn.send(post(11, '1', { title: 'x' }));
    (await loads.call(4)).resolve('v2');
    await snapshot(slow, (x) => x.status === 'live', 'loaded at the notification, not after a minute');
    slow.close();
  });

  it('a refused subscription is an error of the query, with the server\'s code; no load', async () => {
    const { c, conn } = await connected();
    const loads = new Loads<string>();
    const events: ServerError[] = [];
    c.onError((e) => events.push(e));
    const q = live(c, 'secret', loads.load, { onError: () => {} });
    const frame = await conn.frame('subscribe');
    conn.send({ type: 'error', code: 'forbidden', message: 'secret is outside the token', ref: frame.ref });
    const s = await snapshot(q, (x) => x.status === 'error', 'the refusal');
    assert.deepEqual(s.error, { code: 'forbidden', message: 'secret is outside the token', entries: ['secret'] });
    assert.deepEqual(events, [s.error]);
    await barrier(conn, c, 11);
    assert.equal(loads.count, 0);
  });

  it('close() releases the subscription once nothing else uses it, and aborts the load', async () => {
    const { c, conn } = await connected();
    const loads = new Loads<string>();
    const a = live(c, 'posts', loads.load);
    const b = live(c, 'posts', loads.load);
    const handler = c.on('posts', () => {});
    await confirm(conn, 10);
    await loads.call(2);
    assert.equal(conn.frames.filter((f) => f.type === 'subscribe').length, 1, 'one subscription for all three');
    a.close();
    b.close();
    assert.ok(loads.calls.every((call) => call.signal.aborted), 'their loads are aborted');
    assert.deepEqual(c.subscriptions, ['posts'], 'the handler still holds it');
    // A frame after anything the closes could have sent: no unsubscribe before it.
    c.subscribe('barrier');
    const marker = await conn.frame('subscribe', 1);
    assert.deepEqual(marker.collections, ['barrier']);
    assert.equal(conn.frames.filter((f) => f.type === 'unsubscribe').length, 0);
    handler();
    const unsubscribe = await conn.frame('unsubscribe');
    assert.deepEqual(unsubscribe.collections, ['posts']);
    assert.equal(typeof unsubscribe.ref, 'number');
    loads.calls[0]!.resolve('late');
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(a.snapshot, { data: undefined, status: 'loading', error: undefined }, 'nothing changes after close()');
  });

  it('a filtered topic: the canonical entry is subscribed; changes matching data or old load again, others do not', async () => {
    const { c, conn } = await connected();
    const loads = new Loads<string>();
    const q: LiveQuery<string> = live(c, 'posts[forum_id=7.0]', loads.load);
    assert.equal(q.topic, 'posts[forum_id=7]');
    const frame = await confirm(conn, 10);
    assert.deepEqual(frame.collections, ['posts[forum_id=7]']);
    (await loads.call(1)).resolve('v1');
    await snapshot(q, (x) => x.status === 'live', 'live');
    conn.send(post(11, '9', { forum_id: 8 }, { forum_id: 8 }));
    await barrier(conn, c, 12);
    assert.equal(loads.count, 1, 'a change in forum 8 is not ours');
    conn.send(post(13, '1', { forum_id: 8 }, { forum_id: 7 }));
    (await loads.call(2)).resolve('v2');
    await snapshot(q, (x) => x.data === 'v2', 'a post that left forum 7 loads again');
    conn.send(post(14, '2', { forum_id: 7 }, undefined, 'create'));
    (await loads.call(3)).resolve('v3');
    await snapshot(q, (x) => x.data === 'v3', 'a post into forum 7 loads again');
  });
});
