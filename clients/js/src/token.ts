// SPDX-License-Identifier: MIT
// Subscriber tokens on the client side: where a token comes from, when it
// expires (read from the JWT payload, not verified: only the server can),
// and when to replace it on an open connection.

/** A token, or a function returning a fresh one (called before each
 * connection attempt and for each refresh). */
export type TokenSource = string | (() => string | Promise<string>);

/** The `exp` claim (seconds since the epoch) of a JWT, or null when the
 * token is not a JWT or has no numeric `exp`. The signature is not checked. */
export function tokenExpiry(token: string): number | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const payload: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    const exp = typeof payload === 'object' && payload !== null ? (payload as { exp?: unknown }).exp : undefined;
    return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp : null;
  } catch {
    return null;
  }
}

/** How long before `exp` a token is replaced at the latest: 30 s, or a tenth
 * of its remaining lifetime when that is longer (whichever moment comes
 * sooner). */
export const REFRESH_LEAD_MS = 30_000;

/**
 * Milliseconds from `nowMs` until a token expiring at `exp` (seconds) should
 * be replaced: the remaining lifetime minus max(30 s, 10 % of it), but never
 * less than half of it (a token of a few seconds is not refreshed in a
 * loop). 0 when it has already expired.
 */
export function refreshDelay(exp: number, nowMs: number = Date.now()): number {
  const remaining = exp * 1000 - nowMs;
  if (remaining <= 0) return 0;
  const lead = Math.min(Math.max(REFRESH_LEAD_MS, remaining / 10), remaining / 2);
  return Math.round(remaining - lead);
}
