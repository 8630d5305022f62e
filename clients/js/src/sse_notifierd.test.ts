// SPDX-License-Identifier: MIT
// NotifierClient on the event stream (transport: 'sse', notifierd's /sse)
// against a real notifierd (build/notifierd, or $NOTIFIERD), through the
// `eventsource` package. A TCP proxy in front of the server cuts the
// connection or stalls its reader where a test needs it.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, afterEach, describe, it } from 'node:test';

import { live } from './live.js';
import { closeClients, server, serverSet, sseClient, state, stopServers, TestEventSource } from './testing/fixtures.js';
import { snapshot } from './testing/loads.js';
import { type Notifierd, waitFor } from './testing/notifierd.js';
import { barrier, Posts } from './testing/posts.js';
import { Proxy } from './testing/proxy.js';
import { note, Recorder } from './testing/recorder.js';
import type { ConnectionState, EventSourceConstructor, ResyncEvent, ServerError, SubscribedEvent } from './types.js';

const proxies: Proxy[] = [];
afterEach(async () => {
  closeClients();
  for (const p of proxies.splice(0)) await p.stop();
});
after(stopServers);

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

async function proxy(s: Notifierd): Promise<Proxy> {
  const p = await Proxy.start(s.port);
  proxies.push(p);
  return p;
}

/** An EventSource that also records the streams it opens and the data of
 * their `close` events. */
function recordingEventSource(): { EventSource: EventSourceConstructor; urls: URL[]; closes: unknown[] } {
  const urls: URL[] = [];
  const closes: unknown[] = [];
  class Recording extends TestEventSource {
    constructor(url: string) {
      super(url);
      urls.push(new URL(url));
      this.addEventListener('close', (e) => closes.push(JSON.parse((e as MessageEvent).data)));
    }
  }
  return { EventSource: Recording as EventSourceConstructor, urls, closes };
}

/** Every state the client goes through from now on. */
function states(c: { onState(cb: (s: ConnectionState) => void): () => void }): ConnectionState[] {
  const seen: ConnectionState[] = [];
  c.onState((s) => seen.push(s));
  return seen;
}

const SECRET = 'a-test-secret-of-enough-length-1234';

function token(read: string[]): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 60, notifier: { read } })}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

