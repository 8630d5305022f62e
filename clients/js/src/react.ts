// SPDX-License-Identifier: MIT
// React hooks (react is an optional peer dependency: import this module only
// where React is installed, 16.8 or later).

import { useEffect, useState } from 'react';

import type { NotifierClient } from './client.js';
import type { ConnectionState } from './types.js';

/**
 * The data of a collection (or record), loaded by `load` at first and again
 * whenever a notification matches `entry` or the client resyncs:
 *
 *     const forums = useCollection(client, 'forums', () => fetch('/api/forums').then((r) => r.json()));
 *
 * One load runs at a time; changes during a load cause exactly one more.
 * `undefined` until the first load completes. `load` is the one given when
 * `client` or `entry` last changed.
 */
export function useCollection<T>(client: NotifierClient, entry: string, load: () => Promise<T>): T | undefined {
  const [data, setData] = useState<T>();
  useEffect(() => {
    let current = true;
    let loading = false;
    let again = false;
    const reload = async () => {
      if (loading) {
        again = true;
        return;
      }
      loading = true;
      try {
        do {
          again = false;
          const value = await load();
          if (current) setData(() => value);
        } while (again && current);
      } catch (error) {
        console.error('notifierd-client: useCollection: the load function failed', error);
      } finally {
        loading = false;
      }
    };
    void reload();
    const off = client.on(entry, () => void reload());
    const offResync = client.onResync(() => void reload());
    return () => {
      current = false;
      off(); // and the connection drops the subscription once unused
      offResync();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- see `load` above
  }, [client, entry]);
  return data;
}

/** The client's connection state (connecting, live, reconnecting, closed),
 * e.g. for a status badge. */
export function useConnectionState(client: NotifierClient): ConnectionState {
  const [state, setState] = useState<ConnectionState>(client.state);
  useEffect(() => client.onState(setState), [client]);
  return state;
}
