// SPDX-License-Identifier: MIT
// NotificationService (notifierd-client/angular) in an Angular app: one
// provider, then any component injects it. The service needs no Angular
// decorator, so the package does not depend on @angular/core. (This file
// is type-checked against the packed package by scripts/pack-test.mjs; the
// component below is in a comment because that check has no Angular.)

import { NotificationService } from 'notifierd-client/angular';

/** In app.config.ts: `providers: [...notificationProviders, …]`. */
export const notificationProviders = [
  {
    provide: NotificationService,
    useFactory: () =>
      new NotificationService({
        url: new URL('/ws', location.href).href,
        token: () => fetch('/api/notifier-token').then((r) => r.text()),
      }),
  },
];

/* A component using it:

@Component({ selector: 'app-forums', template: '…' })
export class ForumsComponent implements OnInit, OnDestroy {
  forums: Forum[] = [];
  private readonly notifications = inject(NotificationService);
  private readonly http = inject(HttpClient);
  private readonly subscriptions = new Subscription();

  ngOnInit(): void {
    this.reload();
    this.subscriptions.add(this.notifications.collection<Forum>('forums').subscribe(() => this.reload()));
    this.subscriptions.add(this.notifications.resync$.subscribe(() => this.reload()));
    this.subscriptions.add(this.notifications.error$.subscribe((e) => console.warn(e.code, e.message)));
  }

  ngOnDestroy(): void {
    this.subscriptions.unsubscribe(); // releases the server-side subscription too
  }

  private reload(): void {
    this.http.get<Forum[]>('/api/forums').subscribe((f) => (this.forums = f));
  }
}
*/
