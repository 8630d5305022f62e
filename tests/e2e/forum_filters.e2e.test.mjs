// SPDX-License-Identifier: MIT
// The forum demo's filtered live queries in a real browser: page A shows
// forum 1, page B forum 2, each subscribed to posts[forum_id=N] only. A post
// shows on its forum's page alone; moved to the other forum with the sqlite3
// shell (the capture sends the row before the change as `old`), it leaves A
// and enters B; deleted from the shell, it leaves B. Changes in a third
// forum reach neither page and cause no reload of their posts (each page
// counts its posts requests in body[data-posts-loads] and keeps the
// notifications it received in window.notifierLog). Switching forums drops
// a slow answer for the forum left.
//
// Debian's Chromium (/usr/bin/chromium) driven by playwright-core. Every
// wait has a deadline; nothing sleeps. "Nothing arrived" is checked after a
// fence: a forum created afterwards, which every page receives later than
// anything published before it (one connection delivers in seq order).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  cleanUp, forumApi, forumRow, launchForumBrowser, newPage, openLive, postRow, sqlite3 as shell, tempDir,
} from './e2e_support.mjs';
import { ForumServer } from './forum_server.mjs';

/** A change made in one place must show in the other page this fast. */
const LIVE_MS = 2_000;

/** Another process writing to the database, as a person with a shell would. */
const sqlite3 = (db, sql) => shell(db, sql, 5_000);

