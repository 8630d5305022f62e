// SPDX-License-Identifier: MIT
// Refused connections against a scripted server: the error frame and close
// 4401/4403 after the upgrade stop the client until a new token; a token
// function gets one more try; upgrades refused before any frame are reported
// after a few attempts while the backoff goes on.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { state } from './testing/fixtures.js';
import { cleanUp, fakeClient, fakeServer, sleep } from './testing/fake_server.js';
import { waitFor } from './testing/notifierd.js';
import type { NotifierClient } from './client.js';
import type { ServerError } from './types.js';

afterEach(cleanUp);

function recordErrors(c: NotifierClient): ServerError[] {
  const errors: ServerError[] = [];
  c.onError((e) => errors.push(e));
  return errors;
}

const nextError = (c: NotifierClient, ms?: number) => waitFor<ServerError>((cb) => c.onError(cb), () => true, 'an error event', ms);

// Long enough for several reconnects at the fake client's 10-40 ms backoff.
const QUIET_MS = 300;

describe('refused connections', () => {
  it('4401 with a fixed token: one error event with the frame\'s code and message, then no retry', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => c.refuse(4401, 'unauthorized', 'the token expired');
    const c = fakeClient(s, { token: 'old' });
    const errors = recordErrors(c);
    await state(c, 'closed');
    await sleep(QUIET_MS);
    assert.deepEqual(errors, [{ code: 'unauthorized', message: 'the token expired', closeCode: 4401 }]);
    assert.equal(s.connections.length, 1, 'no retry with the refused token');
    assert.equal(c.state, 'closed');
  });

  it('4403: a subscription outside the token stops the client too', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => c.refuse(4403, 'forbidden', 'secret is outside the token');
    const c = fakeClient(s, { token: 't', collections: ['secret'] });
    const errors = recordErrors(c);
    await state(c, 'closed');
    await sleep(QUIET_MS);
    assert.deepEqual(errors, [{ code: 'forbidden', message: 'secret is outside the token', closeCode: 4403 }]);
    assert.equal(s.connections.length, 1);
  });

  it('a close code without an error frame still reports the refusal', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => c.socket.close(4403, '');
    const c = fakeClient(s, { token: 't' });
    const error = await nextError(c);
    assert.equal(error.code, 'forbidden');
    assert.equal(error.closeCode, 4403);
    assert.equal(c.state, 'closed');
  });

  it('setToken() after a refusal reconnects with the new token and resumes', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => (c.token === 'new' ? c.welcome(7, 'e1', true) : c.refuse(4401, 'unauthorized', 'expired'));
    const c = fakeClient(s, { token: 'old', resume: { epoch: 'e1', seq: 5 } });
    await nextError(c);
    assert.equal(c.state, 'closed');
    c.setToken('new');
    await state(c, 'live');
    const second = await s.connection(2);
    assert.equal(second.token, 'new');
    assert.equal(second.url.searchParams.get('since'), '5', 'resumes from the cursor: nothing is lost');
  });

  it('connect() after a refusal tries again with the same token', async () => {
    const s = await fakeServer();
    let n = 0;
    s.onConnection = (c) => (++n === 1 ? c.refuse(4403, 'forbidden', 'no') : c.welcome());
    const c = fakeClient(s, { token: 't', collections: ['x'] });
    await nextError(c);
    c.unsubscribe('x');
    c.connect();
    await state(c, 'live');
    assert.equal((await s.connection(2)).url.searchParams.get('collections'), '');
  });

  it('a token function is called once more after 4401, and the client reconnects once', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => (c.token === 'fresh' ? c.welcome() : c.refuse(4401, 'unauthorized', 'expired'));
    const tokens = ['stale', 'fresh'];
    let calls = 0;
    const c = fakeClient(s, { token: () => tokens[calls++]! });
    const errors = recordErrors(c);
    await state(c, 'live');
    assert.equal(calls, 2);
    assert.deepEqual(errors, [], 'a refusal the retry cured is not reported');
  });

  it('a token function refused twice in a row: stop and report', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => c.refuse(4401, 'unauthorized', `refused ${c.token}`);
    let calls = 0;
    const c = fakeClient(s, { token: () => `t${++calls}` });
    const errors = recordErrors(c);
    await state(c, 'closed');
    await sleep(QUIET_MS);
    assert.equal(calls, 2);
    assert.equal(s.connections.length, 2);
    assert.deepEqual(errors, [{ code: 'unauthorized', message: 'refused t2', closeCode: 4401 }]);
  });

  it('a token function is not retried on 4403 (a fresh token would not change the subscriptions)', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => c.refuse(4403, 'forbidden', 'no');
    let calls = 0;
    const c = fakeClient(s, { token: () => `t${++calls}` });
    await nextError(c);
    await sleep(QUIET_MS);
    assert.equal(calls, 1);
    assert.equal(s.connections.length, 1);
  });

  it('the one retry is granted again after a welcome', async () => {
    const s = await fakeServer();
    let n = 0;
    // refused, welcomed (then cut), refused, welcomed
    s.onConnection = (c) => {
      n++;
      if (n % 2 === 1) c.refuse(4401, 'unauthorized', 'expired');
      else if (n === 2) { c.welcome(); setTimeout(() => c.socket.terminate(), 20); }
      else c.welcome();
    };
    const c = fakeClient(s, { token: () => 't' });
    const errors = recordErrors(c);
    await s.connection(4);
    await state(c, 'live');
    assert.deepEqual(errors, []);
  });

  it('a refusal of an attempt made before setToken() is retried with the new token', async () => {
    const s = await fakeServer();
    let held: (() => void) | undefined;
    s.onConnection = (c) => {
      if (c.token === 'new') c.welcome();
      else held = () => c.refuse(4401, 'unauthorized', 'expired');
    };
    const c = fakeClient(s, { token: 'old' });
    const errors = recordErrors(c);
    await s.connection(1);
    c.setToken('new'); // not live yet: for the next attempt
    held!();
    await state(c, 'live');
    assert.deepEqual(errors, []);
    assert.equal(s.connections[1]!.token, 'new');
  });

  it('4001 with a fixed token: token_expired, and setToken() resumes', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => {
      if (c.token === 'new') c.welcome(3, 'e1', true);
      else {
        c.welcome(2);
        setTimeout(() => c.socket.close(4001, 'token expired'), 20);
      }
    };
    const c = fakeClient(s, { token: 'old' });
    const error = await nextError(c);
    assert.deepEqual(error, { code: 'token_expired', message: 'token expired', closeCode: 4001 });
    assert.equal(c.state, 'closed');
    c.setToken('new');
    await state(c, 'live');
    assert.equal((await s.connection(2)).url.searchParams.get('since'), '2');
  });

  it('an error frame before a close other than 4401/4403 is reported, and reconnecting goes on', async () => {
    const s = await fakeServer();
    let n = 0;
    s.onConnection = (c) => {
      if (++n > 1) return c.welcome();
      c.send({ type: 'error', code: 'overloaded', message: 'try later' });
      c.socket.close(1013, 'try again later');
    };
    const c = fakeClient(s);
    const error = await nextError(c);
    assert.deepEqual(error, { code: 'overloaded', message: 'try later' });
    await state(c, 'live');
  });

  it('close() after a refusal: setToken() then only stores the token', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => (c.token === 'new' ? c.welcome() : c.refuse(4401, 'unauthorized', 'no'));
    const c = fakeClient(s, { token: 'old' });
    await nextError(c);
    c.close();
    c.setToken('new');
    await sleep(QUIET_MS);
    assert.equal(s.connections.length, 1, 'closed by the app: no reconnect');
    c.connect();
    await state(c, 'live');
    assert.equal(s.connections[1]!.token, 'new');
  });
});

