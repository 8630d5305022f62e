#!/usr/bin/env node
// SPDX-License-Identifier: MIT
'use strict';

// End-to-end check of one peer: starts it on a free port, connects WebSocket
// clients (raw Engine.IO v4 / Socket.IO v5 framing for node-socketio),
// publishes, checks delivery, /stats, error statuses and SIGTERM handling,
// then runs a small bounded fan-out load.
//
//   node smoke.js go-melody|node-ws|node-socketio [--clients N] [--publishes M]
//
// Exits 0 when every check passed.

const { spawn } = require('node:child_process');
const path = require('node:path');
const assert = require('node:assert/strict');
const http = require('node:http');
const WebSocket = require('ws');

const PEERS = {
  'go-melody': { cmd: [path.join(__dirname, 'bin', 'go-melody')], socketio: false },
  'node-ws': { cmd: [process.execPath, path.join(__dirname, 'node-ws', 'server.js')], socketio: false },
  'node-socketio': {
    cmd: [process.execPath, path.join(__dirname, 'node-socketio', 'server.js')],
    socketio: true,
  },
};

function parseArgs(argv) {
  const opts = { peer: null, clients: 100, publishes: 1000 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--clients') opts.clients = Number(argv[++i]);
    else if (argv[i] === '--publishes') opts.publishes = Number(argv[++i]);
    else if (!opts.peer) opts.peer = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!PEERS[opts.peer]) {
    throw new Error(`usage: smoke.js ${Object.keys(PEERS).join('|')} [--clients N] [--publishes M]`);
  }
  return opts;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function startPeer(peer) {
  const [cmd, ...args] = peer.cmd;
  const child = spawn(cmd, [...args, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      const m = /^listening on (\S+)\n/m.exec(buf);
      if (m) resolve(m[1]);
    });
    child.on('error', reject);
    exited.then(({ code, signal }) => reject(new Error(`peer exited early: ${code ?? signal}`)));
  });
  return { child, exited, ready };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function request(addr, method, urlPath, body) {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), addr.slice(addr.lastIndexOf(':') + 1)];
  return new Promise((resolve, reject) => {
    const req = http.request({
      host, port, method, path: urlPath, agent,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// One subscriber. onNotification receives each decoded notification.
function connectClient(addr, socketio, onNotification) {
  const url = socketio
    ? `ws://${addr}/socket.io/?EIO=4&transport=websocket`
    : `ws://${addr}/ws`;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  const ready = new Promise((resolve, reject) => {
    ws.on('error', reject);
    if (!socketio) {
      ws.on('open', resolve);
      ws.on('message', (data, isBinary) => {
        assert.equal(isBinary, false, 'notification must be a text message');
        onNotification(JSON.parse(data.toString('utf8')));
      });
      return;
    }
    // Engine.IO v4 packet types: 0 open, 1 close, 2 ping, 3 pong, 4 message.
    // Socket.IO v5 packets ride inside type 4: 40 connect, 41 disconnect, 42 event.
    let state = 'open';
    ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false);
      const msg = data.toString('utf8');
      if (state === 'open') {
        assert.equal(msg[0], '0', `expected engine.io open packet, got ${msg}`);
        const handshake = JSON.parse(msg.slice(1));
        assert.ok(handshake.sid, 'open packet without sid');
        ws.send('40');
        state = 'connecting';
      } else if (msg === '2') {
        ws.send('3');
      } else if (state === 'connecting') {
        assert.ok(msg.startsWith('40'), `expected socket.io connect ack, got ${msg}`);
        JSON.parse(msg.slice(2));
        state = 'connected';
        resolve();
      } else if (msg.startsWith('42')) {
        const [event, payload] = JSON.parse(msg.slice(2));
        assert.equal(event, 'notification');
        onNotification(payload);
      } else {
        reject(new Error(`unexpected packet ${msg}`));
      }
    });
  });
  return { ws, ready, closed };
}

async function waitForClients(addr, n) {
  for (let i = 0; i < 200; i++) {
    const { json } = await request(addr, 'GET', '/stats');
    if (json.clients === n) return json;
    await sleep(25);
  }
  throw new Error(`/stats never reported ${n} clients`);
}

async function functional(addr, peer) {
  const received = [[], []];
  const clients = received.map((box) => connectClient(addr, peer.socketio, (n) => box.push(n)));
  await withTimeout(Promise.all(clients.map((c) => c.ready)), 5000, 'client handshake');
  await waitForClients(addr, 2);

  const sent = {
    collection: 'forums', action: 'create', id: '7',
    data: { name: 'Général ✓', tags: ['a', 'b'], n: 1.5, nested: { ok: true, none: null } },
  };
  const res = await request(addr, 'POST', '/publish', JSON.stringify(sent));
  assert.equal(res.status, 202, res.text);
  assert.equal(typeof res.json, 'object');

  const noData = { collection: 'posts', action: 'delete' };
  assert.equal((await request(addr, 'POST', '/publish', JSON.stringify(noData))).status, 202);

  await withTimeout((async () => {
    while (received.some((box) => box.length < 2)) await sleep(10);
  })(), 5000, 'delivery to both clients');
  for (const box of received) {
    assert.deepEqual(box, [sent, noData]);
  }

  const stats = (await request(addr, 'GET', '/stats')).json;
  assert.deepEqual(stats, { clients: 2, published: 2, dropped: 0 });

  for (const [body, why] of [
    ['{bad', 'invalid JSON'],
    ['', 'empty body'],
    ['{"collection":"c","action":"a"} x', 'trailing garbage'],
    ['[]', 'array'],
    ['{"collection":"c"}', 'missing action'],
    ['{"collection":1,"action":"a"}', 'non-string collection'],
  ]) {
    const r = await request(addr, 'POST', '/publish', body);
    assert.equal(r.status, 400, `${why}: got ${r.status} ${r.text}`);
  }
  assert.equal((await request(addr, 'GET', '/publish')).status, 405);
  assert.equal((await request(addr, 'GET', '/stats')).json.published, 2, 'rejected publishes counted');

  for (const c of clients) c.ws.close();
  await Promise.all(clients.map((c) => c.closed));
  await waitForClients(addr, 0);
  console.log('  functional checks passed');
}

async function load(addr, peer, nClients, nPublishes) {
  const counts = new Array(nClients).fill(0);
  const clients = [];
  for (let i = 0; i < nClients; i++) {
    clients.push(connectClient(addr, peer.socketio, () => { counts[i]++; }));
  }
  await withTimeout(Promise.all(clients.map((c) => c.ready)), 20000, 'load clients handshake');
  await waitForClients(addr, nClients);
  const before = (await request(addr, 'GET', '/stats')).json;

  const body = JSON.stringify({
    collection: 'bench', action: 'update', id: '42',
    data: { title: 'x'.repeat(64), value: 12345, flags: [true, false] },
  });
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < nPublishes) {
      next++;
      const r = await request(addr, 'POST', '/publish', body);
      if (r.status !== 202) throw new Error(`publish: ${r.status} ${r.text}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const t1 = process.hrtime.bigint();

  const expected = nClients * nPublishes;
  let stats;
  await withTimeout((async () => {
    for (;;) {
      stats = (await request(addr, 'GET', '/stats')).json;
      const got = counts.reduce((a, b) => a + b, 0);
      if (got + (stats.dropped - before.dropped) >= expected) return;
      await sleep(20);
    }
  })(), 60000, 'load delivery');
  const t2 = process.hrtime.bigint();

  const got = counts.reduce((a, b) => a + b, 0);
  const ms = (a, b) => Number(b - a) / 1e6;
  console.log(`  load: ${nClients} clients x ${nPublishes} publishes: ` +
    `publish ${ms(t0, t1).toFixed(0)} ms (${(nPublishes / ms(t0, t1) * 1000).toFixed(0)}/s), ` +
    `all delivered after ${ms(t0, t2).toFixed(0)} ms ` +
    `(${(got / ms(t0, t2) * 1000).toFixed(0)} msg/s), received ${got}, ` +
    `dropped ${stats.dropped - before.dropped}`);
  assert.equal(stats.published - before.published, nPublishes);
  return clients;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const peer = PEERS[opts.peer];
  const { child, exited, ready } = startPeer(peer);
  let clients = [];
  try {
    const addr = await withTimeout(ready, 10000, 'listening line');
    console.log(`${opts.peer}: listening on ${addr}`);
    await functional(addr, peer);
    if (opts.clients > 0 && opts.publishes > 0) {
      clients = await load(addr, peer, opts.clients, opts.publishes);
    }
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  // Shutdown with clients still connected: must exit 0 and close them.
  const t0 = Date.now();
  child.kill('SIGTERM');
  const { code, signal } = await withTimeout(exited, 8000, 'exit after SIGTERM');
  agent.destroy();
  assert.equal(signal, null, `peer died from ${signal}`);
  assert.equal(code, 0, `peer exited with ${code}`);
  await withTimeout(Promise.all(clients.map((c) => c.closed)), 5000, 'clients closed on shutdown');
  console.log(`  SIGTERM: exited 0 after ${Date.now() - t0} ms`);
  console.log(`${opts.peer}: ok`);
}

main().catch((err) => {
  console.error(`FAIL: ${err.stack || err}`);
  process.exit(1);
});
