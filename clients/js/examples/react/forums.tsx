// SPDX-License-Identifier: MIT
// React components on the hooks of notifierd-client/react: the posts of
// one forum, loaded once the subscription is confirmed and loaded again
// when a post enters or leaves the forum (a filtered subscription: the
// server sends only changes of that forum, and a post moved away arrives
// by its `old` row); the forums list patched in place; a badge for the
// connection state. (Type-checked by `npm test` and, against the packed
// package, by scripts/pack-test.mjs.)

import { NotifierClient, where, type Notification } from 'notifierd-client';
import { useConnectionState, useLive } from 'notifierd-client/react';

interface Forum {
  id: number;
  name: string;
}

interface Post {
  id: number;
  forum_id: number;
  title: string;
}

// One client for the page; subscriptions follow the mounted components.
const client = new NotifierClient({
  url: new URL('/ws', location.href).href,
  // Called before each connection attempt and before the token expires.
  token: () => fetch('/api/notifier-token').then((r) => r.text()),
});

async function getJson<T>(url: string, signal: AbortSignal): Promise<T> {
  const r = await fetch(url, { signal });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return (await r.json()) as T;
}

export function Posts({ forumId }: { forumId: number }) {
  // Loaded again on each change (one load at a time).
  const { data: posts, status, error } = useLive(client, where<Post>('posts', { forum_id: forumId }), (signal) =>
    getJson<Post[]>(`/api/forums/${forumId}/posts`, signal),
  );
  if (status === 'loading') return <p>Loading…</p>;
  return (
    <section>
      {status === 'error' && <p className="error">Not up to date: {String(error)}</p>}
      <ul>{posts?.map((p) => <li key={p.id}>{p.title}</li>)}</ul>
    </section>
  );
}

// Patched in place: an idempotent upsert or removal by id.
function applyForum(forums: Forum[], n: Notification<Forum>): Forum[] {
  const rest = forums.filter((f) => String(f.id) !== n.id);
  return n.action === 'delete' || !n.data ? rest : [...rest, n.data].sort((a, b) => a.name.localeCompare(b.name));
}

export function Forums() {
  const { data: forums } = useLive<Forum[], Forum>(client, 'forums', (signal) => getJson<Forum[]>('/api/forums', signal), {
    apply: applyForum,
  });
  const state = useConnectionState(client);
  return (
    <section>
      <span className={`badge ${state}`}>{state}</span>
      <ul>{forums?.map((f) => <li key={f.id}>{f.name}</li>)}</ul>
    </section>
  );
}
