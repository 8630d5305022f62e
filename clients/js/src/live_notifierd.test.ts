// SPDX-License-Identifier: MIT
// live() against a real notifierd (build/notifierd, or $NOTIFIERD), with a
// small in-memory "database" that the loads read and the test changes
// (publishing each change with POST /publish, as an application server
// would).

import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';

import { live } from './live.js';
import { client, closeClients, server, serverSet, state, stopServers } from './testing/fixtures.js';
import { snapshot } from './testing/loads.js';
import { barrier, type Post, Posts } from './testing/posts.js';

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

describe('live() against notifierd', () => {
  it('reload mode: a change during the load causes exactly one more load', async () => {
    const { hub, c, db } = await setUp();
    await db.put({ id: '1', forum_id: 7, title: 'first' });
    let loads = 0;
    const q = live(c, 'posts', async () => {
      loads++;
      const rows = db.select();
      if (loads === 1) {
        // Another writer, after the snapshot was read.
        await db.putSeen(c, { id: '2', forum_id: 7, title: 'second' });
      }
      return rows;
    });
    const s = await snapshot(q, (x) => x.data?.length === 2, 'both posts');
    assert.equal(s.status, 'live');
    await barrier(hub, c);
    assert.equal(loads, 2, 'two loads, not three');
    await db.put({ id: '3', forum_id: 8, title: 'third' });
    await snapshot(q, (x) => x.data?.length === 3, 'the third post');
    assert.equal(loads, 3);
  });

  it('apply mode: a change during the load is applied to its result', async () => {
    const { c, db } = await setUp();
    await db.put({ id: '1', forum_id: 7, title: 'first' });
    let loads = 0;
    const q = live<Post[], Post>(
      c,
      'posts',
      async () => {
        loads++;
        const rows = db.select();
        if (loads === 1) await db.putSeen(c, { id: '1', forum_id: 7, title: 'edited' });
        return rows;
      },
      { apply: (rows, n) => [...rows.filter((r) => r.id !== n.id), n.data].sort((a, b) => a.id.localeCompare(b.id)) },
    );
    let s = await snapshot(q, (x) => x.status === 'live', 'live');
    assert.deepEqual(s.data, [{ id: '1', forum_id: 7, title: 'edited' }], 'the load read "first"; the change was applied to it');
    await db.put({ id: '2', forum_id: 7, title: 'second' });
    s = await snapshot(q, (x) => x.data?.length === 2, 'the second post');
    assert.equal(loads, 1);
  });

  it('close() releases the subscription once no query or handler needs it', async () => {
    const { c } = await setUp();
    const a = live(c, 'posts', () => 'a');
    const b = live(c, 'posts', () => 'b');
    await serverSet(c, ['barrier', 'posts']);
    await snapshot(a, (x) => x.status === 'live', 'a live');
    await snapshot(b, (x) => x.status === 'live', 'b live');
    a.close();
    assert.deepEqual(c.subscriptions, ['barrier', 'posts']);
    b.close();
    await serverSet(c, ['barrier']);
  });

  it('loads again after the server restarted (resync)', async () => {
    const { hub, c, db } = await setUp();
    let loads = 0;
    const q = live(c, 'posts', () => {
      loads++;
      return db.select();
    });
    await snapshot(q, (x) => x.status === 'live', 'live');
    const port = hub.port;
    await hub.stop();
    await state(c, 'reconnecting');
    const restarted = await server([], port);
    db.rows.set('9', { id: '9', forum_id: 7, title: 'written while the server was down' });
    await snapshot(q, (x) => x.data?.length === 1, 'reloaded after the resync');
    await state(c, 'live');
    await barrier(restarted, c);
    assert.equal(loads, 2);
  });
});
