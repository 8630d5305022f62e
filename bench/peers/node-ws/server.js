#!/usr/bin/env node
// SPDX-License-Identifier: MIT
'use strict';

// Benchmark peer: Node's http server plus the `ws` package.
//
//   GET  /ws       WebSocket; every notification arrives as one text message
//   POST /publish  {"collection","action"[,"id"][,"data"]} -> 202 {"ok":true}
//   GET  /stats    {"clients":N,"published":N,"dropped":N}
//
// Each notification is serialised once; the same Buffer is handed to every
// open client. ws queues outgoing data per socket without bound, so nothing is
// ever dropped.

const http = require('node:http');
const { WebSocketServer, WebSocket } = require('ws');
const {
  parseListen, formatAddress, sendJSON, sendError, readNotification, onTermination,
} = require('../common');

const HEARTBEAT_MS = 30000;

let listen;
try {
  listen = parseListen(process.argv.slice(2));
} catch (err) {
  console.error(`node-ws: ${err.message}`);
  process.exit(2);
}

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
});

let published = 0;

function broadcast(notification) {
  const payload = Buffer.from(JSON.stringify(notification));
  for (const client of wss.clients) {
    if (client.readyState === WebSocket.OPEN) {
      client.send(payload, { binary: false });
    }
  }
  published++;
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?', 1)[0];
  if (path === '/publish') {
    if (req.method !== 'POST') {
      sendError(res, 405, 'method_not_allowed', 'use POST', { Allow: 'POST' });
      return;
    }
    readNotification(req, res, (notification) => {
      broadcast(notification);
      sendJSON(res, 202, { ok: true });
    });
  } else if (path === '/stats') {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, 'method_not_allowed', 'use GET', { Allow: 'GET, HEAD' });
      return;
    }
    sendJSON(res, 200, { clients: wss.clients.size, published, dropped: 0 });
  } else if (path === '/ws') {
    sendError(res, 426, 'upgrade_required', 'WebSocket upgrade required', { Upgrade: 'websocket' });
  } else {
    sendError(res, 404, 'not_found', `no route for ${path}`);
  }
});

server.on('upgrade', (req, socket, head) => {
  const path = req.url.split('?', 1)[0];
  if (path !== '/ws') {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    wss.emit('connection', ws, req);
  });
});

// Heartbeat as in the ws README: ping every client periodically and drop the
// ones that did not answer the previous ping.
wss.on('connection', (ws) => {
  ws.isAlive = true;
  ws.on('pong', () => {
    ws.isAlive = true;
  });
  ws.on('error', () => {});
});

const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!ws.isAlive) {
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}, HEARTBEAT_MS);

server.on('error', (err) => {
  console.error(`node-ws: ${err.message}`);
  process.exit(1);
});

server.listen(listen.port, listen.host, () => {
  process.stdout.write(`listening on ${formatAddress(server.address())}\n`);
});

onTermination((done) => {
  clearInterval(heartbeat);
  for (const ws of wss.clients) ws.close(1001, 'server shutting down');
  wss.close();
  server.close(() => done());
  server.closeIdleConnections();
  // Give the close handshakes a moment, then cut whatever is left.
  setTimeout(() => {
    for (const ws of wss.clients) ws.terminate();
    server.closeAllConnections();
  }, 1000).unref();
});
