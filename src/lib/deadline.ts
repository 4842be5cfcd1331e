/**
 * The time budget of the request being served, carried through async calls (AsyncLocalStorage) so
 * that the upstream client and the cache bound their waits by it without every service passing a
 * parameter along. Code outside a request (sync, jobs, start-up) runs without one and keeps the
 * client's own, longer timeouts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export class Deadline {
  /** performance.now() at which the budget is spent */
  readonly at: number;
  private abortSignal: AbortSignal | undefined;

  constructor(
    /** the whole budget, for messages */
    readonly budgetMs: number,
    /** with a stale value at hand, how long a refresh may keep the caller waiting */
    readonly staleWaitMs: number,
    startedAt = performance.now(),
  ) {
    this.at = startedAt + budgetMs;
  }

  remainingMs(): number {
    return Math.max(0, this.at - performance.now());
  }

  get expired(): boolean {
    return performance.now() >= this.at;
  }

  /** Aborts when the budget is spent; made on first use, so requests that never wait pay nothing. */
  get signal(): AbortSignal {
    this.abortSignal ??= AbortSignal.timeout(Math.max(1, Math.ceil(this.remainingMs())));
    return this.abortSignal;
  }
}

const storage = new AsyncLocalStorage<Deadline | undefined>();

export function currentDeadline(): Deadline | undefined {
  return storage.getStore();
}

export function runWithDeadline<T>(deadline: Deadline, fn: () => T): T {
  return storage.run(deadline, fn);
}

/** Work started from a request that must outlive it (a queued job run in process) drops its budget. */
export function runWithoutDeadline<T>(fn: () => T): T {
  return storage.run(undefined, fn);
}
