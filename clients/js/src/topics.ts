// SPDX-License-Identifier: MIT
// Subscription entries: `*`, a collection, or `collection/id`
// (docs/protocol.md, "Opening").

import type { Notification } from './types.js';

const collectionRe = /^[A-Za-z0-9_.:-]{1,128}$/;
const encoder = new TextEncoder();

/** Throws a TypeError for an entry the server would refuse. */
export function checkEntry(entry: string): void {
  if (entry === '*') return;
  const slash = entry.indexOf('/');
  const collection = slash < 0 ? entry : entry.slice(0, slash);
  if (!collectionRe.test(collection)) {
    throw new TypeError(`invalid subscription "${entry}": expected "*", a collection [A-Za-z0-9_.:-]{1,128} or collection/id`);
  }
  if (slash >= 0) {
    const bytes = encoder.encode(entry.slice(slash + 1)).length;
    if (bytes < 1 || bytes > 256) throw new TypeError(`invalid subscription "${entry}": the id must be 1 to 256 bytes`);
  }
}

/** Whether a notification matches an entry, as the server decides. */
export function matches(entry: string, n: Pick<Notification, 'collection' | 'id'>): boolean {
  if (entry === '*') return true;
  const slash = entry.indexOf('/');
  if (slash < 0) return n.collection === entry;
  return n.collection === entry.slice(0, slash) && n.id === entry.slice(slash + 1);
}
