/**
 * Pure helpers shared by both queue adapters, so that they validate, page and back off the same way.
 */
import {
  JOB_STATES,
  type JobLog,
  type JobLogger,
  type JobState,
  type ListFilter,
  PermanentJobError,
  type RetentionOptions,
} from './queue-types.ts';

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1_000;
export const MAX_LIST_LIMIT = 1_000;

const NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** Queue and job names: BullMQ forbids ':' in queue names; we keep both to a plain charset. */
export function assertName(kind: 'queue' | 'job', name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new RangeError(`${kind} name must be 1..128 of A-Z a-z 0-9 . _ - (got ${JSON.stringify(name)})`);
  }
}

/**
 * Caller-chosen ids. BullMQ refuses integers (they would collide with its own counter ids) and ':'
 * (its key separator); both adapters refuse the same ids so that embedded mode catches them too.
 */
export function assertJobId(id: string): void {
  if (typeof id !== 'string' || !NAME.test(id) || /^-?\d+$/.test(id)) {
    throw new RangeError(
      `jobId must be 1..128 of A-Z a-z 0-9 . _ - and not an integer (got ${JSON.stringify(id)})`,
    );
  }
}

export interface NormalizedEnqueueOptions {
  jobId: string | undefined;
  attempts: number;
  backoffMs: number;
}

export function normalizeEnqueueOptions(
  opts: { jobId?: string; attempts?: number; backoffMs?: number } = {},
): NormalizedEnqueueOptions {
  if (opts.jobId !== undefined) assertJobId(opts.jobId);
  const attempts = opts.attempts ?? DEFAULT_ATTEMPTS;
  const backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) {
    throw new RangeError(`attempts must be an integer in 1..100 (got ${attempts})`);
  }
  if (!Number.isInteger(backoffMs) || backoffMs < 0 || backoffMs > 86_400_000) {
    throw new RangeError(`backoffMs must be an integer in 0..86400000 (got ${backoffMs})`);
  }
  return { jobId: opts.jobId, attempts, backoffMs };
}

/** The delay before the retry that follows the `failures`-th failed attempt (BullMQ's 'exponential'). */
export function backoffDelayMs(baseMs: number, failures: number): number {
  return Math.round(baseMs * 2 ** Math.max(0, failures - 1));
}

export interface NormalizedListFilter {
  /** deduplicated, in the canonical order active, queued, completed, failed */
  states: JobState[];
  limit: number;
  offset: number;
}

export function normalizeListFilter(filter: ListFilter): NormalizedListFilter {
  const { limit, offset } = filter;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new RangeError(`limit must be an integer in 1..${MAX_LIST_LIMIT} (got ${limit})`);
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new RangeError(`offset must be a non-negative integer (got ${offset})`);
  }
  const wanted = filter.states?.length ? new Set(filter.states) : new Set(JOB_STATES);
  for (const s of wanted) {
    if (!JOB_STATES.includes(s)) throw new RangeError(`unknown job state ${JSON.stringify(s)}`);
  }
  return { states: JOB_STATES.filter((s) => wanted.has(s)), limit, offset };
}

export interface StateSlice<S extends string> {
  state: S;
  /** index of the first job to take within that state's ordered jobs */
  start: number;
  /** how many to take */
  count: number;
}

/**
 * Maps one page (offset, limit) over jobs grouped by state, in the order given, onto a slice of
 * each state's own ordered list: lets the BullMQ adapter read only the jobs on the page.
 */
export function pageAcrossStates<S extends string>(
  counts: readonly { state: S; count: number }[],
  offset: number,
  limit: number,
): StateSlice<S>[] {
  const slices: StateSlice<S>[] = [];
  let skip = offset;
  let left = limit;
  for (const { state, count } of counts) {
    if (left <= 0) break;
    if (skip >= count) {
      skip -= count;
      continue;
    }
    const take = Math.min(count - skip, left);
    slices.push({ state, start: skip, count: take });
    left -= take;
    skip = 0;
  }
  return slices;
}

/** A progress value to store: clamped to 0..100; null for a non-number (ignored). */
export function normalizeProgress(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  return Math.min(100, Math.max(0, value));
}

export function assertTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(`timeoutMs must be a non-negative number (got ${timeoutMs})`);
  }
}

export function assertRetention(retention: RetentionOptions): void {
  for (const [state, rule] of Object.entries(retention)) {
    if (!Number.isInteger(rule.count) || rule.count < 0) {
      throw new RangeError(`retention.${state}.count must be a non-negative integer`);
    }
    if (!Number.isFinite(rule.ageMs) || rule.ageMs < 1_000) {
      throw new RangeError(`retention.${state}.ageMs must be at least 1000`);
    }
  }
}

/** Names compare too: an error that crossed a thread or process boundary is no longer an instance. */
export function isPermanentError(err: unknown): boolean {
  return err instanceof PermanentJobError || (err instanceof Error && err.name === 'PermanentJobError');
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** What a JSON store would give back: the contract both adapters keep. `undefined` becomes null. */
export function jsonCopy<T>(value: T): T {
  const json = JSON.stringify(value);
  return (json === undefined ? null : JSON.parse(json)) as T;
}

export function isoOrNull(epochMs: number | null | undefined): string | null {
  return typeof epochMs === 'number' && Number.isFinite(epochMs) && epochMs > 0
    ? new Date(epochMs).toISOString()
    : null;
}

/** A JobLog that adds `bindings` to every line (through pino's child() when the logger has one). */
export function bindLogger(logger: JobLogger, bindings: Record<string, unknown>): JobLog {
  const base = logger.child ? logger.child(bindings) : undefined;
  const write =
    (level: 'error' | 'warn' | 'info' | 'debug') =>
    (obj: object, msg: string): void => {
      if (base) base[level]?.(obj, msg);
      else logger[level]?.({ ...bindings, ...obj }, msg);
    };
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') };
}

/** Resolves true once every promise has settled, or false after `ms`, whichever comes first. */
export async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
