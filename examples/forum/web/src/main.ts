// SPDX-License-Identifier: MIT
// The forum page: loads forums and posts over REST and re-fetches whatever
// a notification says changed — no reload, ever. After a resync (the server
// restarted, or we were away too long) it reloads everything.

import { NotifierClient, type ConnectionState } from 'notifierd-client';

import { api, type Forum, type Post } from './api.js';
import { Reloader } from './reloader.js';
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

function showError(e: unknown): void {
  ui.error.textContent = e instanceof Error ? e.message : String(e);
  ui.error.hidden = false;
}

function clearError(): void {
  ui.error.hidden = true;
}

async function act(f: () => Promise<unknown>): Promise<void> {
  try {
    clearError();
    await f();
    // No local update: the change comes back as a notification, like
    // everyone else's.
  } catch (e) {
    showError(e);
  }
}

function draw(): void {
  renderForums(ui.forums, forums, selected, {
    select: (id) => {
      if (id === selected) return;
      selected = id;
      posts = [];
      draw();
      postsLoader.request();
    },
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

const forumsLoader = new Reloader(async () => {
  forums = await api.forums();
  if (!forums.some((f) => f.id === selected)) {
    selected = forums[0]?.id ?? null;
    posts = [];
    postsLoader.request();
  }
  draw();
}, showError);

const postsLoader = new Reloader(async () => {
  const forumId = selected;
  const list = forumId === null ? [] : await api.posts(forumId);
  if (forumId === selected) posts = list; // the selection may have moved meanwhile
  draw();
}, showError);

function reloadAll(): void {
  forumsLoader.request();
  postsLoader.request();
}

const client = new NotifierClient({ url: new URL('/ws', location.href).href });
client.on('forums', () => forumsLoader.request());
client.on('posts', () => postsLoader.request());

let resynced = false;
function showState(state: ConnectionState): void {
  const text = state === 'live' && resynced ? 'live (resynced)' : state;
  ui.state.textContent = text;
  ui.state.dataset.state = state;
  ui.state.dataset.resynced = String(resynced);
}

let loaded = false;
client.onState((state) => {
  if (state === 'reconnecting') resynced = false;
  showState(state);
  // Load once the subscriptions are live, so no change can fall in between.
  if (state === 'live' && !loaded) {
    loaded = true;
    reloadAll();
  }
});
client.onResync(() => {
  resynced = true;
  showState(client.state);
  reloadAll();
});

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

// For tests and curious people: the client and the page's state.
Object.assign(window as unknown as Record<string, unknown>, { notifierClient: client });
