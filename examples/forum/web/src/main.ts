// SPDX-License-Identifier: MIT
// The forum page: two live queries (notifierd-client's live()), the forum
// list and the posts of the selected forum, each loaded over REST once its
// subscription is confirmed and loaded again when a change of what it shows
// arrives — no page reload, ever. The posts query is filtered
// (posts[forum_id=N]): changes in other forums never reach this page, except
// a post moved out of the selected forum, whose `old` row (sent by the
// SQLite capture) still matches. After a resync (the server restarted, or
// the page was away too long) both queries load again.
//
// `?token=<jwt>` in the page's URL is handed to the client, for a server
// started with --jwt-secret: the token's `read` claim decides which forums'
// changes the page may follow. `?transport=websocket|sse|auto` chooses how
// the client reaches the hub (default auto: WebSocket, and the /sse event
// stream when WebSocket attempts keep failing); the badge's data-transport
// says which one it uses.

import {
  NotifierClient,
  live,
  where,
  type ConnectionState,
  type LiveQuery,
  type Notification,
  type ServerError,
  type Transport,
} from 'notifierd-client';

import { ApiError, api, type Forum, type Post } from './api.js';
import { renderForums, renderPosts } from './view.js';

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;

const ui = {
  state: $<HTMLSpanElement>('#state'),
  error: $<HTMLParagraphElement>('#error'),
  forums: $<HTMLUListElement>('#forums'),
  posts: $<HTMLUListElement>('#posts'),
  postsTitle: $<HTMLHeadingElement>('#posts-title'),
  noForum: $<HTMLParagraphElement>('#no-forum'),
  newForum: $<HTMLFormElement>('#new-forum'),
  newPost: $<HTMLFormElement>('#new-post'),
};

let forums: Forum[] = [];
let posts: Post[] = [];
let selected: number | null = null;
let postsQuery: LiveQuery<Post[]> | null = null;
// How many times the posts were requested (for tests: a change in another
// forum must not cause one).
let postsLoads = 0;

// --- Errors: the most recent failure still in force shows. A query's
// failure lasts until it loads again (or closes), the connection's until it
// is live again, an action's until the next action.

type ErrorSource = 'action' | 'forums' | 'posts' | 'connection';
const errors = new Map<ErrorSource, { text: string; code: string }>();

function isServerError(e: unknown): e is ServerError {
  return typeof e === 'object' && e !== null && typeof (e as ServerError).code === 'string'
    && typeof (e as ServerError).message === 'string';
}

function drawError(): void {
  const last = [...errors.values()].pop();
  ui.error.hidden = !last;
  ui.error.textContent = last?.text ?? '';
  if (last?.code) ui.error.dataset.code = last.code;
  else delete ui.error.dataset.code;
}

function showError(e: unknown, source: ErrorSource): void {
  // A ServerError (a refusal) is a plain object; an ApiError an Error with a code.
  const text = isServerError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
  const code = isServerError(e) || e instanceof ApiError ? e.code : '';
  errors.delete(source); // to the end: the latest shows
  errors.set(source, { text, code });
  drawError();
}

function clearError(source: ErrorSource): void {
  if (errors.delete(source)) drawError();
}

async function act(f: () => Promise<unknown>): Promise<void> {
  try {
    clearError('action');
    await f();
    // No local update: the change comes back as a notification, like
    // everyone else's.
  } catch (e) {
    showError(e, 'action');
  }
}

// --- Rendering.

function draw(): void {
  renderForums(ui.forums, forums, selected, {
    select,
    rename: (id, name) => void act(() => api.renameForum(id, name)),
    remove: (id) => void act(() => api.deleteForum(id)),
  });
  const forum = forums.find((f) => f.id === selected);
  ui.postsTitle.textContent = forum ? `Posts in ${forum.name}` : 'Posts';
  ui.noForum.hidden = forums.length > 0;
  ui.newPost.hidden = !forum;
  renderPosts(ui.posts, forum ? posts : [], {
    save: (p) => void act(() => api.updatePost(p)),
    remove: (id) => void act(() => api.deletePost(id)),
  });
}

