// SPDX-License-Identifier: MIT
// Test support: a real notifierd on 127.0.0.1 (no mock of the server), and
// waits that end with a clear failure instead of hanging.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
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

export class Notifierd {
  readonly process: ChildProcess;
  readonly port: number;
  #exited: Promise<number | null>;
  stderr = '';

  private constructor(proc: ChildProcess, port: number, exited: Promise<number | null>) {
    this.process = proc;
    this.port = port;
    this.#exited = exited;
  }

  /** Starts notifierd on `port` (0: any free one) and waits for its
   * "listening" line. */
  static async start(args: string[] = [], port = 0): Promise<Notifierd> {
    const proc = spawn(notifierdPath(), ['--listen', `127.0.0.1:${port}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const bound = await withTimeout(
      new Promise<number>((res, rej) => {
        let out = '';
        proc.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
          if (m) res(Number(m[1]));
        });
        proc.on('exit', (code) => rej(new Error(`notifierd exited with ${code} before listening: ${stderr}`)));
      }),
      'notifierd to listen',
    );
    const server = new Notifierd(proc, bound, exited);
    proc.stderr!.on('data', (d: Buffer) => {
      server.stderr += d.toString();
    });
    return server;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** POST /publish; returns the seqs. */
  async publish(payload: object | object[], headers: Record<string, string> = {}): Promise<number[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/publish`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(payload),
    });
    if (res.status !== 202) throw new Error(`POST /publish answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { seqs: number[] }).seqs;
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
