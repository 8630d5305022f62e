// SPDX-License-Identifier: MIT
// notifierd's own TLS (--tls-cert, --tls-key) from Node: the `ws` package
// on wss:// and NotifierClient over it, each trusting exactly the
// certificate made here with the openssl command (a real notifierd:
// build/notifierd, or $NOTIFIERD).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';

import WebSocket from 'ws';

import { client, closeClients, server, state, stopServers } from './testing/fixtures.js';
import { type Notifierd, waitFor, withTimeout } from './testing/notifierd.js';
import { note, Recorder } from './testing/recorder.js';
import type { ResyncEvent, WebSocketConstructor } from './types.js';

let dir = '';
let certFile = '';
let keyFile = '';
let ca = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'notifier-tls-js-'));
  certFile = join(dir, 'server.crt.pem');
  keyFile = join(dir, 'server.key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=notifier-js-test', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2',
    '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  ca = readFileSync(certFile, 'utf8');
});
afterEach(closeClients);
after(async () => {
  await stopServers();
  rmSync(dir, { recursive: true, force: true });
});

function tlsServer(port = 0): Promise<Notifierd> {
  return server(['--tls-cert', certFile, '--tls-key', keyFile], port, { ca });
}

/** `ws` with the test's CA: what NotifierClient constructs with a URL alone. */
class TrustingWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { ca });
  }
}

/** The messages of `ws`, parsed, from its start on: next() waits for the
 * next one (none is missed between two calls). */
function messages(ws: WebSocket): { next(): Promise<any> } {
  const received: unknown[] = [];
  let wake = () => {};
  ws.on('message', (data, binary) => {
    received.push(binary ? new Error('a binary frame') : JSON.parse(data.toString()));
    wake();
  });
  return {
    next: () => withTimeout(new Promise((res, rej) => {
      const take = () => {
        if (received.length === 0) return;
        wake = () => {};
        const m = received.shift();
        if (m instanceof Error) rej(m);
        else res(m);
      };
      wake = take;
      ws.once('error', rej);
      take();
    }), 'a message'),
  };
}

describe('TLS (wss://) from Node', () => {
  it("the `ws` package gets its welcome and a notification, from the certificate it trusts", async () => {
    const s = await tlsServer();
    assert.equal(s.tls, true);
    assert.match(s.url, /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
    const ws = new WebSocket(`${s.url}?collections=posts`, { ca });
    const inbox = messages(ws);
    const peer = new Promise<X509Certificate | undefined>((res) => {
      ws.once('upgrade', (r: IncomingMessage) => res((r.socket as TLSSocket).getPeerX509Certificate()));
    });
    try {
      const welcome = await inbox.next();
      assert.equal(welcome.type, 'welcome');
      assert.equal(welcome.resumed, false);
      assert.equal((await peer)?.fingerprint256, new X509Certificate(ca).fingerprint256);
      const [seq] = await s.publish(note('posts', 7, { title: 'over TLS' }));
      assert.deepEqual(await inbox.next(),
        { seq, collection: 'posts', action: 'create', id: '7', data: { title: 'over TLS' } });
    } finally {
      ws.terminate();
    }

    // Without the CA, `ws` refuses the self-signed certificate.
    const untrusting = new WebSocket(s.url);
    const err = await withTimeout(new Promise<NodeJS.ErrnoException>((res) => untrusting.once('error', res)),
      'the refusal');
    assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('NotifierClient on an https:// URL connects to wss://, receives, and follows a restart', async () => {
    const first = await tlsServer();
    const urls: string[] = [];
    class Recording extends TrustingWebSocket {
      constructor(url: string) {
        super(url);
        urls.push(url);
      }
    }
    const c = client(first, {
      url: `https://127.0.0.1:${first.port}/ws`,
      transport: 'websocket',
      WebSocket: Recording as unknown as WebSocketConstructor,
    });
    const got = new Recorder();
    const resyncs: ResyncEvent[] = [];
    c.on('posts', got.push);
    c.onResync((e) => resyncs.push(e));
    await state(c, 'live');
    assert.equal(c.transport, 'websocket');
    assert.ok(urls[0]!.startsWith(`wss://127.0.0.1:${first.port}/ws?`), urls[0]);
    await first.publish([note('posts', 1), note('users', 2), note('posts', 3)]);
    await got.until(2);
    assert.deepEqual(got.ids, ['1', '3']);

    // A restart on the same port: the client comes back over TLS (a new
    // epoch: a resync) and is live again.
    await first.stop();
    await state(c, 'reconnecting');
    const resynced = waitFor<ResyncEvent>((cb) => c.onResync(cb), () => true, 'a resync');
    const second = await tlsServer(first.port);
    await resynced;
    await state(c, 'live');
    assert.equal(resyncs.length, 1);
    await second.publish(note('posts', 4));
    await got.until(3);
    assert.deepEqual(got.ids, ['1', '3', '4']);
    assert.ok(urls.length >= 2 && urls.every((u) => u.startsWith('wss://')), urls.join(' '));
  });
});
