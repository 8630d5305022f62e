// SPDX-License-Identifier: MIT
// Subscription entries (docs/protocol.md, "Opening", "Filtered
// subscriptions"): `*`, a collection, `collection/id`, or a filtered
// collection `collection[field=value,…]`. Parsed once into a Topic, checked
// as the server checks them, spelled in the server's canonical form, and
// matched against notifications as the server matches them.
//
//   filter    = collection "[" condition *( "," condition ) "]"
//   condition = path "=" value                  (at most 16, each path once)
//   path      = part *3( "." part )             part = [A-Za-z0-9_-]{1,64}
//   value     = a JSON number, a JSON string, true, false or null (no spaces)

import type { Notification } from './types.js';

/** A filter value: a JSON scalar. */
export type FilterValue = string | number | boolean | null;

/** One condition of a filter: the value at `path` equals `value`. */
export interface Condition {
  /** 1 to 4 names, outermost first. */
  readonly path: readonly string[];
  /** The path as written: the names joined by '.'. */
  readonly field: string;
  readonly value: FilterValue;
}

/** A parsed subscription entry. */
export interface Topic {
  /** The entry in the server's canonical form (what `subscribed` lists). */
  readonly entry: string;
  /** `*` for everything. */
  readonly collection: string;
  /** Set for a `collection/id` entry. */
  readonly id?: string;
  /** Set for a filtered entry, sorted by field. */
  readonly conditions?: readonly Condition[];
}

const collectionRe = /^[A-Za-z0-9_.:-]{1,128}$/;
const partRe = /^[A-Za-z0-9_-]{1,64}$/;
const numberRe = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const integerRe = /^-?(?:0|[1-9][0-9]*)$/;
const loneSurrogateRe = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MAX_DEPTH = 4;
const MAX_CONDITIONS = 16;
const INT64_MIN = -(2n ** 63n);
const UINT64_END = 2n ** 64n;
const encoder = new TextEncoder();

function invalid(entry: string, why: string): TypeError {
  return new TypeError(`invalid subscription "${entry}": ${why}`);
}

/** A number's canonical spelling, as the server writes it: integral values
 * from -2^63 to 2^64 (exclusive) as exact digits, others as JavaScript
 * writes them (shortest round trip). */
function canonicalNumber(d: number): string {
  if (Number.isInteger(d) && d >= -(2 ** 63) && d < 2 ** 64) return BigInt(d).toString();
  return String(d);
}

/** Reads one filter value's text; returns the value and its canonical text. */
function parseValue(entry: string, token: string): { value: FilterValue; canonical: string } {
  if (token === '') throw invalid(entry, 'a filter condition is missing its value');
  if (token === 'true' || token === 'false') return { value: token === 'true', canonical: token };
  if (token === 'null') return { value: null, canonical: token };
  if (token.startsWith('"')) {
    let value: unknown;
    try {
      value = JSON.parse(token);
    } catch {
      throw invalid(entry, `invalid string ${token} in filter: a JSON string with JSON escapes`);
    }
    if (typeof value !== 'string' || loneSurrogateRe.test(value)) {
      throw invalid(entry, `invalid string ${token} in filter: a JSON string of valid Unicode`);
    }
    return { value, canonical: JSON.stringify(value) };
  }
  if (!numberRe.test(token)) {
    throw invalid(entry, `invalid filter value "${token}": a JSON number, a double-quoted JSON string, true, false or null (no spaces)`);
  }
  if (integerRe.test(token)) {
    const exact = BigInt(token);
    if (exact >= INT64_MIN && exact < UINT64_END) return { value: Number(token), canonical: exact.toString() };
  }
  const d = Number(token);
  const mantissa = token.split(/[eE]/)[0]!;
  if (!Number.isFinite(d) || (d === 0 && /[1-9]/.test(mantissa))) {
    throw invalid(entry, `filter number out of range: ${token}`);
  }
  return { value: d, canonical: canonicalNumber(d) };
}

