// SPDX-License-Identifier: MIT
// Test support: a real notifierd on 127.0.0.1 (no mock of the server), and
// waits that end with a clear failure instead of hanging.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// build-test/testing/ → the repository root
const repoRoot = resolve(here, '..', '..', '..', '..');

/** Upper bound of any wait: nothing sleeps, so this only costs time when
 * something is broken. */
export const TIMEOUT_MS = 10_000;

export function notifierdPath(): string {
  const configured = process.env.NOTIFIERD ?? resolve(repoRoot, 'build', 'notifierd');
  if (!existsSync(configured)) {
    throw new Error(`notifierd not found at ${configured}: build it (ninja -C build notifierd) or set NOTIFIERD`);
  }
  return configured;
}

/** For a notifierd started with --tls-cert and --tls-key: the CA (PEM)
 * that its clients here trust. */
export interface TlsTrust {
  ca: string | Buffer;
}

export class Notifierd {
  readonly process: ChildProcess;
  readonly port: number;
  /** Its listener speaks TLS (it printed https://). */
  readonly tls: boolean;
  readonly #trust: TlsTrust | undefined;
  #exited: Promise<number | null>;
  stderr = '';

  private constructor(proc: ChildProcess, port: number, tls: boolean, trust: TlsTrust | undefined,
    exited: Promise<number | null>) {
    this.process = proc;
    this.port = port;
    this.tls = tls;
    this.#trust = trust;
    this.#exited = exited;
  }

  /** Starts notifierd on `port` (0: any free one) and waits for its
   * "listening" line. With --tls-cert/--tls-key among `args`, `trust` is
   * what publish() verifies the server against. */
  static async start(args: string[] = [], port = 0, trust?: TlsTrust): Promise<Notifierd> {
    const proc = spawn(notifierdPath(), ['--listen', `127.0.0.1:${port}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [scheme, bound] = await withTimeout(
      new Promise<[string, number]>((res, rej) => {
        let out = '';
        proc.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (https?):\/\/[^:]+:(\d+)/.exec(out);
          if (m) res([m[1]!, Number(m[2])]);
        });
        proc.on('exit', (code) => rej(new Error(`notifierd exited with ${code} before listening: ${stderr}`)));
      }),
      'notifierd to listen',
    );
    const server = new Notifierd(proc, bound, scheme === 'https', trust, exited);
    proc.stderr!.on('data', (d: Buffer) => {
      server.stderr += d.toString();
    });
    return server;
  }

  get url(): string {
    return `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}/ws`;
  }

  /** POST /publish; returns the seqs. */
  async publish(payload: object | object[], headers: Record<string, string> = {}): Promise<number[]> {
    if (this.tls) return this.#publishHttps(payload, headers);
    const res = await fetch(`http://127.0.0.1:${this.port}/publish`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(payload),
    });
    if (res.status !== 202) throw new Error(`POST /publish answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { seqs: number[] }).seqs;
  }

  // Node's fetch takes no CA of its own: node:https does.
  async #publishHttps(payload: object | object[], headers: Record<string, string>): Promise<number[]> {
    const body = JSON.stringify(payload);
    const answer = await withTimeout(
      new Promise<{ status: number; text: string }>((res, rej) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: this.port,
            path: '/publish',
            method: 'POST',
            ca: this.#trust?.ca,
            headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
          },
          (r) => {
            let text = '';
            r.setEncoding('utf8');
            r.on('data', (d: string) => (text += d));
            r.on('end', () => res({ status: r.statusCode ?? 0, text }));
            r.on('error', rej);
          },
        );
        req.on('error', rej);
        req.end(body);
      }),
      'POST /publish over https',
    );
    if (answer.status !== 202) throw new Error(`POST /publish answered ${answer.status}: ${answer.text}`);
    return (JSON.parse(answer.text) as { seqs: number[] }).seqs;
  }

  /** SIGTERM and wait for the exit. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    await withTimeout(this.#exited, 'notifierd to exit');
  }

  pause(): void {
    this.process.kill('SIGSTOP');
  }

  resume(): void {
    this.process.kill('SIGCONT');
  }
}

export async function withTimeout<T>(p: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `subscribe(callback)` has called back with a value for which
 * `predicate` holds. `subscribe` returns its undo function. */
export function waitFor<T>(
  subscribe: (callback: (value: T) => void) => () => void,
  predicate: (value: T) => boolean,
  what: string,
  ms = TIMEOUT_MS,
): Promise<T> {
  let undo: (() => void) | undefined;
  let done = false;
  const p = new Promise<T>((res) => {
    undo = subscribe((value) => {
      if (!done && predicate(value)) {
        done = true;
        res(value);
      }
    });
    if (done) undo();
  });
  return withTimeout(p, what, ms).finally(() => undo?.());
}
