// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';

import { canonicalEntry, checkEntry, matches, parseTopic, where } from './topics.js';

interface Post {
  id: number;
  forum_id: number;
  title: string;
  draft: boolean;
  deleted_at: string | null;
  tags: string[];
  author: { id: string; profile: { name: string } };
}

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
    assert.ok(matches('files/a[b=1]', { collection: 'files', id: 'a[b=1]' }), 'a slash first: a record, whatever its id holds');
  });

  it('are checked before they reach the server', () => {
    for (const ok of ['*', 'forums', 'a.b:c-d_e', 'posts/7', 'posts/ünïcode']) checkEntry(ok);
    for (const bad of ['', 'with space', 'posts/', '/7', 'x'.repeat(129), `p/${'i'.repeat(257)}`]) {
      assert.throws(() => checkEntry(bad), TypeError, bad);
    }
  });
});

describe('filtered entries', () => {
  it('are checked like the server checks them', () => {
    const valid = [
      'posts[forum_id=7]',
      'posts[forum_id=-7.25e-3]',
      'posts[a=1,b="x",c=true,d=false,e=null]',
      'posts[author.id="ana"]',
      'posts[a.b.c.d=1]',
      'posts[title="a, b] and [c"]',
      'posts[title="say \\"hi\\"\\n\\u00e9"]',
      'posts[title="a/b"]',
      'posts[x-y_Z9=0]',
      `posts[${Array.from({ length: 16 }, (_, i) => `f${i}=${i}`).join(',')}]`,
    ];
    for (const entry of valid) assert.doesNotThrow(() => checkEntry(entry), entry);
    const invalid: Array<[string, RegExp]> = [
      ['posts[]', /empty filter/],
      ['posts[forum_id]', /field=value/],
      ['posts[forum_id=]', /missing its value/],
      ['posts[=7]', /invalid filter field ""/],
      ['posts[forum_id=7', /ends with '\]'/],
      ['posts[forum id=7]', /invalid filter field/],
      ['posts[forum_id= 7]', /no spaces/],
      ['posts[forum_id=7 ]', /no spaces/],
      ['posts[a..b=1]', /invalid filter field/],
      ['posts[a.b.c.d.e=1]', /more than 4 levels/],
      [`posts[${'f'.repeat(65)}=1]`, /invalid filter field/],
      ['posts[a=1,a=2]', /given twice/],
      ['posts[a=07]', /invalid filter value/],
      ['posts[a=+1]', /invalid filter value/],
      ['posts[a=.5]', /invalid filter value/],
      ['posts[a=NaN]', /invalid filter value/],
      ['posts[a=Infinity]', /invalid filter value/],
      ['posts[a=1e400]', /out of range/],
      ['posts[a=1e-400]', /out of range/],
      ['posts[a=True]', /invalid filter value/],
      ['posts[a=\'x\']', /invalid filter value/],
      ['posts[a=abc]', /invalid filter value/],
      ['posts[a={}]', /invalid filter value/],
      ['posts[a=[1]]', /invalid filter value/],
      ['posts[a="x]', /unterminated string/],
      ['posts[a="x"y]', /expected ',' or '\]'/],
      ['posts[a="\\x"]', /invalid string/],
      ['posts[a="\\ud800"]', /valid Unicode/],
      ['posts[a=1;b=2]', /invalid filter value/],
      ['posts[a=1,]', /field=value/],
      ['*[a=1]', /expected "\*", a collection/],
      ['[a=1]', /expected "\*", a collection/],
      [`posts[${Array.from({ length: 17 }, (_, i) => `f${i}=${i}`).join(',')}]`, /at most 16 conditions/],
    ];
    for (const [entry, message] of invalid) assert.throws(() => checkEntry(entry), { name: 'TypeError', message }, entry);
  });

  it('have the server\'s canonical form', () => {
    const cases: Array<[string, string]> = [
      ['posts[forum_id=7]', 'posts[forum_id=7]'],
      ['posts[forum_id=7.0]', 'posts[forum_id=7]'],
      ['posts[forum_id=7e0]', 'posts[forum_id=7]'],
      ['posts[forum_id=-0]', 'posts[forum_id=0]'],
      ['posts[forum_id=-0.0]', 'posts[forum_id=0]'],
      ['posts[x=0.50]', 'posts[x=0.5]'],
      ['posts[x=1.5E-7]', 'posts[x=1.5e-7]'],
      ['posts[x=1e21]', 'posts[x=1e+21]'],
      ['posts[x=1e19]', 'posts[x=10000000000000000000]'],
      ['posts[x=12345678901234567891]', 'posts[x=12345678901234567891]'],
      ['posts[x=-9223372036854775808]', 'posts[x=-9223372036854775808]'],
      ['posts[x=18446744073709551616]', 'posts[x=18446744073709552000]'],
      ['posts[b=2,a=1]', 'posts[a=1,b=2]'],
      ['posts[b=1,a.z=1,a=1]', 'posts[a=1,a.z=1,b=1]'],
      ['posts[t="\\u0041\\/\\t"]', 'posts[t="A/\\t"]'],
      ['posts[t="\\u001f"]', 'posts[t="\\u001f"]'],
      ['posts[t="é"]', 'posts[t="é"]'],
      ['posts[t=null,u=true]', 'posts[t=null,u=true]'],
    ];
    for (const [entry, canonical] of cases) assert.equal(canonicalEntry(entry), canonical, entry);
    for (const [, canonical] of cases) assert.equal(canonicalEntry(canonical), canonical, `${canonical} is its own canonical form`);
    assert.equal(canonicalEntry('posts/b=2,a=1]'), 'posts/b=2,a=1]', 'a record entry is left as it is');
  });

  it('match on data or old (the over-delivery rule), with JSON equality', () => {
    const f = 'posts[forum_id=7]';
    const n = (data?: unknown, old?: unknown, collection = 'posts') => ({
      collection,
      ...(data !== undefined && { data }),
      ...(old !== undefined && { old }),
    });
    const cases: Array<[string, string, ReturnType<typeof n> & { data_omitted?: boolean }, boolean]> = [
      [f, 'data matches', n({ forum_id: 7 }), true],
      [f, 'data differs', n({ forum_id: 8 }), false],
      [f, 'another collection', n({ forum_id: 7 }, undefined, 'forums'), false],
      [f, 'moved in: data matches, old not', n({ forum_id: 7 }, { forum_id: 8 }), true],
      [f, 'moved out: old matches, data not', n({ forum_id: 8 }, { forum_id: 7 }), true],
      [f, 'neither side matches', n({ forum_id: 8 }, { forum_id: 9 }), false],
      [f, 'a delete with old only', n(undefined, { forum_id: 7 }), true],
      [f, 'a delete of another forum', n(undefined, { forum_id: 8 }), false],
      [f, 'neither data nor old', n(), true],
      [f, 'data omitted (unknown), old elsewhere', { ...n(undefined, { forum_id: 8 }), data_omitted: true }, true],
      [f, 'the field absent: holds', n({ title: 'x' }), true],
      [f, 'data null: not an object, holds', n(null), true],
      [f, 'data an array: not an object, holds', n([{ forum_id: 8 }]), true],
      [f, 'data a string: holds', n('forum 8'), true],
      [f, 'data does not match, old is not an object', n({ forum_id: 8 }, 5), true],
      [f, '7.0 equals 7', n({ forum_id: 7.0 }), true],
      [f, 'no coercion: "7" is not 7', n({ forum_id: '7' }), false],
      [f, 'no coercion: true is not 7', n({ forum_id: true }), false],
      [f, 'null is not 7', n({ forum_id: null }), false],
      [f, 'an object is not 7', n({ forum_id: { id: 7 } }), false],
      ['posts[forum_id=7.5e1]', '75', n({ forum_id: 75 }), true],
      ['posts[forum_id="7"]', 'a string', n({ forum_id: '7' }), true],
      ['posts[forum_id="7"]', 'a string against a number', n({ forum_id: 7 }), false],
      ['posts[deleted_at=null]', 'null equals null', n({ deleted_at: null }), true],
      ['posts[deleted_at=null]', 'a value is not null', n({ deleted_at: '2024' }), false],
      ['posts[draft=false]', 'false', n({ draft: false }), true],
      ['posts[draft=false]', '0 is not false', n({ draft: 0 }), false],
      ['posts[author.id="ana"]', 'a path', n({ author: { id: 'ana' } }), true],
      ['posts[author.id="ana"]', 'a path, another value', n({ author: { id: 'bo' } }), false],
      ['posts[author.id="ana"]', 'a path that does not reach: holds', n({ author: 'ana' }), true],
      ['posts[author.id="ana"]', 'a path through null: holds', n({ author: null }), true],
      ['posts[author.id="ana"]', 'a path through an array: holds', n({ author: [{ id: 'bo' }] }), true],
      ['posts[author.id="ana"]', 'the dotted name is not a path', n({ 'author.id': 'bo', author: { id: 'ana' } }), true],
      ['posts[constructor=1]', 'inherited names are absent', n({}), true],
      ['posts[constructor=1]', 'own names count', n({ constructor: 2 }), false],
      ['posts[a=1,b=2]', 'all conditions hold', n({ a: 1, b: 2 }), true],
      ['posts[a=1,b=2]', 'one condition fails', n({ a: 1, b: 3 }), false],
      ['posts[a=1,b=2]', 'one holds, one absent', n({ a: 1 }), true],
      ['posts[a=1,b=2]', 'data fails one, old holds both', n({ a: 1, b: 3 }, { a: 1, b: 2 }), true],
      ['posts[t="a\\"b"]', 'an escaped string', n({ t: 'a"b' }), true],
      ['posts', 'an unfiltered collection', n({ forum_id: 8 }), true],
      ['*', 'everything', n({ forum_id: 8 }, undefined, 'x'), true],
    ];
    for (const [entry, what, notification, expected] of cases) {
      assert.equal(matches(entry, notification), expected, `${entry}: ${what}`);
      assert.equal(matches(parseTopic(entry), notification), expected, `${entry} parsed: ${what}`);
    }
  });

  it('where() spells a filtered entry in canonical form', () => {
    assert.equal(where('posts', { forum_id: 7 }), 'posts[forum_id=7]');
    assert.equal(where('posts', { forum_id: 7.0 }), 'posts[forum_id=7]');
    assert.equal(where('posts', { forum_id: -0 }), 'posts[forum_id=0]');
    assert.equal(where('posts', { score: 0.5, ratio: 1.5e-7, big: 1e21 }), 'posts[big=1e+21,ratio=1.5e-7,score=0.5]');
    assert.equal(where('posts', { 'author.id': 'ana', draft: false, deleted_at: null }),
      'posts[author.id="ana",deleted_at=null,draft=false]');
    assert.equal(where('posts', { title: 'say "hi",\n[ok]' }), 'posts[title="say \\"hi\\",\\n[ok]"]');
    assert.equal(where('posts', { a: 1, b: undefined } as never), 'posts[a=1]', 'undefined leaves a condition out');
    assert.equal(where<Post>('posts', { forum_id: 7, 'author.profile.name': 'Ana' }), 'posts[author.profile.name="Ana",forum_id=7]');
    for (const [entry, conditions] of [
      ['posts', { forum_id: 7 }],
      ['posts', { b: 'x,y', a: 1.25 }],
      ['posts', { 'a.b.c.d': true }],
    ] as const) {
      const e = where(entry, conditions);
      assert.equal(canonicalEntry(e), e, `${e} is canonical`);
    }
    const invalid: Array<[string, unknown, RegExp]> = [
      ['posts', {}, /at least one condition/],
      ['posts', { a: undefined }, /at least one condition/],
      ['po sts', { a: 1 }, /invalid collection/],
      ['posts', { 'a b': 1 }, /invalid field "a b"/],
      ['posts', { 'a.': 1 }, /invalid field/],
      ['posts', { 'a.b.c.d.e': 1 }, /more than 4 levels/],
      ['posts', { a: NaN }, /NaN: not a JSON number/],
      ['posts', { a: Infinity }, /Infinity: not a JSON number/],
      ['posts', { a: { b: 1 } }, /must be a string, number, boolean or null, not object/],
      ['posts', { a: [1] }, /not object/],
      ['posts', { a: 1n }, /not bigint/],
      ['posts', { a: '\ud800' }, /not valid Unicode/],
      ['posts', null, /an object/],
      ['posts', Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`f${i}`, i])), /at most 16/],
    ];
    for (const [collection, conditions, message] of invalid) {
      assert.throws(() => where(collection, conditions as Record<string, never>), { name: 'TypeError', message }, inspect(conditions));
    }
  });

  it('where<Row>() allows the row\'s scalar fields with their types (checked by tsc)', () => {
    where<Post>('posts', { forum_id: 7 });
    where<Post>('posts', { deleted_at: null, draft: true, 'author.id': 'ana' });
    // @ts-expect-error: not a field of Post
    where<Post>('posts', { forum: 7 });
    // @ts-expect-error: forum_id is a number
    where<Post>('posts', { forum_id: '7' });
    // @ts-expect-error: author is an object, not a scalar
    where<Post>('posts', { author: 'ana' });
    // @ts-expect-error: arrays cannot be compared
    where<Post>('posts', { tags: 'x' });
    // @ts-expect-error: not a path of Post
    where<Post>('posts', { 'author.name': 'ana' });
    where('posts', { anything: 'goes', 'a.b': 1 });
  });
});
