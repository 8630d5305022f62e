// SPDX-License-Identifier: MIT
// The React hook useLive() in headless Chromium against a real notifierd:
// a page lists the posts of forum 7 through a filtered subscription
// (`posts[forum_id=7]`), loading them from a small REST endpoint served
// here. The test writes to that endpoint's table and publishes each change
// with POST /publish (data, and old for an update), as an application
// server would, then checks the DOM:
//
// * a post into forum 7 appears;
// * a post moved from forum 7 to 8 (data forum 8, old forum 7) arrives by
//   its old row and leaves the list after the reload;
// * a post into forum 8 is never sent to the page (and loads nothing).
//
// The page is bundled by esbuild from clients/js/src with React and
// react-dom from clients/js/node_modules (`npm ci` there). Every wait has a
// deadline; nothing sleeps.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { cleanUp, launchChromium, newPage, startNotifierd, tempDir } from './e2e_support.mjs';

const here = import.meta.dirname ?? '.';
const root = resolve(here, '..', '..');
const js = join(root, 'clients', 'js');
const WAIT_MS = 10_000;

/** The page: useLive() on a filtered topic, rendered into #root. */
const PAGE_TSX = `
import { createRoot } from 'react-dom/client';
import { NotifierClient, where } from './src/index.ts';
import { useConnectionState, useLive } from './src/react.ts';

const client = new NotifierClient({ url: new URL(location.href).searchParams.get('hub') });
// What the server sent, for the test to check that it filtered.
window.received = [];
client.onNotification((n) => window.received.push(n));

function Posts() {
  const { data, status, error } = useLive(client, where('posts', { forum_id: 7 }), async (signal) => {
    const r = await fetch('/api/forums/7/posts', { signal });
    if (!r.ok) throw new Error('GET /api/forums/7/posts: ' + r.status);
    return r.json();
  });
  const state = useConnectionState(client);
  return (
    <section id="posts" data-status={status} data-state={state}>
      {error ? <p id="error">{String(error)}</p> : null}
      <ul>{(data ?? []).map((p) => <li key={p.id} data-id={p.id}>{p.title}</li>)}</ul>
    </section>
  );
}

createRoot(document.getElementById('root')).render(<Posts />);
`;

async function bundlePage() {
  const require = createRequire(join(js, 'package.json'));
  let esbuild;
  try {
    esbuild = require('esbuild');
    require.resolve('react-dom/client');
  } catch (error) {
    throw new Error(`clients/js has no node_modules (run npm ci there): ${error.message}`);
  }
  const out = await esbuild.build({
    stdin: { contents: PAGE_TSX, loader: 'tsx', resolveDir: js, sourcefile: 'react_live_page.tsx' },
    bundle: true, format: 'esm', target: 'es2020', platform: 'browser', jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"development"' }, write: false, logLevel: 'warning',
  });
  return out.outputFiles[0].text;
}

describe('useLive() in Chromium', () => {
  let dir, app, appPort, hub, context, page;
  const pageErrors = [];
  // The app's posts table, and how often the page loaded forum 7.
  const posts = new Map();
  let loads = 0;

  /** Writes a post and publishes the change, with the row before it. */
  async function put(post) {
    const old = posts.get(post.id);
    posts.set(post.id, post);
    const res = await fetch(`http://127.0.0.1:${hub.port}/publish`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ collection: 'posts', action: old ? 'update' : 'create', id: post.id, data: post, ...(old && { old }) }),
    });
    assert.equal(res.status, 202, await res.text());
  }

  const item = (id) => page.locator(`#posts li[data-id="${id}"]`);
  const titles = () => page.locator('#posts li').allTextContents();

  before(async () => {
    const pageJs = await bundlePage();
    app = createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(pageJs);
      } else if (url.pathname === '/api/forums/7/posts') {
        loads++;
        const rows = [...posts.values()].filter((p) => p.forum_id === 7).sort((a, b) => a.id.localeCompare(b.id));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows));
      } else {
        res.writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><div id="root"></div><script type="module" src="/app.js"></script>');
      }
    });
    await new Promise((ok) => app.listen(0, '127.0.0.1', ok));
    appPort = app.address().port;
    hub = await startNotifierd(['--allow-origin', `http://127.0.0.1:${appPort}`]);
    dir = tempDir('notifier-e2e-react-');
    context = await launchChromium(dir);
    page = await newPage(context, pageErrors);
  });

  after(async () => {
    await cleanUp({ context, stop: [() => hub?.proc.kill(), () => app?.close()], dir });
  });

  it('shows forum 7 once loaded, live', async () => {
    posts.set('1', { id: '1', forum_id: 7, title: 'Welcome' });
    posts.set('2', { id: '2', forum_id: 8, title: 'Elsewhere' });
    await page.goto(`http://127.0.0.1:${appPort}/?hub=${encodeURIComponent(`ws://127.0.0.1:${hub.port}/ws`)}`);
    await page.locator('#posts[data-status="live"][data-state="live"]').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await titles(), ['Welcome']);
    assert.equal(loads, 1);
  });

  it('a post into forum 7 appears', async () => {
    await put({ id: '3', forum_id: 7, title: 'Hello' });
    await item('3').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await titles(), ['Welcome', 'Hello']);
  });

  it('a post moved to forum 8 leaves the list (its old row matched)', async () => {
    await put({ id: '3', forum_id: 8, title: 'Hello' });
    await item('3').waitFor({ state: 'detached', timeout: WAIT_MS });
    assert.deepEqual(await titles(), ['Welcome']);
    const moved = await page.evaluate(() => window.received.filter((n) => n.id === '3').map((n) => [n.data.forum_id, n.old?.forum_id ?? null]));
    assert.deepEqual(moved, [[7, null], [8, 7]], 'the create, then the move with its old row');
  });

  it('a post into forum 8 never reaches the page', async () => {
    const before = loads;
    await put({ id: '4', forum_id: 8, title: 'Never' });
    // A barrier: a later change of forum 7. Notifications arrive in order,
    // so once it shows, the one of forum 8 would have arrived before it.
    await put({ id: '5', forum_id: 7, title: 'After' });
    await item('5').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await titles(), ['Welcome', 'After']);
    const ids = await page.evaluate(() => window.received.map((n) => n.id));
    assert.ok(!ids.includes('4'), `the server sent the post of forum 8: ${ids}`);
    assert.equal(loads, before + 1, 'one load, for the post of forum 7');
    assert.equal(await page.locator('#posts').getAttribute('data-status'), 'live');
    assert.deepEqual(pageErrors, []);
  });
});