function parseConditions(entry: string, text: string): { conditions: Condition[]; canonical: string } {
  if (text === '') throw invalid(entry, 'an empty filter: give at least one field=value');
  const items: Array<{ condition: Condition; canonical: string }> = [];
  let i = 0;
  for (;;) {
    if (items.length === MAX_CONDITIONS) throw invalid(entry, `at most ${MAX_CONDITIONS} conditions per filter`);
    const eq = text.indexOf('=', i);
    if (eq < 0) throw invalid(entry, `expected field=value in filter near "${text.slice(i)}"`);
    const field = text.slice(i, eq);
    const path = field.split('.');
    if (!path.every((p) => partRe.test(p))) {
      throw invalid(entry, `invalid filter field "${field}": names of [A-Za-z0-9_-]{1,64} joined by '.'`);
    }
    if (path.length > MAX_DEPTH) throw invalid(entry, `filter field "${field}" is more than ${MAX_DEPTH} levels deep`);
    // The value: a JSON string up to its closing quote, anything else up to
    // the next comma.
    let end = eq + 1;
    if (text[end] === '"') {
      for (end++; end < text.length && text[end] !== '"'; end++) if (text[end] === '\\') end++;
      if (end >= text.length) throw invalid(entry, `unterminated string in filter near "${text.slice(eq + 1)}"`);
      end++;
    } else {
      while (end < text.length && text[end] !== ',') end++;
    }
    const { value, canonical } = parseValue(entry, text.slice(eq + 1, end));
    items.push({ condition: { path, field, value }, canonical: `${field}=${canonical}` });
    if (end === text.length) break;
    if (text[end] !== ',') throw invalid(entry, `expected ',' or ']' in filter near "${text.slice(end)}"`);
    i = end + 1;
  }
  // Byte order: fields are ASCII, so UTF-16 order is the same.
  items.sort((a, b) => (a.condition.field < b.condition.field ? -1 : a.condition.field > b.condition.field ? 1 : 0));
  for (let k = 1; k < items.length; k++) {
    if (items[k]!.condition.field === items[k - 1]!.condition.field) {
      throw invalid(entry, `filter field "${items[k]!.condition.field}" is given twice`);
    }
  }
  return { conditions: items.map((it) => it.condition), canonical: items.map((it) => it.canonical).join(',') };
}

