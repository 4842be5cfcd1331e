/**
 * What the BullMQ producer (bullmq-queue.ts) and worker (bullmq-worker.ts) agree on: how a job is
 * stored, how BullMQ's states map onto ours, and how Redis failures are told from other errors.
 */
import type { Job } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { isoOrNull, normalizeProgress } from './job-fns.ts';
import type { JobInfo, JobState, RetentionRule } from './queue-types.ts';

/**
 * `job.data` in Redis. The payload is wrapped so that an enqueue with a jobId can tell its own add
 * from a concurrent one (BullMQ's add returns the id either way): `token` is random per add.
 */
export interface StoredJobData {
  payload: unknown;
  token?: string;
}

/** BullMQ's job lists per state of ours, in the order `list` pages through them. */
export const BULL_TYPES: Record<
  JobState,
  readonly ('active' | 'waiting' | 'prioritized' | 'delayed' | 'completed' | 'failed')[]
> = {
  active: ['active'],
  // Newest enqueued first (the wait list is LPUSHed), then jobs whose retry backoff is running.
  queued: ['waiting', 'prioritized', 'delayed'],
  completed: ['completed'],
  failed: ['failed'],
};

/** null for 'unknown' (no such job, or removed meanwhile). */
export function mapBullState(state: string): JobState | null {
  switch (state) {
    case 'active':
    case 'completed':
    case 'failed':
      return state;
    case 'waiting':
    case 'wait':
    case 'paused':
    case 'prioritized':
    case 'delayed':
    case 'waiting-children':
      return 'queued';
    default:
      return null;
  }
}

export function toJobInfo(job: Job, queue: string, state: JobState): JobInfo {
  const data = job.data as StoredJobData | undefined;
  const finished = state === 'completed' || state === 'failed';
  return {
    id: job.id as string,
    queue,
    name: job.name,
    payload: data?.payload ?? null,
    state,
    progress: state === 'completed' ? 100 : (normalizeProgress(job.progress) ?? 0),
    attempts: job.attemptsStarted ?? 0,
    createdAt: isoOrNull(job.timestamp) ?? new Date(0).toISOString(),
    startedAt: isoOrNull(job.processedOn),
    finishedAt: finished ? isoOrNull(job.finishedOn) : null,
    result: state === 'completed' ? (job.returnvalue ?? null) : null,
    // BullMQ keeps failedReason of a failed attempt after a later one completes.
    error: state === 'completed' ? null : job.failedReason || null,
  };
}

/** removeOnComplete / removeOnFail: BullMQ counts age in seconds. */
export function keepJobs(rule: RetentionRule): { count: number; age: number } {
  return { count: rule.count, age: Math.ceil(rule.ageMs / 1000) };
}

/** Replies that mean Redis answered but cannot serve now (a full `noeviction` Redis answers OOM). */
const UNSERVICEABLE_REPLY =
  /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|OOM|MISCONF|NOREPLICAS)\b/;
const CONNECTION_PROBLEM =
  /enableOfflineQueue|Command timed out|Connection is closed|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|socket/i;

/** Why Redis could not serve, when `err` says so; null for other errors (bugs, bad input). */
export function redisUnavailableReason(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  if (err.name === 'ReplyError') return UNSERVICEABLE_REPLY.test(err.message) ? err.message : null;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'ConnectionClosedError') return err.message;
  return CONNECTION_PROBLEM.test(err.message) ? err.message : null;
}

/** Reconnect forever, quickly: the cap bounds how long a worker idles after Redis is back. */
export function reconnectDelayMs(times: number, capMs: number): number {
  return Math.min(50 * 2 ** Math.min(times, 10), capMs);
}

/**
 * A producer connection, per BullMQ's production guide for queues used in request handlers: no
 * offline queue and a command timeout, so a Redis outage fails a call at once instead of holding it.
 */
export function producerConnectionOptions(commandTimeoutMs: number): RedisOptions {
  return {
    connectionName: 'salesflow-jobs-producer',
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(1_000, commandTimeoutMs * 4),
    retryStrategy: (times) => reconnectDelayMs(times, 1_000),
  };
}

/**
 * A worker connection: BullMQ requires maxRetriesPerRequest null (blocking commands must wait for
 * Redis to come back, not fail after a few retries), and commands wait in the offline queue.
 */
export function workerConnectionOptions(): RedisOptions {
  return {
    connectionName: 'salesflow-jobs-worker',
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => reconnectDelayMs(times, 2_000),
  };
}

/**
 * Whether `redis` is connected by `deadline` (a performance.now() time): at once when ready, false
 * at once when it is not even trying, else the outcome of the connection attempt in progress.
 * BullMQ's own calls would wait for a first connection however long it takes (taskforcesh/bullmq#995).
 */
export async function connectedBy(redis: Redis, deadline: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  if (!['wait', 'connecting', 'connect'].includes(redis.status)) return false;
  let timer: NodeJS.Timeout | undefined;
  let settle: (ok: boolean) => void = () => undefined;
  const ready = () => settle(true);
  const failed = () => settle(false);
  try {
    return await new Promise<boolean>((resolve) => {
      settle = resolve;
      redis.once('ready', ready);
      redis.once('error', failed);
      redis.once('end', failed);
      timer = setTimeout(failed, Math.max(0, deadline - performance.now()));
    });
  } finally {
    clearTimeout(timer);
    redis.off('ready', ready);
    redis.off('error', failed);
    redis.off('end', failed);
  }
}
