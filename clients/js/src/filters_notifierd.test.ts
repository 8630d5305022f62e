// SPDX-License-Identifier: MIT
// Filtered subscriptions against a real notifierd (build/notifierd, or
// $NOTIFIERD): the server confirms the canonical entry with a seq, sends a
// change when its data or its old row matches (a post moved out of the
// forum arrives too), and never a change of another forum.

import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';

import { live } from './live.js';
import { client, closeClients, server, serverSet, state, stopServers } from './testing/fixtures.js';
import { snapshot } from './testing/loads.js';
import { waitFor } from './testing/notifierd.js';
import { barrier, type Post, Posts } from './testing/posts.js';
import { where } from './topics.js';
import type { Notification, SubscribedEvent } from './types.js';

afterEach(closeClients);
after(stopServers);

async function setUp() {
  const hub = await server();
  const c = client(hub);
  c.on('barrier', () => {});
  await state(c, 'live');
  await serverSet(c, ['barrier']);
  return { hub, c, db: new Posts(hub) };
}

describe('filtered subscriptions against notifierd', () => {
  it('the server confirms the canonical entry with a seq', async () => {
    const { c } = await setUp();
    const confirmed = waitFor<SubscribedEvent>((cb) => c.onSubscribed('posts[forum_id=7]', cb), () => true, 'confirmation');
    c.on('posts[forum_id=7.0,author.id="ana"]', () => {});
    c.on(where('posts', { forum_id: 7 }), () => {});
    await serverSet(c, ['barrier', 'posts[author.id="ana",forum_id=7]', 'posts[forum_id=7]']);
    const event = await confirmed;
    assert.equal(event.entry, 'posts[forum_id=7]');
    assert.equal(typeof event.seq, 'number');
    c.unsubscribe('posts[forum_id=7e0]', 'posts[author.id="ana",forum_id=7]');
    await serverSet(c, ['barrier']);
  });

  it('a query of one forum: a post in, a post moved out (data and old), a post elsewhere never loads', async () => {
    const { hub, c, db } = await setUp();
    let loads = 0;
    const q = live(c, where<Post>('posts', { forum_id: 7 }), () => {
      loads++;
      return db.select(7);
    });
    await snapshot(q, (x) => x.status === 'live', 'live');
    assert.deepEqual(q.data, []);

    await db.put({ id: '1', forum_id: 7, title: 'hello' });
    await snapshot(q, (x) => x.data?.length === 1, 'the post into forum 7');
    assert.equal(loads, 2);

    await db.put({ id: '1', forum_id: 8, title: 'hello' });
    await snapshot(q, (x) => x.data?.length === 0, 'the post moved to forum 8 leaves');
    assert.equal(loads, 3);

    const seen: Notification[] = [];
    c.onNotification((n) => seen.push(n));
    await db.put({ id: '2', forum_id: 8, title: 'elsewhere' });
    await barrier(hub, c);
    assert.deepEqual(seen.map((n) => n.collection), ['barrier'], 'the server did not send the post of forum 8');
    assert.equal(loads, 3);
  });

  it('apply mode on a filter: rows leave by the notification\'s data', async () => {
    const { hub, c, db } = await setUp();
    const q = live<Post[], Post>(c, where<Post>('posts', { forum_id: 7 }), () => db.select(7), {
      apply: (rows, n) => {
        const rest = rows.filter((r) => r.id !== n.id);
        return n.data?.forum_id === 7 ? [...rest, n.data] : rest;
      },
    });
    await snapshot(q, (x) => x.status === 'live', 'live');
    await db.put({ id: '1', forum_id: 7, title: 'hello' });
    await snapshot(q, (x) => x.data?.length === 1, 'in');
    await db.put({ id: '1', forum_id: 8, title: 'hello' });
    await snapshot(q, (x) => x.data?.length === 0, 'out');
    await barrier(hub, c);
  });
});
