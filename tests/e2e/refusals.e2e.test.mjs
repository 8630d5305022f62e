// SPDX-License-Identifier: MIT
// What a browser sees when notifierd refuses it: the TypeScript client in
// headless Chromium against a real notifierd with HS256 tokens. A bad token
// and a subscription outside the token arrive as error events with the
// server's code and close code 4401/4403, and the client stops instead of
// retrying; a page of a foreign origin (refused before the upgrade, which a
// browser only sees as close 1006) surfaces as `handshake_failed` after a
// bounded number of attempts.
//
// The page is served by a small HTTP server here, with the client bundled
// by esbuild from clients/js/src. Every wait has a deadline; nothing sleeps.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { cleanUp, hs256 as signed, launchChromium, startNotifierd, tempDir } from './e2e_support.mjs';

const here = import.meta.dirname ?? '.';
const root = resolve(here, '..', '..');
const SECRET = 'e2e-secret-of-at-least-thirty-two-bytes';
const WAIT_MS = 10_000;

const hs256 = (payload) => signed(payload, SECRET);

/** The client as a browser module, built the way the forum app builds it. */
async function bundleClient() {
  const require = createRequire(join(root, 'examples', 'forum', 'web', 'package.json'));
  const esbuild = require('esbuild');
  const out = await esbuild.build({
    entryPoints: [join(root, 'clients', 'js', 'src', 'index.ts')],
    bundle: true, format: 'esm', target: 'es2020', write: false,
  });
  return out.outputFiles[0].text;
}

describe('refusals in Chromium', () => {
  let dir, pageServer, pagePort, hub, context, page;

  before(async () => {
    const clientJs = await bundleClient();
    pageServer = createServer((req, res) => {
      if (req.url === '/client.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(clientJs);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><script type="module">import * as c from "/client.js"; window.notifier = c;</script>');
      }
    });
    await new Promise((ok) => pageServer.listen(0, '127.0.0.1', ok));
    pagePort = pageServer.address().port;
    // Pages from http://127.0.0.1:<pagePort> may connect; http://localhost:<pagePort> is a foreign origin.
    hub = await startNotifierd(['--jwt-secret', SECRET, '--allow-origin', `http://127.0.0.1:${pagePort}`]);
    dir = tempDir('notifier-e2e-refusals-');
    context = await launchChromium(dir);
    page = await context.newPage();
  });

  after(async () => {
    await cleanUp({ context, stop: [() => hub?.proc.kill(), () => pageServer?.close()], dir });
  });

  /** Opens the page at `origin`, creates a client there with `options` and
   * resolves with the first error event and the states it went through. */
  async function firstError(origin, options) {
    await page.goto(`${origin}:${pagePort}/`);
    await page.waitForFunction(() => window.notifier !== undefined, null, { timeout: WAIT_MS });
    return page.evaluate(([opts, wait]) => new Promise((ok, fail) => {
      const states = [];
      const client = new window.notifier.NotifierClient(opts);
      client.onState((s) => states.push(s));
      const timer = setTimeout(() => fail(new Error(`no error event; states ${states}`)), wait);
      client.onError((e) => {
        clearTimeout(timer);
        // The state after the event's turn: a refusal leaves it closed.
        setTimeout(() => {
          ok({ code: e.code, message: e.message, closeCode: e.closeCode ?? null, states, state: client.state });
          client.close();
        }, 0);
      });
    }), [options, WAIT_MS]);
  }

  const url = () => `ws://127.0.0.1:${hub.port}/ws`;

  it('reports an invalid token as 4401 with the server\'s code and stops', async () => {
    const e = await firstError('http://127.0.0.1', { url: url(), token: 'not-a-token', collections: ['forums'] });
    assert.equal(e.code, 'invalid_token');
    assert.equal(e.closeCode, 4401);
    assert.match(e.message, /./);
    assert.equal(e.state, 'closed');
    assert.ok(!e.states.includes('live'), `went live: ${e.states}`);
  });

  it('reports an expired token as 4401 expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = hs256({ sub: 'u', exp: now - 3600, notifier: { read: ['forums'] } });
    const e = await firstError('http://127.0.0.1', { url: url(), token, collections: ['forums'] });
    assert.equal(e.code, 'expired');
    assert.equal(e.closeCode, 4401);
    assert.equal(e.state, 'closed');
  });

  it('reports a subscription outside the token as 4403 forbidden and stops', async () => {
    const token = hs256({ sub: 'u', exp: Math.floor(Date.now() / 1000) + 3600, notifier: { read: ['forums'] } });
    const e = await firstError('http://127.0.0.1', { url: url(), token, collections: ['posts'] });
    assert.equal(e.code, 'forbidden');
    assert.equal(e.closeCode, 4403);
    assert.match(e.message, /posts/);
    assert.equal(e.state, 'closed');
  });

  it('reports a foreign origin as handshake_failed after the configured attempts', async () => {
    const token = hs256({ sub: 'u', exp: Math.floor(Date.now() / 1000) + 3600, notifier: { read: ['forums'] } });
    const e = await firstError('http://localhost', {
      url: url(), token, collections: ['forums'], failedAttemptsBeforeError: 3,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    assert.equal(e.code, 'handshake_failed');
    assert.equal(e.closeCode, null);
    assert.ok(!e.states.includes('live'), `went live: ${e.states}`);
  });
});
