// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { firstValueFrom, filter, take, toArray } from 'rxjs';
import WebSocket from 'ws';

import { NotifierClient } from './client.js';
import { connectionState, fromCollection } from './rxjs.js';
import { Notifierd, waitFor, withTimeout } from './testing/notifierd.js';
import type { WebSocketConstructor } from './types.js';

describe('RxJS adapters', () => {
  let server: Notifierd;
  const clients: NotifierClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await server?.stop();
  });

  it('fromCollection emits matching notifications and releases the subscription', async () => {
    server = await Notifierd.start();
    const c = new NotifierClient({ url: server.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    clients.push(c);
    const two = firstValueFrom(fromCollection(c, 'forums').pipe(take(2), toArray()));
    await withTimeout(firstValueFrom(connectionState(c).pipe(filter((s) => s === 'live'))), 'live');
    await waitFor<string[]>((cb) => { cb(c.serverSubscriptions); return c.onSubscriptions(cb); },
      (set) => set.includes('forums'), 'subscribed');
    await server.publish([{ collection: 'posts', action: 'create' }, { collection: 'forums', action: 'create', id: 1 },
      { collection: 'forums', action: 'delete', id: 1 }]);
    const got = await withTimeout(two, 'two forums notifications');
    assert.deepEqual(got.map((n) => n.action), ['create', 'delete']);
    // take(2) completed the observable: the connection no longer needs forums.
    await waitFor<string[]>((cb) => { cb(c.serverSubscriptions); return c.onSubscriptions(cb); },
      (set) => set.length === 0, 'the subscription released');
    assert.deepEqual(c.subscriptions, []);
  });
});
