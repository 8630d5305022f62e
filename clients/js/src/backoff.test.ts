// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('grows exponentially from the initial delay up to the maximum', () => {
    const noJitter = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 };
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, noJitter)), [100, 200, 400, 800, 1000, 1000]);
  });

  it('takes a random part of each delay', () => {
    const o = { initialDelayMs: 1000, maxDelayMs: 10_000, factor: 2, jitter: 0.5 };
    assert.equal(backoffDelay(1, o, () => 0), 2000);
    assert.equal(backoffDelay(1, o, () => 1), 1000);
    assert.equal(backoffDelay(1, o, () => 0.5), 1500);
  });

  it('has defaults that start fast and cap at ten seconds', () => {
    assert.equal(backoffDelay(0, {}, () => 0), 250);
    assert.equal(backoffDelay(50, {}, () => 0), 10_000);
  });
});