describe('upgrades refused before any frame', () => {
  it('are reported once after 5 attempts in a row, while the backoff goes on', async () => {
    const s = await fakeServer();
    s.rejectUpgrade = 403; // a foreign origin: in a browser, close 1006 and nothing else
    const c = fakeClient(s);
    const errors = recordErrors(c);
    const error = await nextError(c, 5000);
    assert.equal(s.rejected, 5);
    assert.equal(error.code, 'handshake_failed');
    assert.match(error.message, /5 connection attempts/);
    await s.rejections(9, 5000);
    assert.equal(c.state, 'reconnecting', 'still retrying');
    assert.equal(errors.length, 1, 'one report per run of failures');
    // Once the server answers, a later run is reported again.
    s.rejectUpgrade = null;
    await state(c, 'live', 5000);
    s.rejectUpgrade = 403;
    const rejected = s.rejected;
    s.connections[0]!.socket.terminate();
    await nextError(c, 5000);
    assert.equal(s.rejected - rejected, 5);
  });

  it('the count is an option; 0 never reports', async () => {
    const s = await fakeServer();
    s.rejectUpgrade = 403;
    const two = fakeClient(s, { failedAttemptsBeforeError: 2 });
    const error = await nextError(two, 5000);
    assert.equal(error.code, 'handshake_failed');
    two.close();
    const never = fakeClient(s, { failedAttemptsBeforeError: 0 });
    const errors = recordErrors(never);
    const before = s.rejected;
    await s.rejections(before + 8, 5000);
    assert.deepEqual(errors, []);
  });

  it('connections that are accepted and then dropped without a frame count too', async () => {
    const s = await fakeServer();
    s.onConnection = (c) => c.socket.terminate();
    const c = fakeClient(s, { failedAttemptsBeforeError: 3 });
    assert.equal((await nextError(c, 5000)).code, 'handshake_failed');
    assert.equal(s.connections.length, 3);
  });
});
