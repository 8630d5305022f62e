// SPDX-License-Identifier: MIT
// Runs notifier-forum as a child process for the browser test: start on a
// port (0 picks one), stop with SIGTERM, start again on the same port.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function forumBinary() {
  const path = process.env.NOTIFIER_FORUM ?? resolve(repoRoot, 'build', 'examples', 'forum', 'notifier-forum');
  if (!existsSync(path)) {
    throw new Error(`notifier-forum not found at ${path}: build it (ninja -C build notifier-forum) or set NOTIFIER_FORUM`);
  }
  return path;
}

export class ForumServer {
  /** `args`: more options for notifier-forum, e.g. ['--jwt-secret', secret]. */
  constructor(dbPath, port = 0, args = []) {
    this.dbPath = dbPath;
    this.port = port;
    this.args = args;
    this.proc = null;
    this.log = '';
    /** http, or https when `args` give --tls-cert and --tls-key (from the printed address). */
    this.scheme = 'http';
  }

  /** Starts and resolves once the server printed its address. */
  async start(timeoutMs = 10_000) {
    // Tokens only when a test asks for them, whatever the environment says.
    const { NOTIFIER_JWT_SECRET: _, ...env } = process.env;
    const proc = spawn(forumBinary(), ['--listen', `127.0.0.1:${this.port}`, '--db', this.dbPath, ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'], env,
    });
    this.proc = proc;
    this.exited = new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal })));
    proc.stderr.on('data', (d) => { this.log += d.toString(); });
    let out = '';
    [this.scheme, this.port] = await new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`notifier-forum did not start within ${timeoutMs} ms: ${this.log}`)),
        timeoutMs);
      proc.stdout.on('data', (d) => {
        out += d.toString();
        const m = /listening on (https?):\/\/[^:]+:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          res([m[1], Number(m[2])]);
        }
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`notifier-forum exited with ${code}: ${this.log}`));
      });
    });
    return this;
  }

  get url() {
    return `${this.scheme}://127.0.0.1:${this.port}/`;
  }

  /** SIGTERM; resolves with the exit status once it is gone. */
  async stop(timeoutMs = 10_000) {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    let timer;
    const result = await Promise.race([
      this.exited,
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('notifier-forum ignored SIGTERM')), timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
    if (result.code !== 0) throw new Error(`notifier-forum exited with ${JSON.stringify(result)}: ${this.log}`);
  }

  kill() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}
