// An Angular service in the spirit of the original NotificationService:
// components subscribe by collection and unsubscribe in ngOnDestroy.
// (An example to copy into an Angular app; not built here.)

import { Injectable, OnDestroy } from '@angular/core';
import { Observable } from 'rxjs';

import { NotifierClient, type ConnectionState, type Notification, type ResyncEvent } from 'notifier-client';
import { connectionState, fromCollection, resyncs } from 'notifier-client/rxjs';

@Injectable({ providedIn: 'root' })
export class NotificationService implements OnDestroy {
  private readonly client = new NotifierClient({
    url: new URL('/ws', location.href).href,
  });

  /** Changes of one collection ('forums') or record ('posts/7'). The
   * connection subscribes while someone listens. */
  collection(entry: string): Observable<Notification> {
    return fromCollection(this.client, entry);
  }

  /** live / reconnecting / …, for a status badge. */
  readonly state$: Observable<ConnectionState> = connectionState(this.client);

  /** Resume was impossible: reload whatever the page shows. */
  readonly resync$: Observable<ResyncEvent> = resyncs(this.client);

  ngOnDestroy(): void {
    this.client.close();
  }
}

/* A component using it:

@Component({ selector: 'app-forums', template: '…' })
export class ForumsComponent implements OnInit, OnDestroy {
  forums: Forum[] = [];
  private subscriptions = new Subscription();

  constructor(private notifications: NotificationService, private http: HttpClient) {}

  ngOnInit(): void {
    this.reload();
    this.subscriptions.add(this.notifications.collection('forums').subscribe(() => this.reload()));
    this.subscriptions.add(this.notifications.resync$.subscribe(() => this.reload()));
  }

  ngOnDestroy(): void {
    this.subscriptions.unsubscribe();  // releases the server-side subscription too
  }

  private reload(): void {
    this.http.get<Forum[]>('/api/forums').subscribe((f) => (this.forums = f));
  }
}
*/
