/**
 * What the ledger does after one send attempt: pure, so the rules read in one place and are unit
 * tested (test/delivery-send-fns.test.ts).
 */
import type { ChannelErrorKind } from '../channels/channel-types.ts';

/** Never wait longer than this between two attempts, whatever a provider's Retry-After says. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/** Retry n (1-based) waits base × 2^(n-1), or the provider's Retry-After when that is longer. */
export function retryDelayMs(attempt: number, baseMs: number, retryAfterMs?: number): number {
  const backoff = baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(backoff, retryAfterMs ?? 0));
}

export type AttemptVerdict =
  | { state: 'retrying'; delayMs: number }
  | { state: 'failed' }
  | { state: 'unknown' };

/**
 * - transient, attempts left: `retrying` after the delay;
 * - transient, none left: `failed` (the error says how many attempts were made);
 * - permanent: `failed` at once, this recipient only;
 * - unknown (the provider may have it): `unknown`, never resent by itself.
 */
export function verdictAfter(
  kind: ChannelErrorKind,
  attempts: number,
  policy: { maxAttempts: number; retryBaseMs: number },
  retryAfterMs?: number,
): AttemptVerdict {
  if (kind === 'unknown') return { state: 'unknown' };
  if (kind === 'permanent' || attempts >= policy.maxAttempts) return { state: 'failed' };
  return { state: 'retrying', delayMs: retryDelayMs(attempts, policy.retryBaseMs, retryAfterMs) };
}

/** The ledger key of one delivery: stable for a (source, period, channel, address). */
export function deliveryKey(
  source: string,
  sourceId: string,
  period: string,
  channel: string,
  address: string,
) {
  return `${source}:${sourceId}:${period}:${channel}:${address.toLowerCase()}`;
}
