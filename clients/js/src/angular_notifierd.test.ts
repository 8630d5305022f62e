// SPDX-License-Identifier: MIT
// NotificationService.live() as an Angular app uses it: provided by a
// factory in an Angular injector, its query turned into a signal with
// toSignal() in that injector's context, loads that return Observables
// (like HttpClient's), against a real notifierd fed by POST /publish.
// Destroying the injector ends the query and closes the client.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { Injector, runInInjectionContext } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { filter, firstValueFrom, map, shareReplay, timer } from 'rxjs';
import WebSocket from 'ws';

import { NotificationService } from './angular.js';
import type { LiveSnapshot } from './live.js';
import { server, serverSet, stopServers } from './testing/fixtures.js';
import { withTimeout } from './testing/notifierd.js';
import { barrier, type Post, Posts } from './testing/posts.js';
import { where } from './topics.js';
import type { WebSocketConstructor } from './types.js';

after(stopServers);

describe('Angular: NotificationService.live()', () => {
  it('keeps a signal of one forum\'s posts up to date; destroying the injector closes everything', async () => {
    const hub = await server();
    const db = new Posts(hub);
    await db.put({ id: '1', forum_id: 7, title: 'before' });
    const injector = Injector.create({
      providers: [
        {
          provide: NotificationService,
          useFactory: () =>
            new NotificationService({
              url: hub.url,
              WebSocket: WebSocket as unknown as WebSocketConstructor,
              reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
            }),
        },
      ],
    });
    const service = injector.get(NotificationService);
    service.client.on('barrier', () => {});
    let loads = 0;
    // One query shared by the signal and the test's waits.
    const posts$ = service
      .live(where<Post>('posts', { forum_id: 7 }), () => {
        loads++;
        // An Observable that answers later, as HttpClient's does.
        return timer(1).pipe(map(() => db.select(7)));
      })
      .pipe(shareReplay({ bufferSize: 1, refCount: true }));
    const posts = runInInjectionContext(injector, () => toSignal(posts$, { requireSync: true }));
    assert.equal(posts().status, 'loading');
    const until = (predicate: (s: LiveSnapshot<Post[]>) => boolean, what: string) =>
      withTimeout(firstValueFrom(posts$.pipe(filter(predicate))), what);

    await until((s) => s.status === 'live', 'the first snapshot');
    assert.deepEqual(posts().data?.map((p) => p.title), ['before']);

    await db.put({ id: '2', forum_id: 7, title: 'new' });
    await until((s) => s.data?.length === 2, 'the new post');
    assert.deepEqual(posts().data?.map((p) => p.title), ['before', 'new']);

    await db.put({ id: '1', forum_id: 8, title: 'before' });
    await until((s) => s.data?.length === 1, 'the moved post gone');
    assert.deepEqual(posts().data?.map((p) => p.id), ['2']);

    const seen = loads;
    await db.put({ id: '3', forum_id: 8, title: 'elsewhere' });
    await barrier(hub, service.client);
    assert.equal(loads, seen, 'a post of forum 8 loads nothing');
    assert.equal(posts().status, 'live');

    await serverSet(service.client, ['barrier', 'posts[forum_id=7]']);
    injector.destroy();
    assert.equal(service.client.state, 'closed', 'ngOnDestroy closed the client');
    assert.deepEqual(service.client.subscriptions, ['barrier'], 'the query released its subscription');
  });
});
