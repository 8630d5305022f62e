// SPDX-License-Identifier: MIT
'use strict';

// Helpers shared by the Node peers: argument parsing, JSON responses, and
// reading/validating a POST /publish body.

const MAX_PUBLISH_BYTES = 1024 * 1024;

function parseListen(argv, fallback = '127.0.0.1:8090') {
  let value = fallback;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--listen' || arg === '-listen') {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs HOST:PORT`);
      value = argv[++i];
    } else if (arg.startsWith('--listen=')) {
      value = arg.slice('--listen='.length);
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  const colon = value.lastIndexOf(':');
  if (colon < 0) throw new Error(`--listen: expected HOST:PORT, got ${value}`);
  let host = value.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(value.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--listen: invalid port in ${value}`);
  }
  return { host: host || '0.0.0.0', port };
}

function formatAddress(addr) {
  return addr.family === 'IPv6' || addr.family === 6
    ? `[${addr.address}]:${addr.port}`
    : `${addr.address}:${addr.port}`;
}

function sendJSON(res, status, body, headers) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

function sendError(res, status, code, message, headers) {
  sendJSON(res, status, { error: code, message }, headers);
}

// Reads the request body (up to MAX_PUBLISH_BYTES) and hands the validated
// notification object to cb. Error responses are written here.
function readNotification(req, res, cb) {
  const chunks = [];
  let size = 0;
  let aborted = false;
  req.on('data', (chunk) => {
    if (aborted) return;
    size += chunk.length;
    if (size > MAX_PUBLISH_BYTES) {
      aborted = true;
      sendError(res, 413, 'payload_too_large', `body exceeds ${MAX_PUBLISH_BYTES} bytes`,
        { Connection: 'close' });
      req.resume();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (aborted) return;
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
    } catch (err) {
      sendError(res, 400, 'invalid_json', err.message);
      return;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      sendError(res, 400, 'invalid_notification', 'body must be a JSON object');
      return;
    }
    const { collection, action, id, data } = body;
    if (typeof collection !== 'string' || collection === '' ||
        typeof action !== 'string' || action === '') {
      sendError(res, 400, 'invalid_notification', 'collection and action are required strings');
      return;
    }
    const notification = { collection, action };
    if (id !== undefined) notification.id = id;
    if (data !== undefined) notification.data = data;
    cb(notification);
  });
  req.on('error', () => {
    aborted = true;
  });
}

// Runs shutdown once on SIGINT/SIGTERM; exits with status 0 when it is done,
// or forcibly after timeoutMs.
function onTermination(shutdown, timeoutMs = 5000) {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), timeoutMs).unref();
    shutdown(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

module.exports = {
  MAX_PUBLISH_BYTES,
  parseListen,
  formatAddress,
  sendJSON,
  sendError,
  readNotification,
  onTermination,
};
