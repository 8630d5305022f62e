// SPDX-License-Identifier: MIT
// NotifierClient against a real notifierd (build/notifierd, or $NOTIFIERD).

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, afterEach, describe, it } from 'node:test';

import { NotifierClient } from './client.js';
import { client, closeClients, server, serverSet, state, stopServers } from './testing/fixtures.js';
import { waitFor } from './testing/notifierd.js';
import type { Notification, ResyncEvent, ServerError } from './types.js';

afterEach(closeClients);
after(stopServers);

/** Records notifications and waits for a count. */
class Recorder {
  readonly items: Notification[] = [];
  readonly #waiters: Array<() => void> = [];

  readonly push = (n: Notification): void => {
    this.items.push(n);
    for (const w of this.#waiters.splice(0)) w();
  };

  until(count: number, what = `${count} notifications`): Promise<Notification[]> {
    return waitFor<number>(
      (cb) => {
        const check = () => cb(this.items.length);
        const loop = () => {
          check();
          this.#waiters.push(loop);
        };
        loop();
        return () => {};
      },
      (n) => n >= count,
      what,
    ).then(() => this.items);
  }
}

function note(collection: string, action = 'create', id?: string | number): object {
  return id === undefined ? { collection, action } : { collection, action, id };
}

describe('NotifierClient', () => {
  it('delivers by collection, by record and everything', async () => {
    const s = await server();
    const c = client(s);
    const forums = new Recorder(), post7 = new Recorder(), all = new Recorder();
    c.on('forums', forums.push);
    c.on('posts/7', post7.push);
    c.on('*', all.push);
    await state(c, 'live');
    await serverSet(c, ['*', 'forums', 'posts/7']);
    await s.publish([note('forums', 'create', 1), note('posts', 'create', 7), note('posts', 'create', 8), note('users')]);
    await all.until(4);
    assert.deepEqual(forums.items.map((n) => n.id), ['1']);
    assert.deepEqual(post7.items.map((n) => n.id), ['7']);
    assert.deepEqual(all.items.map((n) => n.collection), ['forums', 'posts', 'posts', 'users']);
    assert.deepEqual(all.items[0], { seq: 1, collection: 'forums', action: 'create', id: '1' });
  });

  it('subscribes the connection only to what handlers need', async () => {
    const s = await server();
    const c = client(s, { collections: ['forums'] });
    const received = new Recorder();
    c.onNotification(received.push);
    await state(c, 'live');
    await s.publish([note('posts', 'create', 1), note('forums', 'create', 2)]);
    await received.until(1);
    assert.deepEqual(received.items.map((n) => n.collection), ['forums'], 'the server filtered posts out');
  });

  it('adds and removes subscriptions at run time', async () => {
    const s = await server();
    const c = client(s);
    const a = new Recorder(), b = new Recorder(), everything = new Recorder();
    c.onNotification(everything.push);
    c.on('a', a.push);
    await state(c, 'live');
    await serverSet(c, ['a']);
    const offB = c.on('b', b.push);
    await serverSet(c, ['a', 'b']);
    await s.publish([note('b'), note('a')]);
    await a.until(1);
    assert.equal(b.items.length, 1);
    offB();
    await serverSet(c, ['a']);
    await s.publish([note('b'), note('a')]);
    await a.until(2);
    assert.equal(b.items.length, 1, 'no handler call after off()');
    assert.deepEqual(everything.items.map((n) => n.collection), ['b', 'a', 'a'], 'nor a frame: the server unsubscribed');
    const release = c.subscribe('c', 'd');
    await serverSet(c, ['a', 'c', 'd']);
    c.unsubscribe('d');
    await serverSet(c, ['a', 'c']);
    release();
    await serverSet(c, ['a']);
  });

  it('receives nothing without subscriptions', async () => {
    const s = await server();
    const c = client(s);
    const everything = new Recorder();
    c.onNotification(everything.push);
    await state(c, 'live');
    await serverSet(c, []); // the implicit "*" of a connection without collections is gone
    await s.publish(note('x'));
    const m = new Recorder();
    c.on('m', m.push);
    await serverSet(c, ['m']);
    await s.publish([note('x'), note('m')]);
    await m.until(1);
    assert.deepEqual(everything.items.map((n) => n.collection), ['m']);
  });

  it('resumes from a saved cursor without loss or duplicates', async () => {
    const s = await server();
    const first = client(s, { collections: ['r'] });
    const got = new Recorder();
    first.onNotification(got.push);
    await state(first, 'live');
    await s.publish([note('r', 'create', 1), note('r', 'create', 2)]);
    await got.until(2);
    const cursor = first.cursor!;
    first.close();
    await s.publish([note('r', 'create', 3), note('other'), note('r', 'create', 4), note('r', 'create', 5)]);

    const second = client(s, { collections: ['r'], resume: cursor });
    const later = new Recorder();
    const resyncs: ResyncEvent[] = [];
    second.onResync((e) => resyncs.push(e));
    second.onNotification(later.push);
    await later.until(3);
    assert.deepEqual(later.items.map((n) => n.id), ['3', '4', '5']);
    assert.deepEqual(later.items.map((n) => n.seq), [3, 5, 6]);
    assert.deepEqual(resyncs, []);
    assert.deepEqual(second.cursor, { epoch: cursor.epoch, seq: 6 });
  });

  it('replaces a dead connection and resumes without loss', async () => {
    const s = await server();
    const c = client(s, { collections: ['d'], pingIntervalMs: 100, pongTimeoutMs: 200, connectTimeoutMs: 500 });
    const got = new Recorder();
    const resyncs: ResyncEvent[] = [];
    c.onResync((e) => resyncs.push(e));
    c.onNotification(got.push);
    await state(c, 'live');
    await s.publish([1, 2, 3].map((i) => note('d', 'create', i)));
    await got.until(3);
    // A stopped process keeps its sockets open: only the ping notices.
    s.pause();
    try {
      await state(c, 'reconnecting');
    } finally {
      s.resume();
    }
    await s.publish([4, 5, 6].map((i) => note('d', 'create', i)));
    await got.until(6);
    await state(c, 'live');
    assert.deepEqual(got.items.map((n) => n.seq), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(resyncs, []);
  });

  it('reports resync when the server restarted, then carries on', async () => {
    const first = await server();
    const port = first.port;
    const c = client(first, { collections: ['s'] });
    const got = new Recorder();
    const resync = waitFor<ResyncEvent>((cb) => c.onResync(cb), () => true, 'resync');
    c.onNotification(got.push);
    await state(c, 'live');
    await first.publish(note('s', 'create', 1));
    await got.until(1);
    const oldEpoch = c.cursor!.epoch;
    await first.stop();
    await state(c, 'reconnecting');
    const second = await server([], port);
    const event = await resync;
    assert.notEqual(event.epoch, oldEpoch);
    await state(c, 'live');
    const [seq] = await second.publish(note('s', 'create', 2));
    await got.until(2);
    assert.deepEqual(got.items[1], { seq, collection: 's', action: 'create', id: '2' });
    assert.equal(c.cursor!.epoch, event.epoch);
  });

  it('stops for good on close()', async () => {
    const s = await server();
    const c = client(s, { collections: ['z'] });
    const got = new Recorder();
    c.onNotification(got.push);
    await state(c, 'live');
    c.close();
    assert.equal(c.state, 'closed');
    const witness = client(s, { collections: ['z'] });
    const seen = new Recorder();
    witness.onNotification(seen.push);
    await state(witness, 'live');
    await s.publish(note('z'));
    await seen.until(1);
    assert.equal(got.items.length, 0);
    assert.equal(c.state, 'closed');
  });

  it('sends a token, fresh for each attempt', async () => {
    const secret = 'a-test-secret-of-enough-length-1234';
    const s = await server(['--jwt-secret', secret]);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    let calls = 0;
    const token = () => {
      calls++;
      const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 60, notifier: { read: ['t'] } })}`;
      return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
    };
    const c = client(s, { collections: ['t'], token });
    const got = new Recorder();
    c.on('t', got.push);
    await state(c, 'live');
    await s.publish(note('t'));
    await got.until(1);
    assert.equal(calls, 1);

    // Refused before the upgrade (HTTP 401: retried, reported after a few
    // attempts) or after it (close 4401: reported, stopped).
    const refused = client(s, { collections: ['t'], token: 'not-a-token' });
    await waitFor((cb) => refused.onState(cb), (st) => st === 'reconnecting' || st === 'closed', 'a refusal');
    assert.notEqual(refused.state, 'live');
  });

  it('reports error frames and keeps the connection', async () => {
    const s = await server(['--max-subscriptions', '2']);
    const c = client(s, { collections: ['a'] });
    await state(c, 'live');
    const error = waitFor<ServerError>((cb) => c.onError(cb), () => true, 'an error frame');
    c.subscribe('b', 'c');
    assert.equal((await error).code, 'too_many_subscriptions');
    assert.equal(c.state, 'live');
  });

  it('refuses invalid entries at once', async () => {
    const s = await server();
    const c = client(s, { connect: false });
    assert.throws(() => c.on('bad name', () => {}), TypeError);
    assert.throws(() => c.subscribe(''), TypeError);
    assert.throws(() => new NotifierClient({ url: s.url, collections: ['a b'], connect: false }), TypeError);
  });
});