/** Parses an entry; throws a TypeError for one the server would refuse. */
export function parseTopic(entry: string): Topic {
  if (typeof entry !== 'string') throw new TypeError('a subscription entry is a string');
  if (entry === '*') return { entry, collection: '*' };
  // Whichever comes first: `/` makes a record entry (its id may contain
  // anything, `[` too), `[` a filter (its values may contain `/`).
  const cut = entry.search(/[/[]/);
  const collection = cut < 0 ? entry : entry.slice(0, cut);
  if (!collectionRe.test(collection)) {
    throw invalid(entry, 'expected "*", a collection [A-Za-z0-9_.:-]{1,128}, collection/id or collection[field=value,…]');
  }
  if (cut < 0) return { entry, collection };
  if (entry[cut] === '/') {
    const id = entry.slice(cut + 1);
    const bytes = encoder.encode(id).length;
    if (bytes < 1 || bytes > 256) throw invalid(entry, 'the id must be 1 to 256 bytes');
    return { entry, collection, id };
  }
  if (!entry.endsWith(']')) throw invalid(entry, "a filter ends with ']'");
  const { conditions, canonical } = parseConditions(entry, entry.slice(cut + 1, -1));
  return { entry: `${collection}[${canonical}]`, collection, conditions };
}

/** Throws a TypeError for an entry the server would refuse. */
export function checkEntry(entry: string): void {
  parseTopic(entry);
}

/** The entry as the server spells it in `subscribed` frames: conditions
 * sorted by field, values in one spelling (`posts[forum_id=7.0]` is
 * `posts[forum_id=7]`). Throws a TypeError for an invalid entry. */
export function canonicalEntry(entry: string): string {
  return parseTopic(entry).entry;
}

type Matchable = Pick<Notification, 'collection' | 'id'> & { data?: unknown; old?: unknown; data_omitted?: boolean };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const own = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

// A condition holds unless the row has the field and it differs. JSON
// equality: numbers by value, no coercion between types.
function holdsOn(conditions: readonly Condition[], row: Record<string, unknown>): boolean {
  for (const c of conditions) {
    let at: unknown = row;
    let found = true;
    for (const part of c.path) {
      if (!isObject(at) || !own(at, part)) {
        found = false;
        break;
      }
      at = at[part];
    }
    if (found && at !== c.value) return false;
  }
  return true;
}

/**
 * Whether a notification matches an entry, as the server decides. A filter
 * is evaluated on each of `data` and `old` that the notification carries and
 * matches if it holds on either (so a row that left the filter, e.g. an
 * update that moved it elsewhere, is still delivered); it holds on an object
 * unless a condition's field is there with another value; a side that is
 * not an object holds (so does data that was omitted, `data_omitted`: it is
 * unknown); a notification with neither matches.
 */
export function matches(entry: string | Topic, n: Matchable): boolean {
  const t = typeof entry === 'string' ? parseTopic(entry) : entry;
  if (t.collection === '*') return true;
  if (n.collection !== t.collection) return false;
  if (t.id !== undefined) return n.id === t.id;
  if (!t.conditions) return true;
  if (n.data === undefined && n.data_omitted === true) return true;
  const sides = [n.data, n.old].filter((side) => side !== undefined);
  if (sides.length === 0) return true;
  return sides.some((side) => !isObject(side) || holdsOn(t.conditions!, side));
}

/** Scalars that a filter can compare. */
type Scalar<V> = Extract<V, FilterValue>;

// The dotted paths of a row type that lead to scalars (up to 4 levels),
// and the scalar types found there.
type Depth = [never, 0, 1, 2, 3];
type FieldsOf<Row, D extends number = 4> = [D] extends [never]
  ? never
  : {
      [K in keyof Row & string]-?: NonNullable<Row[K]> extends readonly unknown[]
        ? never
        :
            | ([Scalar<Row[K]>] extends [never] ? never : { [P in K]: Scalar<Row[K]> })
            | (NonNullable<Row[K]> extends FilterValue
                ? never
                : NonNullable<Row[K]> extends object
                  ? PrefixFields<K, FieldsOf<NonNullable<Row[K]>, Depth[D]>>
                  : never);
    }[keyof Row & string];
type PrefixFields<K extends string, F> = F extends unknown
  ? { [P in keyof F as `${K}.${P & string}`]: F[P] }
  : never;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/**
 * The conditions of `where()`: field (or dotted path) → value. Untyped, any
 * field with a scalar value; with a row type (`where<Post>(…)`), the fields
 * of the row whose values are scalars (nested ones as `'author.id'`), each
 * with its type.
 */
export type Conditions<Row = unknown> = unknown extends Row
  ? Record<string, FilterValue>
  : Partial<UnionToIntersection<FieldsOf<Row>>>;

/**
 * A filtered entry in canonical form: `where('posts', { forum_id: 7 })` is
 * `'posts[forum_id=7]'`; `where('posts', { 'author.id': 'ana', draft: false })`
 * is `'posts[author.id="ana",draft=false]'`. With a row type,
 * `where<Post>('posts', { forum_id: 7 })` allows only Post's scalar fields
 * and their types. Throws a TypeError for an invalid collection, field or
 * value (NaN, Infinity, an object, a path deeper than 4), or no condition.
 */
export function where<Row = unknown>(collection: string, conditions: Conditions<Row>): string {
  if (typeof collection !== 'string' || !collectionRe.test(collection)) {
    throw new TypeError(`where(): invalid collection "${String(collection)}": [A-Za-z0-9_.:-]{1,128}`);
  }
  if (!isObject(conditions)) throw new TypeError('where(): the conditions are an object of field → value');
  const fields = Object.keys(conditions).filter((f) => (conditions as Record<string, unknown>)[f] !== undefined).sort();
  if (fields.length === 0) throw new TypeError(`where('${collection}'): give at least one condition`);
  if (fields.length > MAX_CONDITIONS) throw new TypeError(`where('${collection}'): at most ${MAX_CONDITIONS} conditions`);
  const parts = fields.map((field) => {
    const path = field.split('.');
    if (!path.every((p) => partRe.test(p))) {
      throw new TypeError(`where('${collection}'): invalid field "${field}": names of [A-Za-z0-9_-]{1,64} joined by '.'`);
    }
    if (path.length > MAX_DEPTH) throw new TypeError(`where('${collection}'): field "${field}" is more than ${MAX_DEPTH} levels deep`);
    const value: unknown = (conditions as Record<string, unknown>)[field];
    let text: string;
    if (value === null || typeof value === 'boolean') text = String(value);
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TypeError(`where('${collection}'): ${field} is ${value}: not a JSON number`);
      text = canonicalNumber(value);
    } else if (typeof value === 'string') {
      if (loneSurrogateRe.test(value)) throw new TypeError(`where('${collection}'): ${field} is not valid Unicode`);
      text = JSON.stringify(value);
    } else {
      throw new TypeError(`where('${collection}'): ${field} must be a string, number, boolean or null, not ${typeof value}`);
    }
    return `${field}=${text}`;
  });
  return `${collection}[${parts.join(',')}]`;
}
