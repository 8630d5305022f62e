// SPDX-License-Identifier: MIT
// Reconnect delays: exponential with jitter, so clients of a restarted
// server do not all come back in the same instant.

export interface BackoffOptions {
  /** Delay before the first retry. */
  initialDelayMs?: number;
  /** Upper bound of any delay. */
  maxDelayMs?: number;
  /** Growth per failed attempt. */
  factor?: number;
  /** Fraction (0..1) of each delay that is random: 0.5 waits between half
   * and all of the exponential delay. */
  jitter?: number;
}

export const defaultBackoff: Required<BackoffOptions> = {
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.5,
};

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const o = { ...defaultBackoff, ...options };
  const exponential = Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.factor, Math.max(0, attempt)));
  const jitter = Math.min(1, Math.max(0, o.jitter));
  return Math.round(exponential * (1 - jitter * random()));
}
