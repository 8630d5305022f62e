// SPDX-License-Identifier: MIT
// The forum demo over Server-Sent Events in a real browser: a page told
// ?transport=sse reads the hub's /sse through Chromium's EventSource and
// opens no WebSocket; a page left on the default (auto) whose WebSocket
// connections fail (page.routeWebSocket closes each one before the server
// says anything: page.route does not see WebSocket handshakes) moves to
// the event stream after three attempts. Both stay live: a post created in
// one page shows in the other, a forum switch reopens the stream with the
// new forum's filter, and a server restart resyncs them.
//
// Debian's Chromium (/usr/bin/chromium) driven by playwright-core. Every
// wait has a deadline; nothing sleeps.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { cleanUp, forumApi, forumRow, launchForumBrowser, newPage, postRow, tempDir } from './e2e_support.mjs';
import { ForumServer } from './forum_server.mjs';

/** A change made in one place must show in the other page this fast. */
const LIVE_MS = 2_000;
/** Three failed WebSocket attempts with the client's backoff, then the stream. */
const FALLBACK_MS = 15_000;
/** Reconnecting after a restart goes through the client's backoff. */
const RECOVER_MS = 20_000;

describe('forum demo over Server-Sent Events in Chromium', () => {
  let dir, server, context, sse, auto;
  const pageErrors = [];
  const webSockets = { sse: 0, auto: 0 };
  let routedWebSockets = 0;

  let api;
  const badge = (page, state, transport) =>
    page.locator(`#state[data-state="${state}"][data-transport="${transport}"]`);

  before(async () => {
    dir = tempDir('notifier-e2e-sse-');
    server = await new ForumServer(join(dir, 'forum.db')).start();
    api = forumApi(server);
    await api('POST', '/api/forums', { name: 'General' });
    context = await launchForumBrowser(dir);
    sse = await newPage(context, pageErrors);
    auto = await newPage(context, pageErrors);
    for (const [name, p] of Object.entries({ sse, auto })) p.on('websocket', () => webSockets[name]++);
    // A network that breaks WebSocket connections, for the auto page only.
    await auto.routeWebSocket(/\/ws(\?|$)/, (ws) => {
      routedWebSockets++;
      ws.close({ code: 1011, reason: 'blocked' });
    });
    await sse.goto(new URL('/?transport=sse', server.url).href);
    await badge(sse, 'live', 'sse').waitFor({ timeout: 10_000 });
    await auto.goto(server.url);
    await auto.bringToFront();
  });

  after(async () => {
    await cleanUp({ context, stop: [() => server?.kill()], dir });
  });

  it('?transport=sse reads the event stream and opens no WebSocket', async () => {
    assert.equal(await sse.evaluate(() => window.notifierClient.transport), 'sse');
    assert.equal(webSockets.sse, 0);
    await forumRow(sse, 'General').waitFor({ timeout: LIVE_MS });
  });

  it('auto moves to the event stream when WebSocket connections fail', async () => {
    await badge(auto, 'live', 'sse').waitFor({ timeout: FALLBACK_MS });
    assert.equal(routedWebSockets, 3, 'three WebSocket attempts, then the stream');
    await forumRow(auto, 'General').waitFor({ timeout: LIVE_MS });
  });

  it('a post created in one page shows in the other, both ways', async () => {
    await auto.fill('#new-post input[name=title]', 'From the auto page');
    await auto.click('#new-post button[type=submit]');
    await postRow(sse, 'From the auto page').waitFor({ timeout: LIVE_MS });

    await sse.bringToFront();
    await sse.fill('#new-post input[name=title]', 'From the sse page');
    await sse.click('#new-post button[type=submit]');
    await postRow(auto, 'From the sse page').waitFor({ timeout: LIVE_MS });
    await postRow(sse, 'From the sse page').waitFor({ timeout: LIVE_MS });
  });

  it('a forum switch reopens the stream on the new forum, which stays live', async () => {
    const { id } = await api('POST', '/api/forums', { name: 'Second' });
    for (const p of [sse, auto]) {
      await forumRow(p, 'Second').waitFor({ timeout: LIVE_MS });
      await forumRow(p, 'Second').locator('.name').click();
      await p.locator(`#posts[data-forum-id="${id}"][data-status="live"]`).waitFor({ state: 'attached', timeout: LIVE_MS });
    }
    await api('POST', '/api/posts', { forum_id: id, title: 'In the second forum', body: '' });
    for (const p of [sse, auto]) await postRow(p, 'In the second forum').waitFor({ timeout: LIVE_MS });
    for (const p of [sse, auto]) {
      const set = await p.evaluate(() => window.notifierClient.serverSubscriptions);
      assert.deepEqual(set, ['forums', `posts[forum_id=${id}]`]);
    }
  });

  it('resyncs after a server restart and stays on the stream', async () => {
    await server.stop();
    await Promise.all([sse, auto].map((p) => p.locator('#state[data-state="reconnecting"]').waitFor({ timeout: 10_000 })));
    await server.start();
    for (const p of [sse, auto]) {
      await p.locator('#state[data-state="live"][data-resynced="true"][data-transport="sse"]').waitFor({ timeout: RECOVER_MS });
    }
    await api('POST', '/api/forums', { name: 'After the restart' });
    for (const p of [sse, auto]) await forumRow(p, 'After the restart').waitFor({ timeout: LIVE_MS });
    assert.equal(routedWebSockets, 3, 'no WebSocket attempt once on the stream');
    assert.equal(webSockets.sse, 0);
    assert.deepEqual(pageErrors, []);
    for (const p of [sse, auto]) assert.equal(await p.locator('#error').isHidden(), true);
  });
});
