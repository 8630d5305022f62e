// SPDX-License-Identifier: MIT
// The Angular service and the RxJS error stream, against a scripted server.
// (NotificationService.live() in an Angular injector: angular_notifierd;
// the React hooks need a renderer: tests/e2e/react_live.e2e.test.mjs runs
// useLive() in Chromium, and the packaging test type-checks and imports
// them.)

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { firstValueFrom, filter, take, toArray } from 'rxjs';
import WebSocket from 'ws';

import { NotificationService } from './angular.js';
import { NotifierClient } from './client.js';
import { errors } from './rxjs.js';
import { state } from './testing/fixtures.js';
import { cleanUp, fakeClient, fakeServer } from './testing/fake_server.js';
import { withTimeout } from './testing/notifierd.js';
import type { WebSocketConstructor } from './types.js';

afterEach(cleanUp);

interface Post {
  title: string;
}

describe('adapters', () => {
  it('NotificationService: typed collections, state, resync and errors; ngOnDestroy closes its client', async () => {
    const s = await fakeServer();
    const service = new NotificationService({ url: s.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    try {
      const titles = firstValueFrom(service.collection<Post>('posts').pipe(take(2), toArray()));
      await withTimeout(firstValueFrom(service.state$.pipe(filter((st) => st === 'live'))), 'live');
      const conn = await s.connection(1);
      assert.equal(conn.url.searchParams.get('collections'), 'posts');
      const resync = firstValueFrom(service.resync$);
      const error = firstValueFrom(service.error$);
      conn.send({ seq: 1, collection: 'posts', action: 'create', id: '1', data: { title: 'one' } });
      conn.send({ seq: 2, collection: 'posts', action: 'update', id: '1', data: { title: 'two' } });
      conn.send({ type: 'resync', epoch: 'e2', seq: 9 });
      conn.send({ type: 'error', code: 'rate_limited', message: 'slow down' });
      assert.deepEqual((await withTimeout(titles, 'posts')).map((n) => n.data.title), ['one', 'two']);
      assert.deepEqual(await withTimeout(resync, 'resync'), { epoch: 'e2', seq: 9 });
      assert.equal((await withTimeout(error, 'error')).code, 'rate_limited');
      service.setToken('t2');
      assert.equal((await conn.frame('auth')).token, 't2');
    } finally {
      service.ngOnDestroy();
    }
    assert.equal(service.client.state, 'closed');
  });

  it('NotificationService leaves a client it was given open', async () => {
    const s = await fakeServer();
    const c = fakeClient(s);
    const service = new NotificationService(c);
    assert.equal(service.client, c);
    await state(c, 'live');
    service.ngOnDestroy();
    assert.equal(c.state, 'live');
  });

  it('errors() emits refusals', async () => {
    const s = await fakeServer();
    s.onConnection = (conn) => conn.refuse(4401, 'unauthorized', 'no token');
    const c = new NotifierClient({ url: s.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    try {
      const e = await withTimeout(firstValueFrom(errors(c)), 'an error');
      assert.deepEqual(e, { code: 'unauthorized', message: 'no token', closeCode: 4401 });
    } finally {
      c.close();
    }
  });
});
