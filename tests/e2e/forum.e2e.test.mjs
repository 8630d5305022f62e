// SPDX-License-Identifier: MIT
// The forum demo in a real browser: two pages of the same forum stay in sync
// without a reload, whoever changes the data (the other page, the sqlite3
// shell), and recover when the server restarts.
//
// Debian's Chromium (/usr/bin/chromium) driven by playwright-core; no
// browser download. Every wait has a deadline; nothing sleeps.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  cleanUp, forumRow, launchForumBrowser, newPage, openLive, postRow, sqlite3, tempDir,
} from './e2e_support.mjs';
import { ForumServer } from './forum_server.mjs';

/** A change made in one place must show in the other page this fast. */
const LIVE_MS = 1_000;
/** Reconnecting after a restart goes through the client's backoff. */
const RECOVER_MS = 20_000;

const artifacts = resolve(process.env.E2E_ARTIFACTS ?? join(import.meta.dirname ?? '.', 'artifacts'));

describe('forum demo in Chromium', () => {
  let dir, server, context, a, b;
  const pageErrors = [];

  before(async () => {
    dir = tempDir('notifier-e2e-');
    server = await new ForumServer(join(dir, 'forum.db')).start();
    context = await launchForumBrowser(dir);
    a = await newPage(context, pageErrors);
    b = await newPage(context, pageErrors);
    for (const p of [a, b]) await openLive(p, server.url);
    // Changes are made in page a: in front, where input events are not
    // throttled. Page b, behind it, must update all the same.
    await a.bringToFront();
  });

  after(async () => {
    if (b) {
      mkdirSync(artifacts, { recursive: true });
      await b.bringToFront().catch(() => {});
      await b.screenshot({ path: join(artifacts, 'forum-final.png'), fullPage: true }).catch(() => {});
    }
    await cleanUp({ context, stop: [() => server?.kill()], dir });
  });

  it('shows a forum created in one page in the other', async () => {
    await a.fill('#new-forum input[name=name]', 'General');
    await a.click('#new-forum button[type=submit]');
    await forumRow(b, 'General').waitFor({ timeout: LIVE_MS });
    await forumRow(a, 'General').waitFor({ timeout: LIVE_MS });
  });

  it('shows posts created, edited and deleted in one page in the other', async () => {
    await a.fill('#new-post input[name=title]', 'Hello');
    await a.fill('#new-post textarea[name=body]', 'First post');
    await a.click('#new-post button[type=submit]');
    await postRow(b, 'Hello').waitFor({ timeout: LIVE_MS });
    assert.equal(await postRow(b, 'Hello').locator('.body').textContent(), 'First post');

    await postRow(a, 'Hello').locator('button.edit').click();
    await a.fill('#posts form.edit input[name=title]', 'Hello, edited');
    await a.click('#posts form.edit button[type=submit]');
    await postRow(b, 'Hello, edited').waitFor({ timeout: LIVE_MS });

    await postRow(a, 'Hello, edited').locator('button.delete').click();
    await postRow(b, 'Hello, edited').waitFor({ state: 'detached', timeout: LIVE_MS });
  });

  it('shows a rename made in one page in the other', async () => {
    await forumRow(a, 'General').locator('button.rename').click();
    await a.fill('#forums form.edit input[name=name]', 'General chat');
    await a.click('#forums form.edit button[type=submit]');
    await forumRow(b, 'General chat').waitFor({ timeout: LIVE_MS });
    assert.equal(await b.locator('#posts-title').textContent(), 'Posts in General chat');
  });

  it('shows changes made with the sqlite3 shell', async () => {
    await sqlite3(server.dbPath, "INSERT INTO forums (name) VALUES ('From the shell');");
    await Promise.all([forumRow(a, 'From the shell').waitFor({ timeout: LIVE_MS }),
      forumRow(b, 'From the shell').waitFor({ timeout: LIVE_MS })]);
    await sqlite3(server.dbPath,
      "INSERT INTO posts (forum_id, title, body) SELECT id, 'Shell post', 'via sqlite3' FROM forums WHERE name = 'General chat';");
    await postRow(b, 'Shell post').waitFor({ timeout: LIVE_MS });
    // The capture reports on /metrics: connected, and every change so far counted.
    const metrics = await (await fetch(new URL('metrics', server.url))).text();
    assert.match(metrics, /^notifier_source_up\{source="sqlite"\} 1$/m);
    const changes = Number(/^notifier_source_changes_total\{source="sqlite"\} (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(changes >= 2, `notifier_source_changes_total: ${changes}`);
    assert.match(metrics, /^notifier_source_errors_total\{source="sqlite"\} 0$/m);
  });

  it('recovers after the server restarts, with what changed meanwhile', async () => {
    await server.stop();
    await Promise.all([a, b].map((p) => p.locator('#state[data-state="reconnecting"]').waitFor({ timeout: 10_000 })));
    // Written while no server runs: the triggers log it for the next start.
    await sqlite3(server.dbPath, "INSERT INTO forums (name) VALUES ('Written while down');"
      + "UPDATE posts SET title = 'Shell post, renamed offline' WHERE title = 'Shell post';");
    await server.start();
    for (const p of [a, b]) {
      await p.locator('#state[data-state="live"][data-resynced="true"]').waitFor({ timeout: RECOVER_MS });
      await forumRow(p, 'Written while down').waitFor({ timeout: RECOVER_MS });
      await postRow(p, 'Shell post, renamed offline').waitFor({ timeout: RECOVER_MS });
    }
    // And live again afterwards.
    await a.fill('#new-forum input[name=name]', 'After the restart');
    await a.click('#new-forum button[type=submit]');
    await forumRow(b, 'After the restart').waitFor({ timeout: LIVE_MS });
  });

  it('shows a deletion made in one page in the other, without any reload', async () => {
    await forumRow(a, 'From the shell').locator('button.delete').click();
    await forumRow(b, 'From the shell').waitFor({ state: 'detached', timeout: LIVE_MS });
    for (const p of [a, b]) assert.equal(await p.evaluate(() => window.__sameDocument), true, 'the page reloaded');
    assert.deepEqual(pageErrors, []);
    assert.equal(await b.locator('#error').isHidden(), true);
  });
});
