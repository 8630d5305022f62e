// SPDX-License-Identifier: MIT
// Test support: the posts table of an app (in memory) whose writes are
// published to a real notifierd with POST /publish, as an application
// server would, and a barrier on the notification stream.

import type { NotifierClient } from '../client.js';
import type { Notification } from '../types.js';
import { type Notifierd, waitFor } from './notifierd.js';

export interface Post {
  id: string;
  forum_id: number;
  title: string;
}

/** The posts table of the app, and its change feed. */
export class Posts {
  readonly rows = new Map<string, Post>();
  constructor(readonly hub: Notifierd) {}

  /** A copy of the rows of forum `forum` (all without), sorted by id. */
  select(forum?: number): Post[] {
    return [...this.rows.values()].filter((p) => forum === undefined || p.forum_id === forum).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Writes a row and publishes the change (with the row before it). */
  async put(row: Post): Promise<void> {
    const old = this.rows.get(row.id);
    this.rows.set(row.id, row);
    await this.hub.publish({ collection: 'posts', action: old ? 'update' : 'create', id: row.id, data: row, ...(old && { old }) });
  }

  /** put(), and waits until `c` received the change. */
  async putSeen(c: NotifierClient, row: Post): Promise<void> {
    const seen = waitFor<Notification>((cb) => c.onNotification(cb), (n) => n.collection === 'posts' && JSON.stringify(n.data) === JSON.stringify(row), `the change of post ${row.id}`);
    await this.put(row);
    await seen;
  }
}

let marks = 0;

/** Publishes to `barrier` (which the client must be subscribed to) and
 * waits for it: everything published before has been handled. */
export async function barrier(hub: Notifierd, c: NotifierClient): Promise<void> {
  const id = String(++marks);
  const seen = waitFor<Notification>((cb) => c.onNotification(cb), (n) => n.collection === 'barrier' && n.id === id, `barrier ${id}`);
  await hub.publish({ collection: 'barrier', action: 'mark', id });
  await seen;
}
