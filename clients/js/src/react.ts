// SPDX-License-Identifier: MIT
// React hooks (react is an optional peer dependency: import this module only
// where React is installed, 16.8 or later).

import { useEffect, useMemo, useRef, useState } from 'react';

import type { NotifierClient } from './client.js';
import { live, type LiveClient, type LiveOptions, type LiveSnapshot } from './live.js';
import type { ConnectionState } from './types.js';

const loadingSnapshot: LiveSnapshot<never> = Object.freeze({ data: undefined, status: 'loading', error: undefined });

/**
 * A live query (see live()) for the lifetime of the component: the data
 * that `load` returns once the server confirmed the subscription to
 * `topic`, kept up to date (loaded again on matching notifications and
 * resyncs, or patched by `options.apply`), with its status and last error:
 *
 *     const { data: posts, status } = useLive(client, where<Post>('posts', { forum_id: 7 }),
 *       (signal) => fetch('/api/posts?forum=7', { signal }).then((r) => r.json() as Promise<Post[]>));
 *
 * A new query starts when `client` or `topic` changes (data `undefined`
 * and status `loading` again); `load` and the options are read at each use,
 * so inline functions do not restart it. Unmounting closes the query:
 * `load`'s signal is aborted and the subscription released.
 */
export function useLive<T, R = unknown>(
  client: LiveClient,
  topic: string,
  load: (signal: AbortSignal) => Promise<T> | T,
  options: LiveOptions<T, R> = {},
): LiveSnapshot<T> {
  const latest = useRef({ load, options });
  latest.current = { load, options };
  // Identifies the query, so that a snapshot of the previous topic is never
  // returned for the new one.
  const key = useMemo(() => ({ client, topic }), [client, topic]);
  const [state, setState] = useState<{ key: object | null; snapshot: LiveSnapshot<T> }>({ key: null, snapshot: loadingSnapshot });
  useEffect(() => {
    // The mode (reload or apply) is the one given when the query starts;
    // the functions are the latest ones.
    const { apply, onError, retry } = latest.current.options;
    const query = live<T, R>(key.client, key.topic, (signal) => latest.current.load(signal), {
      ...(apply && { apply: (data: T, n) => (latest.current.options.apply ?? apply)(data, n) }),
      ...(onError && { onError: (e: unknown) => (latest.current.options.onError ?? onError)(e) }),
      ...(retry && { retry }),
    });
    const show = (snapshot: LiveSnapshot<T>) => setState({ key, snapshot });
    const off = query.onChange(show);
    show(query.snapshot);
    return () => {
      off();
      query.close();
    };
  }, [key]);
  return state.key === key ? state.snapshot : loadingSnapshot;
}

/**
 * The data of a collection (or record), loaded by `load` once subscribed
 * and again whenever a notification matches `entry` or the client resyncs;
 * `undefined` until the first load completes.
 *
 * @deprecated Use useLive(), which gives the status and error too:
 * `useLive(client, entry, load).data` is what this returns.
 */
export function useCollection<T>(client: NotifierClient, entry: string, load: () => Promise<T>): T | undefined {
  return useLive<T>(client, entry, () => load()).data;
}

/** The client's connection state (connecting, live, reconnecting, closed),
 * e.g. for a status badge. */
export function useConnectionState(client: NotifierClient): ConnectionState {
  const [state, setState] = useState<ConnectionState>(client.state);
  useEffect(() => client.onState(setState), [client]);
  return state;
}
