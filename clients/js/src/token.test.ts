// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { unsignedJwt } from './testing/fake_server.js';
import { refreshDelay, tokenExpiry } from './token.js';

describe('tokens', () => {
  it('exp is read from the JWT payload without verifying it', () => {
    assert.equal(tokenExpiry(unsignedJwt({ exp: 1_900_000_000, notifier: { read: ['*'] } })), 1_900_000_000);
    assert.equal(tokenExpiry(unsignedJwt({ exp: 1_900_000_000.5 })), 1_900_000_000.5, 'NumericDate may be fractional');
    assert.equal(tokenExpiry(unsignedJwt({ name: 'Zoë ✓', exp: 42 })), 42, 'UTF-8 claims');
    // base64url characters (- and _) in the payload
    const payload = Buffer.from(JSON.stringify({ exp: 7, x: '>>>???' })).toString('base64url');
    assert.ok(/[-_]/.test(payload));
    assert.equal(tokenExpiry(`e30.${payload}.sig`), 7);
  });

  it('no exp: not a JWT, no claim, or not a number', () => {
    for (const t of ['', 'opaque-token', 'a.b', 'a.!!!.c', 'a..c', unsignedJwt({}), unsignedJwt({ exp: '1900000000' }),
      unsignedJwt({ exp: null }), unsignedJwt({ exp: -1 }), `e30.${Buffer.from('[1]').toString('base64url')}.s`]) {
      assert.equal(tokenExpiry(t), null, t);
    }
  });

  it('refresh: 10 % of the remaining lifetime or 30 s before exp, whichever comes sooner', () => {
    const now = 1_000_000_000_000;
    const exp = (s: number) => now / 1000 + s;
    assert.equal(refreshDelay(exp(3600), now), 3240_000, 'an hour: 6 min before');
    assert.equal(refreshDelay(exp(300), now), 270_000, '5 min: 30 s before (both agree)');
    assert.equal(refreshDelay(exp(120), now), 90_000, '2 min: 30 s before');
    assert.equal(refreshDelay(exp(20), now), 10_000, 'shorter than a minute: at half of it');
    assert.equal(refreshDelay(exp(0), now), 0, 'expired: now');
    assert.equal(refreshDelay(exp(-10), now), 0);
  });
});
