// SPDX-License-Identifier: MIT
// A React component on the hooks of notifierd-client/react: the forums list
// reloads when the collection changes or the client resyncs, and a badge
// shows the connection state. (Type-checked against the packed package by
// scripts/pack-test.mjs.)

import { NotifierClient } from 'notifierd-client';
import { useCollection, useConnectionState } from 'notifierd-client/react';

interface Forum {
  id: number;
  name: string;
}

// One client for the page; subscriptions follow the mounted components.
const client = new NotifierClient({
  url: new URL('/ws', location.href).href,
  // Called before each connection attempt and before the token expires.
  token: () => fetch('/api/notifier-token').then((r) => r.text()),
});

export function Forums() {
  const forums = useCollection(client, 'forums', () => fetch('/api/forums').then((r) => r.json() as Promise<Forum[]>));
  const state = useConnectionState(client);
  return (
    <section>
      <span className={`badge ${state}`}>{state}</span>
      <ul>{forums?.map((f) => <li key={f.id}>{f.name}</li>)}</ul>
    </section>
  );
}