// --- The live queries.

const params = new URLSearchParams(location.search);
const token = params.get('token');
const transports: Transport[] = ['auto', 'websocket', 'sse'];
let transport = (params.get('transport') ?? 'auto') as Transport;
if (!transports.includes(transport)) {
  console.warn(`?transport=${transport}: not one of ${transports.join(', ')}; using auto`);
  transport = 'auto';
}
const client = new NotifierClient({ url: new URL('/ws', location.href).href, transport, ...(token ? { token } : {}) });

document.body.dataset.postsLoads = '0';

const forumsQuery = live<Forum[]>(client, 'forums', (signal) => api.forums(signal), {
  onError: (e) => showError(e, 'forums'),
});
forumsQuery.onChange(({ data, status }) => {
  if (status === 'live') clearError('forums');
  if (data === undefined) return;
  forums = data;
  if (!forums.some((f) => f.id === selected)) select(forums[0]?.id ?? null);
  else draw();
});

/** Shows forum `id`: closes the previous forum's query (its late answers
 * are dropped with it) and opens one filtered on this forum. */
function select(id: number | null): void {
  if (id === selected) return;
  postsQuery?.close();
  postsQuery = null;
  clearError('posts');
  selected = id;
  posts = [];
  ui.posts.dataset.forumId = id === null ? '' : String(id);
  ui.posts.dataset.status = id === null ? '' : 'loading';
  if (id !== null) {
    const query = live<Post[]>(client, where<Post>('posts', { forum_id: id }), (signal) => {
      document.body.dataset.postsLoads = String(++postsLoads);
      return api.posts(id, signal);
    }, { onError: (e) => showError(e, 'posts') });
    postsQuery = query;
    query.onChange(({ data, status }) => {
      if (query !== postsQuery) return;
      if (status === 'live') clearError('posts');
      posts = data ?? [];
      ui.posts.dataset.status = status;
      draw();
    });
  }
  draw();
}

// --- Connection state.

let resynced = false;
function showState(state: ConnectionState): void {
  const text = state === 'live' && resynced ? 'live (resynced)' : state;
  ui.state.textContent = text;
  ui.state.title = `over ${client.transport === 'sse' ? 'Server-Sent Events' : 'WebSocket'}`;
  ui.state.dataset.state = state;
  ui.state.dataset.transport = client.transport;
  ui.state.dataset.resynced = String(resynced);
}

client.onState((state) => {
  if (state === 'reconnecting') resynced = false;
  if (state === 'live') clearError('connection');
  showState(state);
});
// The queries load again by themselves; this only tells the badge.
client.onResync(() => {
  resynced = true;
  showState(client.state);
});
// Refusals of the connection (a missing or expired token, …); a refused
// subscription is reported by its query.
client.onError((e) => {
  if (!e.entries) showError(e, 'connection');
});

// For tests and curious people: the client and the last notifications it
// received, whatever matched them.
const received: Notification[] = [];
client.onNotification((n) => {
  received.push(n);
  if (received.length > 500) received.shift();
});

// --- Forms.

ui.newForum.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = ui.newForum.elements.namedItem('name') as HTMLInputElement;
  const name = input.value;
  void act(async () => {
    await api.createForum(name);
    input.value = '';
  });
});

ui.newPost.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (selected === null) return;
  const title = ui.newPost.elements.namedItem('title') as HTMLInputElement;
  const body = ui.newPost.elements.namedItem('body') as HTMLTextAreaElement;
  const forumId = selected;
  void act(async () => {
    await api.createPost({ forum_id: forumId, title: title.value, body: body.value });
    title.value = '';
    body.value = '';
  });
});

Object.assign(window as unknown as Record<string, unknown>, {
  notifierClient: client,
  notifierLog: received,
  forumQueries: { forums: forumsQuery, posts: () => postsQuery },
});