describe("transport 'sse'", () => {
  it('delivers by collection, record, filter and everything, on /sse', async () => {
    const s = await server();
    const { EventSource, urls } = recordingEventSource();
    const c = sseClient(s, { EventSource });
    const forums = new Recorder(), post7 = new Recorder(), forum7 = new Recorder(), all = new Recorder();
    c.on('forums', forums.push);
    c.on('posts/7', post7.push);
    c.on('posts[forum_id=7]', forum7.push);
    c.on('*', all.push);
    await state(c, 'live');
    assert.equal(c.transport, 'sse');
    assert.deepEqual(c.serverSubscriptions, ['*', 'forums', 'posts/7', 'posts[forum_id=7]']);
    assert.equal(urls.length, 1);
    assert.equal(`${urls[0]!.origin}${urls[0]!.pathname}`, `http://127.0.0.1:${s.port}/sse`);
    assert.equal(urls[0]!.searchParams.get('collections'), '*,forums,posts/7,posts[forum_id=7]');
    await s.publish([note('forums', 1), note('posts', 7, { forum_id: 8 }), note('posts', 8, { forum_id: 7 }), note('users')]);
    await all.until(4);
    assert.deepEqual(forums.ids, ['1']);
    assert.deepEqual(post7.ids, ['7']);
    assert.deepEqual(forum7.ids, ['8']);
    assert.deepEqual(all.items[0], { seq: 1, collection: 'forums', action: 'create', id: '1' });
    assert.deepEqual(c.cursor?.seq, 4);
  });

  it('reopens the stream on subscribe and unsubscribe, without a gap, each entry confirmed by a welcome', async () => {
    const s = await server();
    const { EventSource, urls } = recordingEventSource();
    const c = sseClient(s, { EventSource, collections: ['a'] });
    const a = new Recorder(), b = new Recorder();
    c.on('a', a.push);
    await state(c, 'live');
    const seenStates = states(c);
    // A publisher that keeps going while the subscriptions change.
    let published = 0;
    let stop = false;
    const publishing = (async () => {
      while (!stop) {
        const i = published + 1;
        await s.publish([note('a', i), note('b', i)]);
        published = i;
        await sleep(5);
      }
    })();
    const confirmations: SubscribedEvent[] = [];
    for (let round = 0; round < 4; round++) {
      const confirmed = waitFor<SubscribedEvent>((cb) => c.onSubscribed('b', cb), () => true, 'b confirmed');
      const before = b.items.length;
      const off = c.on('b', b.push);
      await serverSet(c, ['a', 'b']);
      const event = await confirmed;
      confirmations.push(event);
      // b's notifications follow the confirmation, none from before it.
      await b.until(before + 3);
      assert.ok(b.items.slice(before).every((n) => n.seq > event.seq), 'nothing from before the confirmation');
      const seqs = b.seqs.slice(before);
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
      off();
      await serverSet(c, ['a']);
    }
    stop = true;
    await publishing;
    await a.until(published);
    assert.deepEqual(a.ids, Array.from({ length: published }, (_, i) => String(i + 1)), 'every a, in order, once');
    assert.deepEqual(new Set(b.seqs).size, b.items.length, 'no duplicate');
    assert.equal(urls.length, 9, 'one stream per change');
    for (const url of urls.slice(1)) {
      assert.ok(url.searchParams.get('since') !== null && url.searchParams.get('epoch'), 'each new stream resumes');
    }
    assert.ok(!seenStates.includes('reconnecting'), 'the state stays live while a stream replaces another');
    assert.ok(confirmations.every((e) => e.entry === 'b'));
  });

  it('resumes after the connection drops, with no gap and no resync', async () => {
    const s = await server();
    const p = await proxy(s);
    const c = sseClient(p, { collections: ['d'] });
    const got = new Recorder();
    const resyncs: ResyncEvent[] = [];
    c.onResync((e) => resyncs.push(e));
    c.onNotification(got.push);
    await state(c, 'live');
    await s.publish([1, 2, 3].map((i) => note('d', i)));
    await got.until(3);
    p.blockWebSocket = true;
    p.drop();
    await state(c, 'reconnecting');
    await s.publish([4, 5, 6].map((i) => note('d', i)));
    await got.until(6);
    await state(c, 'live');
    assert.deepEqual(got.seqs, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(resyncs, []);
  });

  it('reconnects after close 4008 (a stalled reader) and resumes without a gap', async () => {
    const queueBytes = 65536;
    const s = await server(['--max-queue-bytes', String(queueBytes), '--close-timeout', '20']);
    const p = await proxy(s);
    const { EventSource, closes } = recordingEventSource();
    const c = sseClient(p, { EventSource, collections: ['big'] });
    const got = new Recorder();
    c.onNotification(got.push);
    await state(c, 'live');
    const seenStates = states(c);
    // More than the server's socket buffer, the proxy's and the queue hold.
    const [, , wmemMax] = readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/).map(Number);
    const [, rmemDefault] = readFileSync('/proc/sys/net/ipv4/tcp_rmem', 'utf8').trim().split(/\s+/).map(Number);
    const dataBytes = 5000;
    const count = Math.ceil(((wmemMax ?? 4 << 20) + 2 * (rmemDefault ?? 131072) + 4 * queueBytes + (1 << 20)) / dataBytes);
    p.hold(true);
    const pad = 'x'.repeat(dataBytes);
    for (let first = 1; first <= count; first += 50) {
      await s.publish(Array.from({ length: Math.min(50, count - first + 1) }, (_, i) => note('big', first + i, { pad })));
    }
    p.hold(false);
    await got.until(count, `${count} notifications`, 30_000);
    assert.deepEqual(got.ids, Array.from({ length: count }, (_, i) => String(i + 1)), 'all, in order, once');
    assert.deepEqual(closes, [{ code: 4008, reason: 'slow consumer' }]);
    assert.ok(seenStates.includes('reconnecting'));
    await state(c, 'live');
  });

  it('reports a resync after a restart (close 1001), and live() loads again', async () => {
    const first = await server();
    const port = first.port;
    const { EventSource, closes } = recordingEventSource();
    const c = sseClient(first, { EventSource });
    c.on('barrier', () => {});
    const db = new Posts(first);
    let loads = 0;
    const q = live(c, 'posts', () => {
      loads++;
      return db.select();
    });
    await snapshot(q, (x) => x.status === 'live', 'live');
    await db.put({ id: '1', forum_id: 7, title: 'first' });
    await snapshot(q, (x) => x.data?.length === 1, 'the first post');
    const oldEpoch = c.cursor!.epoch;
    const resync = waitFor<ResyncEvent>((cb) => c.onResync(cb), () => true, 'resync');
    await first.stop();
    await state(c, 'reconnecting');
    assert.deepEqual(closes, [{ code: 1001, reason: 'server shutdown' }]);
    const second = await server([], port);
    db.rows.set('2', { id: '2', forum_id: 7, title: 'written while the server was down' });
    const event = await resync;
    assert.notEqual(event.epoch, oldEpoch);
    await snapshot(q, (x) => x.data?.length === 2, 'reloaded after the resync');
    await state(c, 'live');
    await barrier(second, c);
    assert.equal(loads, 3);
    assert.equal(c.cursor!.epoch, event.epoch);
  });

  it('live() works unchanged: a query per forum, switched without missing a change', async () => {
    const s = await server();
    const c = sseClient(s);
    c.on('barrier', () => {});
    await state(c, 'live');
    const db = new Posts(s);
    await db.put({ id: '1', forum_id: 7, title: 'in 7' });
    await db.put({ id: '2', forum_id: 8, title: 'in 8' });
    const forum = (n: number) => live(c, `posts[forum_id=${n}]`, () => db.select(n));
    const seven = forum(7);
    await snapshot(seven, (x) => x.data?.length === 1, 'forum 7');
    await db.put({ id: '3', forum_id: 7, title: 'also in 7' });
    await snapshot(seven, (x) => x.data?.length === 2, 'the new post in 7');
    // Switching forums: the stream is replaced, and a change right after
    // the switch is not missed.
    seven.close();
    const eight = forum(8);
    await db.put({ id: '4', forum_id: 8, title: 'also in 8' });
    const s8 = await snapshot(eight, (x) => x.data?.length === 2, 'forum 8 with its new post');
    assert.deepEqual(s8.data!.map((p) => p.id), ['2', '4']);
    await serverSet(c, ['barrier', 'posts[forum_id=8]']);
    // A post moved out of 8 leaves it (its old row matches).
    await db.put({ id: '2', forum_id: 7, title: 'moved to 7' });
    await snapshot(eight, (x) => x.data?.length === 1, 'the moved post gone');
  });

  it('a token refused at connect (4401) is an error event, and no retry loop', async () => {
    const s = await server(['--jwt-secret', SECRET]);
    const { EventSource, urls } = recordingEventSource();
    const c = sseClient(s, { EventSource, collections: ['t'], token: 'not-a-token' });
    const error = await waitFor<ServerError>((cb) => c.onError(cb), () => true, 'the refusal');
    assert.equal(error.closeCode, 4401);
    assert.equal(error.code, 'invalid_token');
    assert.ok(error.message.length > 0);
    await sleep(300); // many reconnect delays
    assert.equal(c.state, 'closed');
    assert.equal(urls.length, 1, 'one attempt');

    // A token function is called once more, then the refusal stops it.
    let calls = 0;
    const d = sseClient(s, { EventSource, collections: ['t'], token: () => (calls++, 'still-not-a-token') });
    await waitFor<ServerError>((cb) => d.onError(cb), (e) => e.closeCode === 4401, 'the refusal');
    await sleep(300);
    assert.equal(calls, 2);
    assert.equal(d.state, 'closed');

    // setToken() with a good one connects.
    d.setToken(token(['t']));
    await state(d, 'live');
    const got = new Recorder();
    d.onNotification(got.push);
    await s.publish(note('t'));
    await got.until(1);
  });

  it('a subscription outside the token: refused at connect (4403), or the entry alone at run time', async () => {
    const s = await server(['--jwt-secret', SECRET]);
    const refused = sseClient(s, { collections: ['t', 'u'], token: token(['t']) });
    const error = await waitFor<ServerError>((cb) => refused.onError(cb), () => true, 'the refusal');
    assert.equal(error.closeCode, 4403);
    assert.equal(error.code, 'forbidden');
    assert.equal(refused.state, 'closed');

    const c = sseClient(s, { collections: ['t'], token: token(['t']) });
    const got = new Recorder();
    c.on('t', got.push);
    await state(c, 'live');
    const seenStates = states(c);
    const errors: ServerError[] = [];
    c.onError((e) => errors.push(e));
    const q = live(c, 'u', () => 'loaded', { onError: () => {} });
    const failed = await snapshot(q, (x) => x.status === 'error', 'the query refused');
    assert.equal((failed.error as ServerError).code, 'forbidden');
    assert.deepEqual(errors.map((e) => [e.code, e.entries, e.closeCode]), [['forbidden', ['u'], undefined]]);
    await serverSet(c, ['t']);
    await s.publish([note('u'), note('t')]);
    await got.until(1);
    assert.equal(c.state, 'live');
    assert.ok(!seenStates.includes('closed'));
  });

  it('setToken() replaces the stream: the new rights apply, nothing is lost', async () => {
    const s = await server(['--jwt-secret', SECRET]);
    const { EventSource, urls } = recordingEventSource();
    const c = sseClient(s, { EventSource, token: token(['t']) });
    const got = new Recorder();
    c.on('t', got.push);
    await state(c, 'live');
    await s.publish(note('t', 1));
    await got.until(1);
    const welcomed = waitFor((cb) => c.onSubscriptions(cb), () => true, 'the new stream');
    const second = token(['t', 'v']);
    c.setToken(second);
    await s.publish(note('t', 2)); // published around the switch
    await welcomed;
    assert.equal(urls.length, 2);
    assert.equal(urls[1]!.searchParams.get('token'), second);
    assert.equal(c.state, 'live');
    const v = new Recorder();
    c.on('v', v.push);
    await serverSet(c, ['t', 'v']);
    await s.publish([note('t', 3), note('v', 1)]);
    await v.until(1);
    await got.until(3);
    assert.deepEqual(got.ids, ['1', '2', '3']);
  });
});
