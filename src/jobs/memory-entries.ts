/**
 * The embedded queue's bookkeeping: a job as memory-queue.ts holds it, and its journal record
 * (job-journal.ts) both ways.
 */
import type { JobRecord } from './job-journal.ts';
import type { JobState, Processor } from './queue-types.ts';

export interface Entry {
  id: string;
  name: string;
  payload: unknown;
  state: JobState;
  progress: number;
  attempts: number;
  createdAtMs: number;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  result: unknown;
  error: string | null;
  maxAttempts: number;
  backoffMs: number;
  /** queued: epoch ms from which it may run */
  runAt: number;
  /** queued: order of arrival in the queued state */
  seq: number;
  /** active: the running attempt's controller (identifies the attempt) */
  controller: AbortController | null;
  waiters: Set<() => void>;
}

export interface QueueRuntime {
  name: string;
  processors: Record<string, Processor<unknown, unknown>>;
  jobs: Map<string, Entry>;
  running: number;
  /** ids in the order they finished, oldest first (retention drops from the front) */
  finished: { completed: string[]; failed: string[] };
  /** wakes the queue when the earliest retry backoff is over */
  timer: NodeJS.Timeout | null;
  timerAt: number;
}

export function recordOf(queue: string, e: Entry): JobRecord {
  return {
    queue,
    id: e.id,
    name: e.name,
    payload: e.payload,
    state: e.state,
    attempts: e.attempts,
    maxAttempts: e.maxAttempts,
    backoffMs: e.backoffMs,
    runAtMs: e.runAt,
    createdAtMs: e.createdAtMs,
    startedAtMs: e.startedAtMs,
    finishedAtMs: e.finishedAtMs,
    result: e.result,
    error: e.error,
  };
}

/** A job read back from the journal (see restoredRecord for what a restart changes). */
export function entryOf(r: JobRecord, seq: number): Entry {
  return {
    id: r.id,
    name: r.name,
    payload: r.payload,
    state: r.state,
    progress: r.state === 'completed' ? 100 : 0,
    attempts: r.attempts,
    createdAtMs: r.createdAtMs,
    startedAtMs: r.startedAtMs,
    finishedAtMs: r.finishedAtMs,
    result: r.result ?? null,
    error: r.error,
    maxAttempts: r.maxAttempts,
    backoffMs: r.backoffMs,
    runAt: r.runAtMs,
    seq,
    controller: null,
    waiters: new Set(),
  };
}

/**
 * The order `list` gives a state's jobs: active, latest started first; queued, latest enqueued
 * first, then those waiting for a retry; completed and failed, latest finished first.
 */
export function listOrder(
  state: JobState,
  entries: Entry[],
  finished: QueueRuntime['finished'],
  now: number,
): Entry[] {
  if (state === 'active') return entries.sort((a, b) => (b.startedAtMs ?? 0) - (a.startedAtMs ?? 0));
  if (state === 'queued') {
    const ready = entries.filter((e) => e.runAt <= now).sort((a, b) => b.seq - a.seq);
    const waiting = entries.filter((e) => e.runAt > now).sort((a, b) => b.runAt - a.runAt);
    return [...ready, ...waiting];
  }
  // Finish order, newest first (ties keep the order they finished in).
  const rank = new Map(finished[state].map((id, i) => [id, i]));
  return entries.sort((a, b) => (rank.get(b.id) ?? 0) - (rank.get(a.id) ?? 0));
}
