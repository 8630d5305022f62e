#!/usr/bin/env node
// SPDX-License-Identifier: MIT
'use strict';

// Benchmark peer: Node's http server plus socket.io v4.
//
//   WS   /socket.io/?EIO=4&transport=websocket   Socket.IO v5 over Engine.IO v4;
//        every notification is an event: 42["notification",{...}]
//   POST /publish  {"collection","action"[,"id"][,"data"]} -> 202 {"ok":true}
//   GET  /stats    {"clients":N,"published":N,"dropped":N}
//
// There is no /ws endpoint: socket.io clients connect at its default path.
// Only the websocket transport is enabled (no HTTP long-polling), and
// per-message deflate is off. socket.io buffers per client without bound, so
// nothing is dropped.

const http = require('node:http');
const { Server } = require('socket.io');
const {
  parseListen, formatAddress, sendJSON, sendError, readNotification, onTermination,
} = require('../common');

let listen;
try {
  listen = parseListen(process.argv.slice(2));
} catch (err) {
  console.error(`node-socketio: ${err.message}`);
  process.exit(2);
}

let published = 0;
let io;

// socket.io installs itself in front of this handler and only passes on
// requests outside /socket.io/.
const server = http.createServer((req, res) => {
  const path = req.url.split('?', 1)[0];
  if (path === '/publish') {
    if (req.method !== 'POST') {
      sendError(res, 405, 'method_not_allowed', 'use POST', { Allow: 'POST' });
      return;
    }
    readNotification(req, res, (notification) => {
      io.emit('notification', notification);
      published++;
      sendJSON(res, 202, { ok: true });
    });
  } else if (path === '/stats') {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, 'method_not_allowed', 'use GET', { Allow: 'GET, HEAD' });
      return;
    }
    sendJSON(res, 200, { clients: io.of('/').sockets.size, published, dropped: 0 });
  } else if (path === '/ws') {
    sendError(res, 404, 'not_found',
      'this peer speaks Socket.IO: connect to /socket.io/?EIO=4&transport=websocket');
  } else {
    sendError(res, 404, 'not_found', `no route for ${path}`);
  }
});

io = new Server(server, {
  path: '/socket.io/',
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});

io.on('connection', (socket) => {
  socket.on('error', () => {});
});

server.on('error', (err) => {
  console.error(`node-socketio: ${err.message}`);
  process.exit(1);
});

server.listen(listen.port, listen.host, () => {
  process.stdout.write(`listening on ${formatAddress(server.address())}\n`);
});

onTermination((done) => {
  // Disconnects every socket, closes engine.io and then the http server.
  io.close(() => done());
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), 1000).unref();
});
