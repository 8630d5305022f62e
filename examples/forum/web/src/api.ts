// SPDX-License-Identifier: MIT
// The forum's REST API (/api/forums, /api/posts).

export interface Forum {
  id: number;
  name: string;
}

export interface Post {
  id: number;
  forum_id: number;
  title: string;
  body: string;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, headers: {}, signal };
  if (body !== undefined) {
    init.headers = { 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 204) return undefined as T;
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = json as { error?: string; message?: string };
    throw new ApiError(res.status, e.error ?? 'http_error', e.message ?? `${method} ${path}: ${res.status}`);
  }
  return json as T;
}

export const api = {
  forums: (signal?: AbortSignal) => call<Forum[]>('GET', '/api/forums', undefined, signal),
  createForum: (name: string) => call<Forum>('POST', '/api/forums', { name }),
  renameForum: (id: number, name: string) => call<Forum>('PUT', `/api/forums/${id}`, { name }),
  deleteForum: (id: number) => call<void>('DELETE', `/api/forums/${id}`),
  posts: (forumId: number, signal?: AbortSignal) =>
    call<Post[]>('GET', `/api/posts?forum_id=${forumId}`, undefined, signal),
  createPost: (p: Omit<Post, 'id'>) => call<Post>('POST', '/api/posts', p),
  updatePost: (p: Post) => call<Post>('PUT', `/api/posts/${p.id}`, p),
  deletePost: (id: number) => call<void>('DELETE', `/api/posts/${id}`),
};
