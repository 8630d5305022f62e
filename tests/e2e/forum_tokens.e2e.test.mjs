// SPDX-License-Identifier: MIT
// The forum demo started with --jwt-secret, in a real browser: a page opened
// with `?token=` for a token that reads `forums` and `posts[forum_id=1]`
// shows forum 1's posts live, is refused forum 2 (the page shows
// `forbidden`), and never receives a post of forum 2 — not through the
// refused subscription, nor through a broader one tried from the page's
// console. A page without a token is refused (`unauthorized`).
//
// Debian's Chromium (/usr/bin/chromium) driven by playwright-core. Every
// wait has a deadline; nothing sleeps. "Nothing arrived" is checked after a
// fence: a post of forum 1 created afterwards, which the page receives later
// than anything published before it (one connection delivers in seq order).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  cleanUp, forumApi, forumRow as forumRowOf, hs256, launchForumBrowser, newPage, openLive, postRow as postRowOf,
  tempDir,
} from './e2e_support.mjs';
import { ForumServer, forumBinary } from './forum_server.mjs';

const SECRET = 'forum-e2e-secret-of-at-least-32-bytes';
const LIVE_MS = 2_000;

describe('forum demo with subscriber tokens in Chromium', () => {
  let dir, server, context, page;
  const forumIds = {};
  const pageErrors = [];

  let api;
  const forumRow = (name) => forumRowOf(page, name);
  const postRow = (title) => postRowOf(page, title);
  const showing = (id) =>
    page.locator(`#posts[data-forum-id="${id}"][data-status="live"]`).waitFor({ state: 'attached', timeout: LIVE_MS });
  /** The posts notifications the page received about forum `forumId`'s rows. */
  const receivedOf = (forumId) => page.evaluate((id) =>
    window.notifierLog.filter((n) => n.collection === 'posts' && (n.data?.forum_id === id || n.old?.forum_id === id)),
  forumId);

  let fences = 0;
  /** A post in forum 1, once the page shows it. */
  async function fence() {
    const title = `Fence ${++fences}`;
    await api('POST', '/api/posts', { forum_id: forumIds.One, title, body: '' });
    await postRow(title).waitFor({ timeout: LIVE_MS });
  }

  before(async () => {
    dir = tempDir('notifier-e2e-tokens-');
    server = await new ForumServer(join(dir, 'forum.db'), 0, ['--jwt-secret', SECRET]).start();
    api = forumApi(server);
    for (const name of ['One', 'Two']) forumIds[name] = (await api('POST', '/api/forums', { name })).id;
    context = await launchForumBrowser(dir);
    page = await newPage(context, pageErrors);
  });

  after(async () => {
    await cleanUp({ context, stop: [() => server?.kill()], dir });
  });

  it('refuses a too short secret, as notifierd does', async () => {
    const { error, stderr } = await new Promise((ok) => execFile(forumBinary(),
      ['--listen', '127.0.0.1:0', '--db', join(dir, 'unused.db'), '--jwt-secret', 'short'],
      { timeout: 10_000 }, (error, stdout, stderr) => ok({ error, stderr })));
    assert.equal(error?.code, 2);
    assert.match(stderr, /--jwt-secret: an HS256 secret must be at least 32 bytes/);
  });

  it('refuses a page without a token: unauthorized', async () => {
    await page.goto(server.url);
    await page.locator('#error[data-code="unauthorized"]').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#error').textContent(), /^unauthorized: /);
    await page.locator('#state[data-state="closed"]').waitFor({ timeout: LIVE_MS });
  });

  it('shows forum 1 live to a token for forum 1', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = hs256({ sub: 'reader-1', exp: now + 3600,
      notifier: { read: ['forums', `posts[forum_id=${forumIds.One}]`] } }, SECRET);
    await openLive(page, `${server.url}?token=${token}`);
    await showing(forumIds.One);
    await api('POST', '/api/posts', { forum_id: forumIds.One, title: 'For readers of one', body: '' });
    await postRow('For readers of one').waitFor({ timeout: LIVE_MS });
    // The forum list is in the token too.
    await api('POST', '/api/forums', { name: 'Three' });
    await forumRow('Three').waitFor({ timeout: LIVE_MS });
    assert.equal(await page.locator('#error').isHidden(), true);
  });

  it('refuses forum 2 with forbidden, and no post of forum 2 reaches the page', async () => {
    await forumRow('Two').locator('.name').click();
    await page.locator('#error[data-code="forbidden"]').waitFor({ timeout: LIVE_MS });
    assert.equal(await page.locator('#error').textContent(),
      `forbidden: not allowed to read "posts[forum_id=${forumIds.Two}]"`);
    await page.locator(`#posts[data-forum-id="${forumIds.Two}"][data-status="error"]`)
      .waitFor({ state: 'attached', timeout: LIVE_MS });
    const loads = await page.evaluate(() => document.body.dataset.postsLoads);
    // A broader subscription, tried from the page: refused as well.
    const refusal = await page.evaluate((wait) => new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('no refusal')), wait);
      const off = window.notifierClient.onError((e) => {
        clearTimeout(timer);
        off();
        ok({ code: e.code, entries: e.entries });
      });
      window.notifierClient.subscribe('posts');
    }), LIVE_MS);
    assert.deepEqual(refusal, { code: 'forbidden', entries: ['posts'] });

    await api('POST', '/api/posts', { forum_id: forumIds.Two, title: 'Not for readers of one', body: '' });
    // Back to forum 1, where the fence shows.
    await forumRow('One').locator('.name').click();
    await showing(forumIds.One);
    await fence();
    assert.deepEqual(await receivedOf(forumIds.Two), [], 'a post of forum 2 reached the page');
    assert.equal(await postRow('Not for readers of one').count(), 0);
    // Forum 2 was never loaded: its subscription was refused first.
    assert.equal(Number(await page.evaluate(() => document.body.dataset.postsLoads)), Number(loads) + 2);
    assert.equal(await page.locator('#error').isHidden(), true, 'forum 1 loaded, the refusal of forum 2 is over');
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page reloaded');
    assert.deepEqual(pageErrors, []);
  });
});
