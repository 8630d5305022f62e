// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { checkEntry, matches } from './topics.js';

describe('subscription entries', () => {
  it('match like the server does', () => {
    const n = { collection: 'posts', id: '7' };
    assert.ok(matches('*', n));
    assert.ok(matches('posts', n));
    assert.ok(matches('posts/7', n));
    assert.ok(!matches('posts/8', n));
    assert.ok(!matches('forums', n));
    assert.ok(!matches('posts/7', { collection: 'posts' }));
    assert.ok(matches('files/a/b', { collection: 'files', id: 'a/b' }), 'the id is everything after the first slash');
  });

  it('are checked before they reach the server', () => {
    for (const ok of ['*', 'forums', 'a.b:c-d_e', 'posts/7', 'posts/ünïcode']) checkEntry(ok);
    for (const bad of ['', 'with space', 'posts/', '/7', 'x'.repeat(129), `p/${'i'.repeat(257)}`]) {
      assert.throws(() => checkEntry(bad), TypeError, bad);
    }
  });
});
