// SPDX-License-Identifier: MIT
// What the browser tests share: Debian's Chromium launched headless (no
// browser download), pages opened on the forum demo, the demo's REST API
// and the sqlite3 shell driven from the test, notifierd as a child process,
// HS256 tokens, and the cleanup after a file's tests.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const run = promisify(execFile);

/** A fresh directory for one test file's database and browser profile. */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Headless Chromium with its profile in `dir`; `args` come after the
 * usual switches (no sandbox in containers, nothing that phones home). */
export function launchChromium(dir, { args = [], viewport } = {}) {
  return chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', ...args],
    ...(viewport && { viewport }),
  });
}

/** Chromium sized for the forum demo's two columns. */
export function launchForumBrowser(dir, args = []) {
  return launchChromium(dir, { args, viewport: { width: 1100, height: 700 } });
}

/** A new page whose uncaught errors are pushed to `errors`. */
export async function newPage(context, errors) {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e));
  return page;
}

/** Opens `url` and waits until the forum page is live; then marks the
 * document, so that a reload shows (window.__sameDocument is gone). */
export async function openLive(page, url) {
  await page.goto(url);
  await page.locator('#state[data-state="live"]').waitFor({ timeout: 10_000 });
  await page.evaluate(() => { window.__sameDocument = true; });
}

/** The forum list's row of forum `name`, and the post list's of `title`. */
export const forumRow = (page, name) => page.locator('#forums li', { has: page.locator('.name', { hasText: name }) });
export const postRow = (page, title) => page.locator('#posts li', { has: page.locator('.title', { hasText: title }) });

/** The forum demo's REST API, from the test: `api(method, path, body)`
 * resolves with the parsed answer (undefined for 204) and fails on any
 * status outside 2xx. */
export function forumApi(server) {
  return async function api(method, path, body) {
    const res = await fetch(new URL(path, server.url), {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return res.status === 204 ? undefined : res.json();
  };
}

/** Another process writing to the database, as a person with a shell
 * would; `busyMs`: how long it waits for the write lock. */
export async function sqlite3(db, sql, busyMs = 10_000) {
  await run(process.env.SQLITE3 ?? 'sqlite3', ['-bail', '-cmd', `.timeout ${busyMs}`, db, sql], { timeout: 15_000 });
}

/** An HS256 JWT, as docs/security.md mints one. */
export function hs256(payload, secret) {
  const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** notifierd ($NOTIFIERD) on a free port, started with `args`; resolves
 * with { proc, port } once it logged where it listens. */
export function startNotifierd(args, timeoutMs = 10_000) {
  const bin = process.env.NOTIFIERD;
  assert.ok(bin, 'NOTIFIERD must name the notifierd binary');
  const proc = spawn(bin, ['--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`notifierd did not start: ${log}`)), timeoutMs);
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /event=listening host=127\.0\.0\.1 port=(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolvePort({ proc, port: Number(m[1]) });
      }
    });
    proc.on('exit', (code) => reject(new Error(`notifierd exited (${code}): ${log}`)));
  });
}

/** After a file's tests: the browser closed, every process and server
 * stopped (each a function), the directory removed. */
export async function cleanUp({ context, stop = [], dir }) {
  await context?.close();
  for (const s of stop) s();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
