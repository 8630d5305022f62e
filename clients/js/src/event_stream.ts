// SPDX-License-Identifier: MIT
// The hub's /sse stream (docs/protocol.md, "Server-Sent Events `/sse`") read
// through an EventSource and presented as the WebSocketLike that the client
// drives: each event's data is the text /ws would send as a frame, and the
// end of the stream is a close event with the code of its `close` event.
//
// The client opens every stream itself, with since/epoch from its cursor,
// and the EventSource's own reconnects are cut short (it is closed on its
// first error): backoff, resume, fresh tokens and the count of failed
// attempts then work as they do on /ws.

import type { EventSourceConstructor, EventSourceLike, WebSocketLike } from './types.js';

// WebSocket's readyState values, which the client reads.
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
// What a browser's WebSocket reports for a connection lost without a close.
const ABNORMAL = 1006;

export class EventStreamSocket implements WebSocketLike {
  readyState = CONNECTING;
  onopen: ((event: any) => void) | null = null;
  onmessage: ((event: any) => void) | null = null;
  onclose: ((event: any) => void) | null = null;
  onerror: ((event: any) => void) | null = null;
  readonly #source: EventSourceLike;

  constructor(EventSource: EventSourceConstructor, url: string) {
    const source = new EventSource(url);
    this.#source = source;
    const frame = (event: { data?: unknown }) => {
      if (this.readyState !== CLOSED) this.onmessage?.({ data: event.data });
    };
    source.addEventListener('open', () => {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      this.onopen?.({});
    });
    // Notifications come as the default `message` event.
    source.addEventListener('message', frame);
    source.addEventListener('welcome', frame);
    source.addEventListener('resync', frame);
    source.addEventListener('close', (event: { data?: unknown }) => this.#closeEvent(event.data));
    // A refused request (an HTTP error: the EventSource gives up) or a lost
    // stream (it would reconnect by itself): either way the client decides.
    source.addEventListener('error', () => this.#end(ABNORMAL, ''));
  }

  /** A stream carries nothing to the server: subscriptions and tokens
   * change by opening another stream. */
  send(): void {
    throw new Error('notifierd-client: an event stream cannot send');
  }

  close(): void {
    this.readyState = CLOSED;
    this.#source.close();
  }

  // `event: close`: {"code":…,"reason":…}, with "error" and "message" when
  // the server refused the stream (4401, 4403). The refusal is passed on as
  // the error frame /ws sends before such a close.
  #closeEvent(data: unknown): void {
    if (this.readyState === CLOSED) return;
    let code = ABNORMAL;
    let reason = '';
    try {
      const close = JSON.parse(String(data)) as { code?: unknown; reason?: unknown; error?: unknown; message?: unknown };
      if (typeof close.code === 'number') code = close.code;
      if (typeof close.reason === 'string') reason = close.reason;
      if (typeof close.error === 'string') {
        const message = typeof close.message === 'string' ? close.message : reason;
        this.onmessage?.({ data: JSON.stringify({ type: 'error', code: close.error, message }) });
      }
    } catch {
      // not JSON: a stream that ended abnormally
    }
    this.#end(code, reason);
  }

  #end(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.close();
    this.onclose?.({ code, reason });
  }
}

/** The URL of `name` beside the WebSocket endpoint `url`, over HTTP:
 * `ws://host/ws` → `http://host/sse`, `wss://host/app/ws?x=1` →
 * `https://host/app/sse?x=1` (the last path segment replaced; the query
 * kept unless `keepQuery` is false). */
export function besideUrl(url: string, name: string, keepQuery = true): URL {
  const ws = new URL(url);
  const base = new URL(ws.href);
  base.protocol = ws.protocol === 'wss:' || ws.protocol === 'https:' ? 'https:' : 'http:';
  const beside = new URL(name, base);
  beside.search = keepQuery ? ws.search : '';
  return beside;
}

/**
 * Whether the server answers plain HTTP at `url` within `timeoutMs`: any
 * answer but a 5xx (a proxy's 502 for a server that is down). Another
 * origin's answer is opaque to a page (no CORS headers on /healthz) and
 * counts as an answer. Without fetch, there is no telling: true.
 */
export async function answersHttp(url: URL, timeoutMs: number): Promise<boolean> {
  const fetch = (globalThis as { fetch?: typeof globalThis.fetch }).fetch;
  if (!fetch) return true;
  const page = (globalThis as { location?: { origin?: string } }).location?.origin;
  const crossOrigin = typeof page === 'string' && page !== url.origin;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url.href, {
      cache: 'no-store',
      signal: controller.signal,
      ...(crossOrigin ? { mode: 'no-cors' as const } : {}),
    });
    void res.body?.cancel().catch(() => {});
    return res.type === 'opaque' || res.status < 500;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
