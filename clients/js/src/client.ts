// SPDX-License-Identifier: MIT
// NotifierClient: one connection to a notifier hub (protocol v1,
// docs/protocol.md), a WebSocket or else an event stream (/sse), that keeps
// its subscriptions, reconnects with backoff, resumes from its cursor, and
// says when the app must reload (resync).

import { backoffDelay, type BackoffOptions } from './backoff.js';
import { answersHttp, besideUrl, EventStreamSocket } from './event_stream.js';
import { Listeners, type Listener } from './listeners.js';
import { refreshDelay, tokenExpiry, type TokenSource } from './token.js';
import { canonicalEntry, matches, parseTopic, type Topic } from './topics.js';
import type {
  ConnectionState,
  ControlFrame,
  Cursor,
  EventSourceConstructor,
  Notification,
  ResyncEvent,
  ServerError,
  SubscribedEvent,
  Transport,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

export interface NotifierClientOptions {
  /** The hub's WebSocket URL, e.g. `ws://localhost:8080/ws` (http: and
   * https: URLs are turned into ws: and wss:). */
  url: string;
  /** Subscribed from the start (more with on() and subscribe()). */
  collections?: string[];
  /** A subscriber token (JWT), or a function returning a fresh one before
   * each connection attempt and before the current one expires (see
   * setToken()). */
  token?: TokenSource;
  /** The WebSocket implementation; default: the global one (browsers,
   * Deno, Node 22). In Node 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /**
   * `websocket`: the hub's `/ws` only. `sse`: its `/sse` event stream only
   * (the URL beside `url`: `ws://host/ws` → `http://host/sse`), for networks
   * that break WebSocket upgrades. `auto` (default): WebSocket; once
   * `fallbackAfterAttempts` attempts in a row ended before the server sent
   * anything while a plain HTTP request to the hub's `/healthz` (beside
   * `url`) gets an answer, the event stream, for the rest of the client's
   * life. Resume, resync, backoff and refusals are the same on both; see
   * the README for what differs.
   */
  transport?: Transport;
  /** The EventSource implementation for the event stream; default: the
   * global one (browsers). In Node pass the `eventsource` package's. */
  EventSource?: EventSourceConstructor;
  /** With `transport: 'auto'`: this many WebSocket attempts in a row that
   * end before the server sent anything lead to the event stream, when the
   * hub answers plain HTTP. Default 3. */
  fallbackAfterAttempts?: number;
  /** Where to resume from, e.g. a cursor saved before a page reload. */
  resume?: Cursor;
  /** Reconnect delays (exponential backoff with jitter). */
  reconnect?: BackoffOptions;
  /** An application-level ping this often while live (browsers cannot send
   * WebSocket pings); 0 disables. Default 25 s, below the usual proxy idle
   * timeouts. */
  pingIntervalMs?: number;
  /** With nothing received this long after a ping, the connection is
   * considered dead and replaced. Default 10 s. */
  pongTimeoutMs?: number;
  /** A connection attempt without a welcome this long is abandoned.
   * Default 10 s. */
  connectTimeoutMs?: number;
  /** This many connection attempts in a row that end before the server sent
   * anything (no upgrade: a refused origin, an HTTP error, nothing
   * listening) raise one `handshake_failed` error event; reconnecting goes
   * on. Default 5; 0 never reports. */
  failedAttemptsBeforeError?: number;
  /** Connect in the constructor (default true); otherwise call connect(). */
  connect?: boolean;
}

type Timer = ReturnType<typeof setTimeout>;

// A frame sent and not answered yet: subscribe and unsubscribe are answered
// by `subscribed` or `error`, auth by `authenticated` or `error`. `ref` is
// set when the server echoes refs (protocol ≥ 1).
type Pending = { ref?: number } & (
  | { kind: 'subscribe' | 'unsubscribe'; entries: string[] }
  | { kind: 'auth'; token: string; version: number }
);

const OPEN = 1;
// Close codes of refused connections (docs/protocol.md): the token, or a
// subscription outside it.
const UNAUTHORIZED = 4401;
const FORBIDDEN = 4403;
const TOKEN_EXPIRED = 4001;
// setTimeout's longest delay.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class NotifierClient {
  readonly #options: NotifierClientOptions;
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #EventSource: EventSourceConstructor | undefined;
  readonly #mode: Transport;
  // What the connections use now: `auto` starts on the WebSocket and may
  // move to the stream, never back.
  #transport: 'websocket' | 'sse';
  // The server's welcome for the current connection arrived. The state may
  // stay `live` without it while a stream is replaced by another.
  #welcomed = false;
  // A request to /healthz is under way (auto, after WebSocket failures).
  #probing = false;
  // A stream replaced to change its subscriptions or token: the entries
  // confirmed before (which stay confirmed: the new stream resumes from the
  // cursor) and the set of the stream it replaced. Set until its welcome.
  #reopening: { kept: Set<string>; previous: Set<string> } | null = null;
  #reopened: { kept: Set<string>; previous: Set<string> } | null = null;

  #socket: WebSocketLike | null = null;
  #generation = 0; // callbacks of an abandoned socket or attempt see a newer one and return
  #state: ConnectionState = 'closed';
  #closed = true;
  #everLive = false;
  #attempt = 0;
  #epoch: string | null = null;
  #seq: number | null = null;

  // The token: the source the app gave (setToken() replaces it and counts a
  // version), and the token the current connection holds on the server.
  #token: TokenSource | undefined;
  #tokenVersion = 0;
  #connToken: string | undefined;
  #connTokenVersion = 0;
  // The server answered an auth frame with auth_disabled: no more refreshes.
  #authDisabled = false;
  // Stopped on a refusal (4401/4403, or 4001 with a fixed token) until the
  // app gives a new token or calls connect().
  #halted = false;
  // A 4401 with a token function is retried once with a fresh token.
  #refusalRetried = false;
  // The error frame of a refused connection, reported with its close.
  #refusal: { code: string; message: string } | null = null;
  // Attempts in a row that ended before any frame arrived.
  #gotFrame = false;
  #silentFailures = 0;

  // Subscriptions: what the app wants (with reference counts) and what the
  // server has, as far as we told it.
  readonly #wanted = new Map<string, number>();
  #sent = new Set<string>();
  // Entries the server refused (an error frame answered their subscribe):
  // kept out of the next URL, where a refusal would fail the upgrade itself,
  // and not asked again until the app subscribes to them anew.
  readonly #refused = new Set<string>();
  // Subscribe/unsubscribe/auth frames sent and not answered yet, in order.
  #awaiting: Pending[] = [];
  // The welcome announced protocol ≥ 1: frames carry a `ref`.
  #refs = false;
  #nextRef = 0;
  // Entries the server confirmed on this connection (its welcome, or the
  // answer to their subscribe), with no frame about them in flight.
  readonly #active = new Set<string>();
  // The entries of the connection's URL, confirmed once the resync that a
  // welcome without resume announces has arrived.
  #activateAtResync: string[] | null = null;
  // The last frame was `authenticated`: a `subscribed` right after it is
  // not an answer but the set the new token left (entries it dropped).
  #afterAuth = false;
  #serverSet: string[] = [];
  #flushQueued = false;
  // Asked to resume and the welcome said it could not: the cursor stays
  // until the resync frame, so a connection lost in between asks again.
  #resyncDue = false;

  readonly #handlers = new Map<string, { topic: Topic; listeners: Listeners<Notification> }>();
  readonly #subscribedListeners = new Map<string, Listeners<SubscribedEvent>>();
  readonly #all = new Listeners<Notification>();
  readonly #stateListeners = new Listeners<ConnectionState>();
  readonly #resyncListeners = new Listeners<ResyncEvent>();
  readonly #errorListeners = new Listeners<ServerError>();
  readonly #subscriptionListeners = new Listeners<string[]>();

  #retryTimer: Timer | undefined;
  #connectTimer: Timer | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #pongTimer: Timer | undefined;
  #refreshTimer: Timer | undefined;

  constructor(options: NotifierClientOptions) {
    this.#options = { ...options };
    const mode = options.transport ?? 'auto';
    if (mode !== 'auto' && mode !== 'websocket' && mode !== 'sse') {
      throw new TypeError(`notifierd-client: transport is 'auto', 'websocket' or 'sse', not ${JSON.stringify(mode)}`);
    }
    this.#mode = mode;
    this.#WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.#EventSource = options.EventSource ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    if (mode === 'sse' && !this.#EventSource) {
      throw new TypeError('notifierd-client: no EventSource implementation; pass one as options.EventSource (e.g. from "eventsource")');
    }
    if (mode !== 'sse' && !this.#WebSocket && !(mode === 'auto' && this.#EventSource)) {
      throw new TypeError('notifierd-client: no WebSocket implementation; pass one as options.WebSocket (e.g. from "ws")' +
        (mode === 'auto' ? ', or an EventSource as options.EventSource' : ''));
    }
    // `auto` without a WebSocket but with an EventSource: the stream at once.
    this.#transport = mode === 'sse' || !this.#WebSocket ? 'sse' : 'websocket';
    this.#token = options.token;
    for (const entry of (options.collections ?? []).map(canonicalEntry)) {
      this.#wanted.set(entry, (this.#wanted.get(entry) ?? 0) + 1);
    }
    if (options.resume) {
      this.#epoch = options.resume.epoch;
      this.#seq = options.resume.seq;
    }
    if (options.connect !== false) this.connect();
  }

  /** The connection state; see onState(). */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The position to resume from: the epoch and the seq of the last
   * notification received (or of the last welcome/resync). */
  get cursor(): Cursor | null {
    return this.#epoch !== null && this.#seq !== null ? { epoch: this.#epoch, seq: this.#seq } : null;
  }

  /** What the connections use: `websocket`, or `sse` (the option said so,
   * or `auto` moved to the event stream). */
  get transport(): 'websocket' | 'sse' {
    return this.#transport;
  }

  /** The subscriptions the app asked for, sorted, in canonical form. */
  get subscriptions(): string[] {
    return [...this.#wanted.keys()].sort();
  }

  /** The set the server last confirmed (its `subscribed` frame; on the
   * event stream, the welcome of the stream that named it). */
  get serverSubscriptions(): string[] {
    return [...this.#serverSet];
  }

  /** Starts connecting (after close(), or with `connect: false`). */
  connect(): void {
    if (!this.#closed) return;
    this.#closed = false;
    this.#halted = false;
    this.#attempt = 0;
    this.#silentFailures = 0;
    this.#refusalRetried = false;
    this.#setState(this.#everLive ? 'reconnecting' : 'connecting');
    // Later in this task: handlers added right after the constructor then
    // travel in the URL instead of a subscribe frame.
    const generation = this.#generation;
    queueMicrotask(() => {
      if (!this.#closed && generation === this.#generation) void this.#open();
    });
  }

  /** Closes the connection for good: no reconnect, no more events. */
  close(): void {
    this.#halted = false;
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#abandon();
    this.#setState('closed');
  }

  /**
   * Replaces the token: a string, or a function returning a fresh one. Used
   * by every later connection attempt; on a live WebSocket it is sent at
   * once in an `auth` frame (rights change without reconnecting; a refusal
   * is an error event and the previous token stays in force); a live event
   * stream is replaced by one opened with it, resuming from the cursor (a
   * refusal is that of a connection). After the server refused the
   * connection (the client is `closed` with an error event), this
   * reconnects.
   */
  setToken(token: TokenSource): void {
    if (typeof token !== 'string' && typeof token !== 'function') {
      throw new TypeError('notifierd-client: a token is a string or a function returning one');
    }
    this.#token = token;
    this.#tokenVersion++;
    this.#refusalRetried = false;
    if (this.#halted) this.connect();
    else if (this.#welcomed) this.#renewToken();
  }

  /**
   * Calls `handler` for every notification matching `entry`: a collection
   * (`'forums'`), one record (`'posts/7'`), a filtered collection
   * (`'posts[forum_id=7]'`, see where()) or everything (`'*'`). Subscribes
   * the connection to it as long as a handler needs it. Returns the function
   * that removes the handler (and the subscription, once unused). `T` types
   * the notifications' `data` (not checked).
   */
  on<T = unknown>(entry: string, handler: Listener<Notification<T>>): () => void {
    const topic = parseTopic(entry);
    let slot = this.#handlers.get(topic.entry);
    if (!slot) {
      slot = { topic, listeners: new Listeners<Notification>() };
      this.#handlers.set(topic.entry, slot);
    }
    const { listeners } = slot;
    const remove = listeners.add(handler as Listener<Notification>);
    const release = this.subscribe(topic.entry);
    return () => {
      remove();
      if (listeners.size === 0 && this.#handlers.get(topic.entry) === slot) this.#handlers.delete(topic.entry);
      release();
    };
  }

  /**
   * Calls `handler` each time the server confirms `entry` on a connection:
   * the answer to the subscribe frame that added it, or the welcome of a
   * connection that named it (after the resync, when one follows). From
   * then on, every notification matching the entry with a seq above the
   * event's `seq` is delivered; a snapshot of what the entry covers, loaded
   * after this, misses nothing (see live()). Called at once when the entry
   * is confirmed already. It does not subscribe: pair it with on() or
   * subscribe(). A refusal is an error event whose `entries` name it.
   */
  onSubscribed(entry: string, handler: Listener<SubscribedEvent>): () => void {
    const canonical = canonicalEntry(entry);
    let listeners = this.#subscribedListeners.get(canonical);
    if (!listeners) {
      listeners = new Listeners<SubscribedEvent>();
      this.#subscribedListeners.set(canonical, listeners);
    }
    const remove = listeners.add(handler);
    if (this.#active.has(canonical)) handler({ entry: canonical, seq: this.#seq ?? 0 });
    return () => {
      remove();
      if (listeners.size === 0 && this.#subscribedListeners.get(canonical) === listeners) {
        this.#subscribedListeners.delete(canonical);
      }
    };
  }

  /** Every notification this connection receives, whatever matched it. */
  onNotification<T = unknown>(handler: Listener<Notification<T>>): () => void {
    return this.#all.add(handler as Listener<Notification>);
  }

  /** Adds subscriptions; returns the function that releases them. */
  subscribe(...entries: string[]): () => void {
    entries = entries.map(canonicalEntry);
    for (const e of entries) {
      this.#wanted.set(e, (this.#wanted.get(e) ?? 0) + 1);
      this.#refused.delete(e); // asked anew: try again
    }
    this.#queueFlush();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const e of entries) {
        const n = this.#wanted.get(e);
        if (n === undefined) continue; // already removed by unsubscribe()
        if (n <= 1) this.#wanted.delete(e);
        else this.#wanted.set(e, n - 1);
      }
      this.#queueFlush();
    };
  }

  /** Removes subscriptions entirely, whoever added them. */
  unsubscribe(...entries: string[]): void {
    for (const e of entries.map(canonicalEntry)) this.#wanted.delete(e);
    this.#queueFlush();
  }

  /** Connection state changes (also called with the current state at once). */
  onState(handler: Listener<ConnectionState>): () => void {
    const remove = this.#stateListeners.add(handler);
    handler(this.#state);
    return remove;
  }

  /** The server could not resume: reload what you built from notifications. */
  onResync(handler: Listener<ResyncEvent>): () => void {
    return this.#resyncListeners.add(handler);
  }

  /** Errors: the server refused one of the client's frames or the
   * connection (see ServerError). */
  onError(handler: Listener<ServerError>): () => void {
    return this.#errorListeners.add(handler);
  }

  /** The server confirmed a new subscription set. */
  onSubscriptions(handler: Listener<string[]>): () => void {
    return this.#subscriptionListeners.add(handler);
  }

  // --- connection ---

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    // Armed before the token: a token function that never settles is timed
    // out like a server that never answers.
    this.#connectTimer = setTimeout(() => {
      if (generation !== this.#generation || this.#welcomed) return;
      const silent = this.#socket !== null && !this.#gotFrame;
      this.#lost();
      if (silent) this.#silentFailure();
    }, this.#options.connectTimeoutMs ?? 10_000);
    this.#gotFrame = false;
    this.#refusal = null;
    const version = this.#tokenVersion;
    let token: string | undefined;
    try {
      token = await this.#resolveToken();
    } catch (error) {
      console.error('notifierd-client: the token function failed', error);
      if (generation === this.#generation) this.#lost();
      return;
    }
    if (generation !== this.#generation || this.#closed) return;
    const entries = [...this.#wanted.keys()].filter((e) => !this.#refused.has(e)).sort();
    const sse = this.#transport === 'sse';
    let socket: WebSocketLike;
    try {
      const url = this.#url(entries, token);
      socket = sse ? new EventStreamSocket(this.#EventSource!, url) : new this.#WebSocket!(url);
    } catch (error) {
      // (A browser refuses some URLs at once: a ws: URL from an https: page.)
      console.error(`notifierd-client: cannot create ${sse ? 'an EventSource' : 'a WebSocket'}`, error);
      this.#lost();
      this.#silentFailure();
      return;
    }
    this.#socket = socket;
    this.#connToken = token;
    this.#connTokenVersion = version;
    this.#sent = new Set(entries);
    this.#awaiting = [];
    this.#afterAuth = false;
    this.#refs = false;
    this.#active.clear();
    this.#activateAtResync = null;
    // A replaced stream: what was confirmed stays so, the new stream
    // resuming from the cursor.
    this.#reopened = this.#reopening;
    this.#reopening = null;
    for (const e of this.#reopened?.kept ?? []) if (this.#sent.has(e)) this.#active.add(e);
    socket.onopen = () => {};
    socket.onerror = () => {}; // a close event follows
    socket.onclose = (event: { code?: number; reason?: string }) => {
      if (generation === this.#generation) this.#closedBy(event?.code, event?.reason ?? '');
    };
    socket.onmessage = (event: { data: unknown }) => {
      if (generation === this.#generation) this.#receive(event.data);
    };
  }

  async #resolveToken(): Promise<string | undefined> {
    const t = this.#token;
    return typeof t === 'function' ? await t() : t;
  }

  // The current socket closed.
  #closedBy(code: number | undefined, reason: string): void {
    const refusal = this.#refusal;
    this.#refusal = null;
    // A token given since this connection's was read: try it.
    const newToken = this.#tokenVersion !== this.#connTokenVersion;
    const reopened = this.#reopened;
    const added = reopened ? [...this.#sent].filter((e) => !reopened.previous.has(e)) : [];
    if (code === FORBIDDEN && added.length > 0 && !newToken) {
      // A stream replaced to add entries, refused for a subscription
      // outside the token: as a refused subscribe frame on /ws, those
      // entries are refused and the stream goes on without them.
      for (const e of added) this.#refused.add(e);
      const generation = this.#generation;
      this.#errorListeners.emit({
        code: refusal?.code ?? 'forbidden',
        message: refusal?.message ?? (reason || 'subscription refused'),
        entries: added,
      });
      if (!this.#closed && generation === this.#generation) this.#reopen(reopened!.kept, reopened!.previous);
      return;
    }
    if (code === UNAUTHORIZED || code === FORBIDDEN) {
      // Refused at connect (the token, or a subscription outside it): the
      // same attempt would be refused again. A token function gets one more
      // call; otherwise stop until setToken() or connect().
      const error: ServerError = {
        code: refusal?.code ?? (code === UNAUTHORIZED ? 'unauthorized' : 'forbidden'),
        message: refusal?.message ?? (reason || (code === UNAUTHORIZED ? 'token refused' : 'subscription refused')),
        closeCode: code,
      };
      if (newToken) this.#lost();
      else if (code === UNAUTHORIZED && typeof this.#token === 'function' && !this.#refusalRetried) {
        this.#refusalRetried = true;
        this.#lost(0);
      } else this.#halt(error);
      return;
    }
    // 4001: the token expired. A fixed token will be refused from now on:
    // say so and stop; a token function gets to provide a fresh one.
    if (code === TOKEN_EXPIRED && typeof this.#token !== 'function' && !newToken) {
      this.#halt({ code: 'token_expired', message: reason || 'token expired', closeCode: code });
      return;
    }
    if (refusal) this.#errorListeners.emit({ ...refusal });
    if (this.#closed) return; // an error listener closed the client
    const silent = !this.#gotFrame;
    this.#lost();
    if (silent) this.#silentFailure();
  }

  // Stops on a refusal and reports it; setToken() or connect() starts again.
  #halt(error: ServerError): void {
    this.close();
    this.#halted = true;
    this.#errorListeners.emit(error);
  }

  // An attempt ended before the server sent anything (in browsers, a refused
  // upgrade looks like this: close 1006 and nothing else). A run of them is
  // reported once; the backoff goes on.
  #silentFailure(): void {
    if (this.#closed) return;
    const failures = ++this.#silentFailures;
    if (this.#mode === 'auto' && this.#transport === 'websocket' && this.#EventSource &&
        failures >= Math.max(1, this.#options.fallbackAfterAttempts ?? 3)) {
      void this.#probe();
    }
    const limit = this.#options.failedAttemptsBeforeError ?? 5;
    if (limit <= 0 || failures !== limit) return;
    this.#errorListeners.emit({
      code: 'handshake_failed',
      message: `${limit} connection attempts in a row ended before the server sent anything ` +
        '(an origin or token refused before the upgrade, an HTTP error, or nothing listening); still retrying',
    });
  }

  // WebSocket attempts keep failing without a word from the server (in a
  // browser, what a proxy that breaks upgrades looks like): when the hub
  // answers plain HTTP, the WebSocket is what fails, and the event stream
  // takes over for good; when it does not, the hub is down, and the
  // WebSocket attempts go on.
  async #probe(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    let answers: boolean;
    try {
      answers = await answersHttp(besideUrl(this.#options.url, 'healthz', false), this.#options.connectTimeoutMs ?? 10_000);
    } finally {
      this.#probing = false;
    }
    if (!answers || this.#closed || this.#transport !== 'websocket' || this.#welcomed) return;
    // (The run of failed attempts goes on: a stream refused as well, e.g. a
    // foreign origin, is still reported as handshake_failed.)
    this.#transport = 'sse';
    this.#attempt = 0;
    if (this.#retryTimer === undefined) return; // an attempt is under way: the next one is a stream
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#open();
  }

  // A new token for the live connection (setToken(), or a refresh before
  // its token expires): an auth frame on the WebSocket; a stream cannot
  // present one, so it is replaced by a stream opened with it.
  #renewToken(): void {
    if (this.#transport === 'sse') this.#reopen();
    else void this.#authenticate();
  }

  // Replaces the live stream by one with the current subscriptions and
  // token, resuming from the cursor: nothing is lost in between, and the
  // state stays `live` unless the new stream fails.
  #reopen(kept = new Set(this.#active), previous = new Set(this.#sent)): void {
    this.#abandon();
    this.#reopening = { kept, previous };
    void this.#open();
  }

  // Sends the token source's current token in an auth frame (setToken(),
  // or a refresh before the connection's token expires).
  async #authenticate(): Promise<void> {
    const generation = this.#generation;
    const version = this.#tokenVersion;
    let token: string | undefined;
    try {
      token = await this.#resolveToken();
    } catch (error) {
      console.error('notifierd-client: the token function failed', error);
      return;
    }
    if (token === undefined || generation !== this.#generation || version !== this.#tokenVersion) return;
    const ref = this.#ref();
    if (this.#send({ type: 'auth', token, ...ref })) this.#awaiting.push({ kind: 'auth', token, version, ...ref });
  }

  // With a token function, a new token replaces the connection's before it
  // expires at `exp` (seconds).
  #scheduleRefresh(exp: number): void {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    if (typeof this.#token !== 'function' || this.#authDisabled) return;
    const generation = this.#generation;
    const delay = refreshDelay(exp);
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined;
      if (generation !== this.#generation) return;
      if (delay > MAX_TIMER_MS) this.#scheduleRefresh(exp);
      else this.#renewToken();
    }, Math.min(delay, MAX_TIMER_MS));
  }

  #url(entries: string[], token: string | undefined): string {
    let url: URL;
    if (this.#transport === 'sse') {
      url = besideUrl(this.#options.url, 'sse');
    } else {
      url = new URL(this.#options.url);
      if (url.protocol === 'http:') url.protocol = 'ws:';
      else if (url.protocol === 'https:') url.protocol = 'wss:';
    }
    // Always present: an empty value means "nothing" to the server, while an
    // absent one means everything (and would replay everything on resume).
    url.searchParams.set('collections', entries.join(','));
    if (this.#epoch !== null && this.#seq !== null) {
      url.searchParams.set('since', String(this.#seq));
      url.searchParams.set('epoch', this.#epoch);
    }
    if (token) url.searchParams.set('token', token);
    return url.toString();
  }

  // The connection is gone (closed, dead or never welcomed): retry after
  // `delay`, by default the next backoff delay.
  #lost(delay?: number): void {
    this.#abandon();
    if (this.#closed) return;
    this.#setState('reconnecting');
    clearTimeout(this.#retryTimer);
    delay ??= backoffDelay(this.#attempt++, this.#options.reconnect);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#open();
    }, delay);
  }

  #abandon(): void {
    this.#generation++;
    this.#welcomed = false;
    this.#reopening = this.#reopened = null;
    this.#active.clear();
    this.#activateAtResync = null;
    clearTimeout(this.#connectTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    clearTimeout(this.#refreshTimer);
    this.#connectTimer = this.#pingTimer = this.#pongTimer = this.#refreshTimer = undefined;
    const socket = this.#socket;
    this.#socket = null;
    if (!socket) return;
    // Keep no-op handlers: some implementations report an error for a
    // socket closed while connecting and treat a missing handler as fatal.
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = () => {};
    try {
      // Node's ws would wait up to 30 s for a dead peer's close frame.
      const terminate = (socket as { terminate?: () => void }).terminate;
      if (terminate) terminate.call(socket);
      else socket.close();
    } catch {
      // already closed
    }
  }

  #receive(data: unknown): void {
    // Anything from the server proves the connection alive.
    clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
    this.#gotFrame = true;
    this.#silentFailures = 0;
    let frame: unknown;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    const afterAuth = this.#afterAuth;
    this.#afterAuth = false;
    if ('type' in frame) {
      this.#control(frame as ControlFrame, afterAuth);
      return;
    }
    const n = frame as Notification;
    if (typeof n.seq !== 'number') return;
    // A resume may overlap what was already received: drop duplicates.
    if (this.#seq !== null && n.seq <= this.#seq) return;
    this.#seq = n.seq;
    const generation = this.#generation;
    this.#all.emit(n);
    for (const { topic, listeners } of [...this.#handlers.values()]) {
      if (this.#closed || generation !== this.#generation) return; // a handler closed the client
      if (matches(topic, n)) listeners.emit(n);
    }
  }

  #control(frame: ControlFrame, afterAuth: boolean): void {
    switch (frame.type) {
      case 'welcome':
        clearTimeout(this.#connectTimer);
        this.#connectTimer = undefined;
        // Resumed: the replay continues from our cursor. Not resumed, having
        // asked: the resync frame that follows moves the cursor (until then
        // a lost connection must ask again). Not resumed, not having asked:
        // we start at the server's newest seq.
        this.#resyncDue = !frame.resumed && this.#epoch !== null && this.#seq !== null;
        if (!this.#resyncDue) {
          this.#epoch = frame.epoch;
          if (!frame.resumed) this.#seq = frame.seq;
        }
        this.#attempt = 0;
        this.#refusalRetried = false;
        this.#everLive = true;
        this.#welcomed = true;
        this.#reopened = null;
        this.#refs = typeof frame.protocol === 'number' && frame.protocol >= 1;
        // On a stream, the server's pings are comments an EventSource does
        // not show: no ping of ours, and liveness is the stream's own.
        if (this.#transport === 'websocket') this.#startPing();
        if (this.#connToken !== undefined) {
          const exp = tokenExpiry(this.#connToken);
          if (exp !== null) this.#scheduleRefresh(exp);
        }
        // The upgrade accepted the URL's set (the server confirms only
        // later changes; a stream's set never changes).
        this.#serverSet = [...this.#sent].sort();
        this.#setState('live');
        if (this.#closed) return; // a state listener closed the client
        this.#subscriptionListeners.emit(this.serverSubscriptions);
        // The URL's entries hold from the cursor on (resumed) or from the
        // welcome's seq; after the resync's, when one is due.
        if (this.#resyncDue) this.#activateAtResync = [...this.#sent];
        else this.#activate(this.#sent, this.#seq ?? frame.seq);
        this.#flush();
        break;
      case 'resync': {
        this.#resyncDue = false;
        this.#epoch = frame.epoch;
        this.#seq = frame.seq;
        const generation = this.#generation;
        this.#resyncListeners.emit({ epoch: frame.epoch, seq: frame.seq });
        const due = this.#activateAtResync;
        this.#activateAtResync = null;
        if (due && generation === this.#generation) this.#activate(due, frame.seq);
        break;
      }
      case 'subscribed': {
        if (frame.ref === undefined && afterAuth) {
          // Unasked, right after `authenticated`: the new token does not
          // cover some entries and the server dropped them. Like entries
          // refused at subscribe, they stay out of later URLs (and frames)
          // until the app subscribes to them again. Frames sent after the
          // auth frame are answered after this one.
          const kept = new Set(frame.collections);
          for (const e of this.#serverSet) {
            if (kept.has(e)) continue;
            this.#refused.add(e);
            this.#sent.delete(e);
            this.#active.delete(e);
          }
          this.#serverSet = [...frame.collections];
          for (const e of frame.collections) this.#refused.delete(e);
          this.#subscriptionListeners.emit(this.serverSubscriptions);
          break;
        }
        const answered = this.#answered(frame.ref, 'subscribe', 'unsubscribe');
        this.#serverSet = [...frame.collections];
        for (const e of frame.collections) this.#refused.delete(e);
        const generation = this.#generation;
        this.#subscriptionListeners.emit(this.serverSubscriptions);
        // Matching notifications with a seq above the answer's follow (a
        // server without `seq` there: above the last one received).
        if (answered?.kind === 'subscribe' && generation === this.#generation) {
          this.#activate(answered.entries, frame.seq ?? this.#seq ?? 0);
        }
        break;
      }
      case 'authenticated': {
        const head = this.#answered(frame.ref, 'auth');
        if (head?.kind === 'auth') {
          this.#connToken = head.token;
          this.#connTokenVersion = head.version;
        }
        clearTimeout(this.#refreshTimer);
        this.#refreshTimer = undefined;
        if (typeof frame.exp === 'number' && frame.exp > 0) this.#scheduleRefresh(frame.exp);
        this.#afterAuth = true;
        break;
      }
      case 'error': {
        if (!this.#welcomed) {
          // Before the welcome: the connection is refused, and the close
          // that follows (4401, 4403) reports it.
          this.#refusal = { code: frame.code, message: frame.message };
          break;
        }
        const answered = this.#answered(frame.ref);
        // The answer to a subscribe: those entries are not held by the
        // server; keep them out of the next connection's URL.
        if (answered?.kind === 'subscribe') {
          for (const e of answered.entries) {
            this.#refused.add(e);
            this.#sent.delete(e);
          }
          this.#errorListeners.emit({ code: frame.code, message: frame.message, entries: [...answered.entries] });
          break;
        }
        if (answered?.kind === 'auth' && frame.code === 'auth_disabled') this.#authDisabled = true;
        this.#errorListeners.emit({ code: frame.code, message: frame.message });
        break;
      }
      default:
        break; // pong, and frame types of later protocol versions
    }
  }

  #startPing(): void {
    const interval = this.#options.pingIntervalMs ?? 25_000;
    if (interval <= 0) return;
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      if (!this.#send({ type: 'ping' })) return;
      if (this.#pongTimer === undefined) {
        this.#pongTimer = setTimeout(() => this.#lost(), this.#options.pongTimeoutMs ?? 10_000);
      }
    }, interval);
  }

  #send(frame: object): boolean {
    const socket = this.#socket;
    if (!socket || !this.#welcomed || socket.readyState !== OPEN) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  // --- subscriptions ---

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // Changes made in one task go out as one frame each way.
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (!this.#welcomed) return; // the next connection's URL (or the welcome) carries the set
    const wanted = new Set([...this.#wanted.keys()].filter((e) => !this.#refused.has(e)));
    if (this.#transport === 'sse') {
      // A stream's set is fixed: another stream, resumed from the cursor,
      // carries the new one (its welcome confirms the entries it adds).
      if (wanted.size !== this.#sent.size || [...wanted].some((e) => !this.#sent.has(e))) this.#reopen();
      return;
    }
    const add = [...wanted].filter((e) => !this.#sent.has(e)).sort();
    const remove = [...this.#sent].filter((e) => !wanted.has(e)).sort();
    if (add.length) {
      const ref = this.#ref();
      if (!this.#send({ type: 'subscribe', collections: add, ...ref })) return;
      this.#awaiting.push({ kind: 'subscribe', entries: add, ...ref });
    }
    if (remove.length) {
      const ref = this.#ref();
      if (!this.#send({ type: 'unsubscribe', collections: remove, ...ref })) return;
      this.#awaiting.push({ kind: 'unsubscribe', entries: remove, ...ref });
      for (const e of remove) this.#active.delete(e);
    }
    this.#sent = wanted;
  }

  // A `ref` for the next frame, when the server echoes them.
  #ref(): { ref?: number } {
    return this.#refs ? { ref: ++this.#nextRef } : {};
  }

  // The frame an answer answers: the one with its `ref` (answers come in
  // order, so any before it are dropped), or without a ref the oldest one
  // (when it is of one of `kinds`, if given).
  #answered(ref: unknown, ...kinds: Array<Pending['kind']>): Pending | undefined {
    if (typeof ref === 'number') {
      const i = this.#awaiting.findIndex((p) => p.ref === ref);
      if (i >= 0) return this.#awaiting.splice(0, i + 1)[i];
    }
    const head = this.#awaiting[0];
    if (!head || (kinds.length > 0 && !kinds.includes(head.kind))) return undefined;
    return this.#awaiting.shift();
  }

  // The server holds `entries` from `seq` on: tell who waits for them.
  #activate(entries: Iterable<string>, seq: number): void {
    const generation = this.#generation;
    for (const e of [...entries]) {
      if (this.#active.has(e) || !this.#sent.has(e)) continue;
      if (this.#awaiting.some((p) => p.kind !== 'auth' && p.entries.includes(e))) continue; // changing again
      this.#active.add(e);
      this.#subscribedListeners.get(e)?.emit({ entry: e, seq });
      if (this.#closed || generation !== this.#generation) return; // a listener closed the client
    }
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#stateListeners.emit(state);
  }
}
