// SPDX-License-Identifier: MIT
// Test support: a handler that records notifications, a wait for a count of
// them, and the notification objects the tests publish.

import type { Notification } from '../types.js';
import { waitFor } from './notifierd.js';

export class Recorder {
  readonly items: Notification[] = [];
  readonly #waiters = new Set<() => void>();

  readonly push = (n: Notification): void => {
    this.items.push(n);
    for (const w of [...this.#waiters]) w();
  };

  /** Waits until `count` notifications were recorded. */
  async until(count: number, what = `${count} notifications`, ms?: number): Promise<Notification[]> {
    await waitFor<number>(
      (cb) => {
        const check = () => cb(this.items.length);
        this.#waiters.add(check);
        check();
        return () => this.#waiters.delete(check);
      },
      (n) => n >= count,
      what,
      ms,
    );
    return this.items;
  }

  get ids(): Array<string | undefined> {
    return this.items.map((n) => n.id);
  }

  get seqs(): number[] {
    return this.items.map((n) => n.seq);
  }
}

/** A notification to publish. */
export function note(collection: string, id?: string | number, data?: unknown): object {
  return { collection, action: 'create', ...(id !== undefined && { id }), ...(data !== undefined && { data }) };
}
