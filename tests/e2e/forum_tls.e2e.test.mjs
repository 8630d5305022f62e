// SPDX-License-Identifier: MIT
// The forum demo over TLS in a real browser: notifier-forum started with
// --tls-cert and --tls-key serves the page on https:// and its live updates
// on wss://. Chromium trusts exactly that certificate, by the SHA-256 of
// its public key (--ignore-certificate-errors-spki-list, computed with the
// openssl command): a server with another certificate is still refused.
// Posts made through the API and with the sqlite3 shell show live, and the
// page stays live across a server restart.
//
// Debian's Chromium (/usr/bin/chromium) driven by playwright-core. Every
// wait has a deadline; nothing sleeps.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  cleanUp, forumRow as forumRowOf, launchForumBrowser, newPage, postRow as postRowOf, sqlite3, tempDir,
} from './e2e_support.mjs';
import { ForumServer } from './forum_server.mjs';

/** A change made elsewhere must show in the page this fast. */
const LIVE_MS = 2_000;
/** Reconnecting after a restart goes through the client's backoff. */
const RECOVER_MS = 20_000;

/** A self-signed certificate for 127.0.0.1 and localhost, and its key. */
function certificate(dir, name) {
  const cert = join(dir, `${name}.crt.pem`);
  const key = join(dir, `${name}.key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2',
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

/** base64(SHA-256(SubjectPublicKeyInfo)) of the certificate, as Chromium's
 * --ignore-certificate-errors-spki-list takes it. */
function spkiHash(certFile) {
  const pub = execFileSync('openssl', ['x509', '-in', certFile, '-pubkey', '-noout']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der });
  return execFileSync('openssl', ['base64', '-A'], { input: digest }).toString().trim();
}

describe('forum demo over TLS in Chromium', () => {
  let dir, tls, server, context, page, forumId;
  const pageErrors = [];
  const sockets = [];  // every WebSocket the page opens: { url, frames }

  /** The forum's REST API over https, verifying the test's certificate. */
  function api(method, path, body) {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((res, rej) => {
      const req = request(new URL(path, server.url), {
        method, ca: tls.pem, timeout: 10_000,
        headers: data === undefined ? {}
          : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
      }, (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (d) => { text += d; });
        r.on('end', () => {
          if (r.statusCode < 200 || r.statusCode > 299) rej(new Error(`${method} ${path}: ${r.statusCode} ${text}`));
          else res(r.statusCode === 204 ? undefined : JSON.parse(text));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', rej);
      req.end(data);
    });
  }

  const forumRow = (name) => forumRowOf(page, name);
  const postRow = (title) => postRowOf(page, title);
  const frameWaiters = new Set();
  /** Resolves once the page received a WebSocket frame containing `text`. */
  function receivedOverWebSocket(text) {
    return new Promise((res, rej) => {
      const check = () => {
        if (!sockets.some((s) => s.frames.some((f) => f.includes(text)))) return;
        clearTimeout(timer);
        frameWaiters.delete(check);
        res();
      };
      const timer = setTimeout(() => {
        frameWaiters.delete(check);
        rej(new Error(`no WebSocket frame with ${text} within ${LIVE_MS} ms`));
      }, LIVE_MS);
      frameWaiters.add(check);
      check();
    });
  }

  before(async () => {
    dir = tempDir('notifier-e2e-tls-');
    tls = certificate(dir, 'notifier-forum-e2e');
    server = await new ForumServer(join(dir, 'forum.db'), 0, ['--tls-cert', tls.cert, '--tls-key', tls.key]).start();
    assert.equal(server.url, `https://127.0.0.1:${server.port}/`);
    ({ id: forumId } = await api('POST', '/api/forums', { name: 'General' }));
    context = await launchForumBrowser(dir, [`--ignore-certificate-errors-spki-list=${spkiHash(tls.cert)}`]);
    page = await newPage(context, pageErrors);
    page.on('websocket', (ws) => {
      const s = { url: ws.url(), frames: [] };
      sockets.push(s);
      ws.on('framereceived', (f) => {
        s.frames.push(String(f.payload));
        for (const check of [...frameWaiters]) check();
      });
    });
  });

  after(async () => {
    await cleanUp({ context, stop: [() => server?.kill()], dir });
  });

  it('serves the page on https:// with the certificate it was given', async () => {
    const res = await page.goto(server.url);
    assert.equal(res.status(), 200);
    const security = await res.securityDetails();
    assert.equal(security?.subjectName, 'notifier-forum-e2e');
    assert.equal(security?.protocol, 'TLS 1.3');
    await page.locator('#state[data-state="live"]').waitFor({ timeout: 10_000 });
    await forumRow('General').waitFor({ timeout: LIVE_MS });
    assert.equal(await page.evaluate(() => location.protocol), 'https:');
    await page.evaluate(() => { window.__sameDocument = true; });  // gone if the page ever reloads
  });

  it('opens its live connection on wss://', async () => {
    assert.ok(sockets.length >= 1, 'a WebSocket');
    for (const s of sockets) assert.match(s.url, new RegExp(`^wss://127\\.0\\.0\\.1:${server.port}/ws\\?`));
    assert.equal(await page.evaluate(() => window.notifierClient.transport), 'websocket');
  });

  it('shows a post made through the API and one made with the sqlite3 shell, over wss', async () => {
    await forumRow('General').locator('.name').click();
    await page.locator(`#posts[data-forum-id="${forumId}"][data-status="live"]`)
      .waitFor({ state: 'attached', timeout: LIVE_MS });
    const { id } = await api('POST', '/api/posts',
      { forum_id: forumId, title: 'Posted over https', body: 'via the API' });
    await postRow('Posted over https').waitFor({ timeout: LIVE_MS });
    await receivedOverWebSocket(`"id":"${id}"`);
    await sqlite3(server.dbPath,
      `INSERT INTO posts (forum_id, title, body) VALUES (${forumId}, 'From the shell', 'via sqlite3');`);
    await postRow('From the shell').waitFor({ timeout: LIVE_MS });
  });

  it('trusts that certificate only: a server with another one is refused', async () => {
    const other = certificate(dir, 'another');
    const stranger = createServer({ cert: other.pem, key: readFileSync(other.key) }, (_, res) => res.end('hello'));
    await new Promise((res) => stranger.listen(0, '127.0.0.1', res));
    const probe = await context.newPage();
    try {
      await assert.rejects(probe.goto(`https://127.0.0.1:${stranger.address().port}/`), /ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await probe.close();
      await new Promise((res) => stranger.close(res));
    }
  });

  it('stays live across a server restart, still on wss://', async () => {
    const before = sockets.length;
    await server.stop();
    await page.locator('#state[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
    await server.start();
    await page.locator('#state[data-state="live"][data-resynced="true"]').waitFor({ timeout: RECOVER_MS });
    assert.ok(sockets.length > before, 'a new WebSocket after the restart');
    await api('POST', '/api/posts', { forum_id: forumId, title: 'After the restart', body: '' });
    await postRow('After the restart').waitFor({ timeout: LIVE_MS });
    for (const s of sockets) assert.match(s.url, /^wss:\/\//);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page reloaded');
    assert.deepEqual(pageErrors, []);
    assert.equal(await page.locator('#error').isHidden(), true);
  });
});