describe('forum demo: filtered live queries in Chromium', () => {
  let dir, server, context, a, b;
  const forumIds = {};
  const pageErrors = [];

  let api;
  const postsLoads = async (page) => Number(await page.evaluate(() => document.body.dataset.postsLoads));
  /** The posts notifications a page received about post `id`. */
  const received = (page, id) => page.evaluate((postId) =>
    window.notifierLog.filter((n) => n.collection === 'posts' && n.id === String(postId))
      .map((n) => ({ action: n.action, data: n.data ?? null, old: n.old ?? null })), id);
  /** Waits until `page` shows forum `id`'s posts, loaded. */
  const showing = (page, id) =>
    page.locator(`#posts[data-forum-id="${id}"][data-status="live"]`).waitFor({ state: 'attached', timeout: LIVE_MS });

  let fences = 0;
  /** Creates a forum and waits until both pages list it: whatever was
   * published before has reached them by then, if it was going to. */
  async function fence() {
    const name = `Fence ${++fences}`;
    await api('POST', '/api/forums', { name });
    await Promise.all([a, b].map((p) => forumRow(p, name).waitFor({ timeout: LIVE_MS })));
  }

  before(async () => {
    dir = tempDir('notifier-e2e-filters-');
    server = await new ForumServer(join(dir, 'forum.db')).start();
    api = forumApi(server);
    for (const name of ['One', 'Two', 'Three']) forumIds[name] = (await api('POST', '/api/forums', { name })).id;
    context = await launchForumBrowser(dir);
    a = await newPage(context, pageErrors);
    b = await newPage(context, pageErrors);
    for (const p of [a, b]) await openLive(p, server.url);
    // A shows the first forum, B is switched to the second.
    await showing(a, forumIds.One);
    await forumRow(b, 'Two').locator('.name').click();
    await showing(b, forumIds.Two);
    assert.equal(await b.locator('#posts-title').textContent(), 'Posts in Two');
    await a.bringToFront();
  });

  after(async () => {
    await cleanUp({ context, stop: [() => server?.kill()], dir });
  });

  let moved; // the post that travels from forum 1 to forum 2

  it('shows a post created in forum 1 on the page of forum 1 only', async () => {
    const [loadsA, loadsB] = [await postsLoads(a), await postsLoads(b)];
    await a.fill('#new-post input[name=title]', 'Traveller');
    await a.fill('#new-post textarea[name=body]', 'starts in forum 1');
    await a.click('#new-post button[type=submit]');
    await postRow(a, 'Traveller').waitFor({ timeout: LIVE_MS });
    moved = Number(await postRow(a, 'Traveller').getAttribute('data-post-id'));
    await fence();
    assert.equal(await postRow(b, 'Traveller').count(), 0);
    assert.deepEqual(await received(b, moved), [], 'page B received forum 1\'s post');
    assert.equal(await postsLoads(b), loadsB, 'page B loaded its posts again');
    // The counter does count: A loaded once more for its new post.
    assert.equal(await postsLoads(a), loadsA + 1);
    assert.deepEqual(await received(a, moved),
      [{ action: 'create', data: { forum_id: forumIds.One, title: 'Traveller', body: 'starts in forum 1' }, old: null }]);
  });

  it('moves the post from A to B when the sqlite3 shell changes its forum_id', async () => {
    await sqlite3(server.dbPath, `UPDATE posts SET forum_id = ${forumIds.Two} WHERE id = ${moved};`);
    await Promise.all([
      postRow(a, 'Traveller').waitFor({ state: 'detached', timeout: LIVE_MS }),
      postRow(b, 'Traveller').waitFor({ timeout: LIVE_MS }),
    ]);
    // Both heard of it: A through `old` (it left), B through `data` (it came).
    const update = { action: 'update', data: { forum_id: forumIds.Two, title: 'Traveller', body: 'starts in forum 1' },
      old: { forum_id: forumIds.One, title: 'Traveller', body: 'starts in forum 1' } };
    assert.deepEqual((await received(a, moved)).at(-1), update);
    assert.deepEqual((await received(b, moved)).at(-1), update);
    for (const p of [a, b]) assert.equal(await p.evaluate(() => window.__sameDocument), true, 'the page reloaded');
  });

  it('removes the post from B when the sqlite3 shell deletes it, and A hears nothing', async () => {
    const [loadsA, receivedA] = [await postsLoads(a), (await received(a, moved)).length];
    await sqlite3(server.dbPath, `DELETE FROM posts WHERE id = ${moved};`);
    await postRow(b, 'Traveller').waitFor({ state: 'detached', timeout: LIVE_MS });
    assert.equal((await received(b, moved)).at(-1).action, 'delete');
    await fence();
    assert.equal((await received(a, moved)).length, receivedA, 'page A received the delete of a post of forum 2');
    assert.equal(await postsLoads(a), loadsA, 'page A loaded its posts again');
  });

  it('reloads neither page for a post created, edited and deleted in a third forum', async () => {
    const [loadsA, loadsB] = [await postsLoads(a), await postsLoads(b)];
    const elsewhere = await api('POST', '/api/posts', { forum_id: forumIds.Three, title: 'Elsewhere', body: '' });
    await api('PUT', `/api/posts/${elsewhere.id}`, { forum_id: forumIds.Three, title: 'Elsewhere, edited', body: '' });
    await sqlite3(server.dbPath, `DELETE FROM posts WHERE id = ${elsewhere.id};`);
    await fence();
    for (const [page, loads] of [[a, loadsA], [b, loadsB]]) {
      assert.deepEqual(await received(page, elsewhere.id), [], 'a page received a post of forum 3');
      assert.equal(await postsLoads(page), loads, 'a page loaded its posts for a change in forum 3');
    }
  });

  it('drops a slow answer for the forum left when switching', async () => {
    await api('POST', '/api/posts', { forum_id: forumIds.One, title: 'Only in one', body: '' });
    await api('POST', '/api/posts', { forum_id: forumIds.Two, title: 'Only in two', body: '' });
    await postRow(b, 'Only in two').waitFor({ timeout: LIVE_MS });
    // Forum 1's posts answer B only when the test says so.
    let requested, release;
    const seen = new Promise((ok) => { requested = ok; });
    const gate = new Promise((ok) => { release = ok; });
    let answered;
    const forumOnePosts = (url) => url.pathname === '/api/posts' && url.searchParams.get('forum_id') === String(forumIds.One);
    await b.route(forumOnePosts, (route) => {
      requested();
      answered = gate.then(() => route.continue()).catch(() => {}); // aborted by the page: fine
    });
    await b.bringToFront();
    await forumRow(b, 'One').locator('.name').click();
    await seen;
    await forumRow(b, 'Two').locator('.name').click();
    await showing(b, forumIds.Two);
    await postRow(b, 'Only in two').waitFor({ timeout: LIVE_MS });
    release();
    await answered;
    await fence();
    await b.unroute(forumOnePosts);
    assert.equal(await b.locator('#posts-title').textContent(), 'Posts in Two');
    assert.deepEqual(await b.locator('#posts li .title').allTextContents(), ['Only in two']);
    assert.equal(await b.locator('#posts').getAttribute('data-forum-id'), String(forumIds.Two));
    // And forum 1 still loads when chosen again.
    await forumRow(b, 'One').locator('.name').click();
    await showing(b, forumIds.One);
    await postRow(b, 'Only in one').waitFor({ timeout: LIVE_MS });
    await a.bringToFront();
  });

  it('raised no page error and shows no error', async () => {
    assert.deepEqual(pageErrors, []);
    for (const p of [a, b]) assert.equal(await p.locator('#error').isHidden(), true);
  });
});
