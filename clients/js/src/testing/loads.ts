// SPDX-License-Identifier: MIT
// Test support for live queries: a load function whose calls the test
// answers one by one, and waits on a query's snapshots.

import type { LiveQuery, LiveSnapshot } from '../live.js';
import { waitFor } from './notifierd.js';

interface Call<T> {
  signal: AbortSignal;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** A load function (`loads.load`) that records its calls and leaves them
 * pending until the test answers them. */
export class Loads<T> {
  readonly calls: Array<Call<T>> = [];
  readonly #listeners = new Set<() => void>();

  readonly load = (signal: AbortSignal): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      this.calls.push({ signal, resolve, reject });
      for (const l of [...this.#listeners]) l();
    });

  get count(): number {
    return this.calls.length;
  }

  /** Waits until the n-th call (1-based) was made and returns it. */
  async call(n: number): Promise<Call<T>> {
    await waitFor<number>(
      (cb) => {
        const l = () => cb(this.calls.length);
        this.#listeners.add(l);
        l();
        return () => this.#listeners.delete(l);
      },
      (count) => count >= n,
      `load call ${n}`,
    );
    return this.calls[n - 1]!;
  }
}

/** Waits for a snapshot of `query` (the current one included) for which
 * `predicate` holds. */
export function snapshot<T>(
  query: LiveQuery<T>,
  predicate: (s: LiveSnapshot<T>) => boolean,
  what: string,
): Promise<LiveSnapshot<T>> {
  return waitFor<LiveSnapshot<T>>(
    (cb) => {
      const off = query.onChange(cb);
      cb(query.snapshot);
      return off;
    },
    predicate,
    what,
  );
}
