// A React hook: the data of a collection, reloaded whenever it changes or
// the client resyncs. (An example to copy into a React app; not built here.)

import { useEffect, useState } from 'react';

import type { NotifierClient } from 'notifier-client';

/**
 * const forums = useCollection(client, 'forums', () => fetch('/api/forums').then((r) => r.json()));
 */
export function useCollection<T>(client: NotifierClient, entry: string, load: () => Promise<T>): T | undefined {
  const [data, setData] = useState<T>();
  useEffect(() => {
    let current = true;
    let loading = false;
    let again = false;
    // One load at a time; changes during a load cause exactly one more.
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
          if (current) setData(value);
        } while (again && current);
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
  }, [client, entry]);
  return data;
}
