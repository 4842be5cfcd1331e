/**
 * A circuit breaker for the system of record. After `threshold` consecutive failed attempts
 * (connection errors, timeouts, 5xx) it opens: calls fail at once instead of each paying the
 * timeouts again. After `openMs` one call is let through as a probe (half-open); its success closes
 * the breaker, its failure opens it for another `openMs`.
 */
import { UpstreamCircuitOpenError } from '../errors.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  threshold: number;
  openMs: number;
  /** injectable for tests; performance.now by default */
  now?: () => number;
  onStateChange?: (state: BreakerState, reason: string) => void;
}

/** One admitted attempt: report how it went, exactly once. */
export interface BreakerTicket {
  /** the upstream answered (whatever the status, short of a server error) */
  success(): void;
  /** connection error, timeout or server error */
  failure(reason: string): void;
  /** no verdict (our own caller gave up): frees a probe slot */
  release(): void;
}

export function createCircuitBreaker({
  threshold,
  openMs,
  now = () => performance.now(),
  onStateChange,
}: BreakerOptions) {
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let lastReason = '';
  let probing = false;

  function move(next: BreakerState, reason: string): void {
    if (next === state) return;
    state = next;
    onStateChange?.(next, reason);
  }

  function open(reason: string): void {
    openedAt = now();
    lastReason = reason;
    move('open', reason);
  }

  return {
    get state(): BreakerState {
      return state;
    },

    /** Admits an attempt, or throws UpstreamCircuitOpenError (a 503 with Retry-After). */
    admit(what: string): BreakerTicket {
      let probe = false;
      if (state !== 'closed') {
        const waited = now() - openedAt;
        if (state === 'open' && waited >= openMs) move('half-open', 'probe interval passed');
        if (state === 'half-open' && !probing) {
          probing = true;
          probe = true;
        } else {
          const retryAfterSeconds = Math.max(1, Math.ceil((openMs - waited) / 1000));
          throw new UpstreamCircuitOpenError(
            `${what} not attempted: the system of record failed ${threshold} times in a row (last: ${lastReason}); ` +
              'calls are paused and a probe will test it again shortly.',
            retryAfterSeconds,
          );
        }
      }
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (probe) probing = false;
        fn();
      };
      return {
        success: () =>
          settle(() => {
            failures = 0;
            move('closed', 'the system of record answered');
          }),
        failure: (reason) =>
          settle(() => {
            failures++;
            if (probe || failures >= threshold) open(reason);
          }),
        release: () => settle(() => {}),
      };
    },
  };
}

export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;
