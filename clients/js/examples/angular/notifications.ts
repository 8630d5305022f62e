// SPDX-License-Identifier: MIT
// NotificationService (notifierd-client/angular) in an Angular app: one
// provider, then any component injects it and turns a live query into a
// signal. The service needs no Angular decorator, so the package does not
// depend on @angular/core. (Type-checked by `npm test` and, against the
// packed package, by scripts/pack-test.mjs.)

import { ChangeDetectionStrategy, Component, inject, input, type Provider } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { where, type Notification } from 'notifierd-client';
import { NotificationService } from 'notifierd-client/angular';
import { from, switchMap } from 'rxjs';

interface Post {
  id: number;
  forum_id: number;
  title: string;
}

/** In app.config.ts: `providers: [...notificationProviders, …]`. */
export const notificationProviders: Provider[] = [
  {
    provide: NotificationService,
    useFactory: () =>
      new NotificationService({
        url: new URL('/ws', location.href).href,
        token: () => fetch('/api/notifier-token').then((r) => r.text()),
      }),
  },
];

// Patched in place: an idempotent upsert or removal by id. A post that
// moved to another forum still arrives (its `old` row was in this forum)
// and is removed.
function applyPost(forumId: number) {
  return (posts: Post[], n: Notification<Post>): Post[] => {
    const rest = posts.filter((p) => String(p.id) !== n.id);
    return n.action !== 'delete' && n.data?.forum_id === forumId ? [...rest, n.data] : rest;
  };
}

@Component({
  selector: 'app-posts',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @switch (posts().status) {
      @case ('loading') { <p>Loading…</p> }
      @case ('error') { <p class="error">Not up to date</p> }
    }
    <ul>
      @for (post of posts().data ?? []; track post.id) { <li>{{ post.title }}</li> }
    </ul>
  `,
})
export class PostsComponent {
  readonly forumId = input.required<number>();
  readonly #notifications = inject(NotificationService);

  // A new live query whenever the forum changes; the previous one is
  // closed (its subscription released) by switchMap, the last one when the
  // component is destroyed (toSignal).
  readonly posts = toSignal(
    toObservable(this.forumId).pipe(
      switchMap((forumId) =>
        this.#notifications.live<Post[], Post>(
          where<Post>('posts', { forum_id: forumId }),
          (signal) => from(fetch(`/api/forums/${forumId}/posts`, { signal }).then((r) => r.json() as Promise<Post[]>)),
          { apply: applyPost(forumId) },
        ),
      ),
    ),
    { initialValue: { data: undefined, status: 'loading', error: undefined } },
  );
}
