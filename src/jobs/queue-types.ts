/**
 * The job-queue interface. Two adapters implement it and pass the same contract tests
 * (test/jobs-contract.test.ts): memory-queue.ts runs jobs in-process (embedded mode, no Redis) and
 * bullmq-queue.ts + bullmq-worker.ts keep them in Redis, consumed by separate worker processes
 * (shared mode).
 *
 * Queues are typed by a registry (queue name → job name → payload and result types, see
 * job-registry.ts), so `enqueue('reports', 'render', payload)` is checked at compile time and
 * `get` answers a union narrowed by `job.name`. Payloads and results must be JSON: both adapters
 * hand back what JSON.parse(JSON.stringify(value)) gives (a Date comes back as a string).
 *
 * Delivery is at least once: a processor may run again after a crash or a lost lock, so processors
 * are idempotent (write their output under the job id, overwrite rather than append).
 */

export type JobState = 'queued' | 'active' | 'completed' | 'failed';

export const JOB_STATES: readonly JobState[] = ['active', 'queued', 'completed', 'failed'];

export interface JobInfo<P = unknown, R = unknown> {
  id: string;
  queue: string;
  name: string;
  payload: P;
  state: JobState;
  /** 0..100, as last reported by the processor; reset to 0 when an attempt starts, 100 once completed */
  progress: number;
  /**
   * Attempts started so far, the running one included (0 while first queued). In shared mode a run
   * cut short by a crashed worker counts too; the retry budget (`EnqueueOptions.attempts`) counts
   * failed attempts only.
   */
  attempts: number;
  /** ISO 8601. Kept when a failed job is re-run under the same id. */
  createdAt: string;
  /** ISO 8601: when the latest attempt started */
  startedAt: string | null;
  /** ISO 8601: when the job completed or finally failed */
  finishedAt: string | null;
  /** what the processor returned (JSON), once completed */
  result: R | null;
  /** the latest attempt's error message: set while a retry waits, and once failed; null once completed */
  error: string | null;
}

export interface EnqueueOptions {
  /**
   * A deterministic id (e.g. a hash of the report's parameters). Enqueueing an id that exists and
   * has not failed returns the existing job (`created: false`); one whose job failed re-runs that
   * job under the same id with the new payload (`created: true`; its name, retry options and
   * createdAt are kept, attempts, progress, result and error start afresh). A job dropped by
   * retention is simply created again.
   * 1..128 of `A-Z a-z 0-9 . _ -`, not an integer (BullMQ rule). Default: a random UUID.
   */
  jobId?: string;
  /** attempts in all, the first included; default 3 */
  attempts?: number;
  /** exponential backoff base: retry n waits backoffMs × 2^(n-1); default 1000 */
  backoffMs?: number;
}

/** What a processor may log through: every line carries the queue, job id, name and attempt. */
export interface JobLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** The subset of a pino logger the queues use (a pino or Fastify logger fits). */
export interface JobLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
  child?(bindings: Record<string, unknown>): JobLogger;
}

export interface JobContext {
  id: string;
  /** 1 for the first attempt; counts every start (see JobInfo.attempts) */
  attempt: number;
  /** 0..100 (clamped). Advisory: a failure to store it is logged, never thrown. */
  updateProgress(progress: number): Promise<void>;
  log: JobLog;
  /**
   * Aborted when the job should stop: the runner is shutting down and its grace period is over, or
   * (shared mode) this worker lost the job's lock, so another worker may be running it. Work left
   * undone is retried: stop promptly and throw.
   */
  signal: AbortSignal;
}

/**
 * A processor gets the payload (a private copy) and returns the JSON result. CPU-heavy work (PDF,
 * Excel) must not block the event loop, or a BullMQ worker cannot renew its locks and the job
 * stalls: such a processor posts the payload to a worker_threads pool and relays progress messages
 * to `ctx.updateProgress` and `ctx.signal` to the pool (terminate the task), and nothing else
 * changes, since payload and result are plain JSON that cross threads as they are.
 */
export type Processor<P, R> = (payload: P, ctx: JobContext) => Promise<R>;

/** Thrown by a processor for errors that retrying cannot fix (bad input): the job fails at once. */
export class PermanentJobError extends Error {
  override readonly name: string = 'PermanentJobError';
}

/**
 * The queue's store cannot be reached (Redis down, not connected yet, hung, out of memory). Thrown
 * quickly, never after a long wait, by every JobQueue method but close(); the HTTP layer answers
 * 503. A timed-out enqueue may still have been stored: retry with the same jobId to stay idempotent.
 * The message reads `job queue unavailable: <reason>`.
 */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`job queue unavailable: ${reason}`, options);
    this.reason = reason;
  }
}

/** waitFor: the job did not finish in time (it goes on; ask again with get). */
export class JobWaitTimeoutError extends Error {
  override readonly name = 'JobWaitTimeoutError';
  constructor(
    readonly queue: string,
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`job ${queue}/${jobId} did not finish within ${timeoutMs} ms`);
  }
}

/** waitFor: no such job (never enqueued, or dropped by retention). */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
  constructor(
    readonly queue: string,
    readonly jobId: string,
  ) {
    super(`job ${queue}/${jobId} does not exist`);
  }
}

// ---- the typed registry --------------------------------------------------------------------------

export interface JobSpec<P = unknown, R = unknown> {
  payload: P;
  result: R;
}

/**
 * queue name → job name → JobSpec. Declare registries with `type`, not `interface` (an interface
 * has no implicit index signature, so it does not satisfy this constraint).
 */
export type JobRegistry = Record<string, Record<string, JobSpec>>;

export type QueueOf<Reg extends JobRegistry> = keyof Reg & string;
export type JobNameOf<Reg extends JobRegistry, Q extends QueueOf<Reg>> = keyof Reg[Q] & string;
export type PayloadOf<
  Reg extends JobRegistry,
  Q extends QueueOf<Reg>,
  N extends JobNameOf<Reg, Q>,
> = Reg[Q][N]['payload'];
export type ResultOf<
  Reg extends JobRegistry,
  Q extends QueueOf<Reg>,
  N extends JobNameOf<Reg, Q>,
> = Reg[Q][N]['result'];

/** A job of one named kind: `name` is the literal, payload and result are that kind's. */
export type NamedJobInfo<
  Reg extends JobRegistry,
  Q extends QueueOf<Reg>,
  N extends JobNameOf<Reg, Q>,
> = JobInfo<PayloadOf<Reg, Q, N>, ResultOf<Reg, Q, N>> & { name: N };

/** Any job of a queue: a union discriminated by `name`. */
export type JobInfoOf<Reg extends JobRegistry, Q extends QueueOf<Reg>> = {
  [N in JobNameOf<Reg, Q>]: NamedJobInfo<Reg, Q, N>;
}[JobNameOf<Reg, Q>];

/** The processors of one queue: one per job name. */
export type QueueProcessors<Reg extends JobRegistry, Q extends QueueOf<Reg>> = {
  [N in JobNameOf<Reg, Q>]: Processor<PayloadOf<Reg, Q, N>, ResultOf<Reg, Q, N>>;
};

/** Every queue's processors: what the in-process runner needs; a BullMQ worker takes any subset of queues. */
export type ProcessorsFor<Reg extends JobRegistry> = { [Q in QueueOf<Reg>]: QueueProcessors<Reg, Q> };

// ---- the interface -------------------------------------------------------------------------------

export interface ListFilter {
  /** default: every state */
  states?: JobState[];
  /** 1..1000 */
  limit: number;
  offset: number;
}

export interface RetentionRule {
  /** keep at most this many finished jobs of the state, per queue */
  count: number;
  /** and none older than this (since it finished) */
  ageMs: number;
}

/** How many finished jobs are kept (and can be read with get/list) per queue. */
export interface RetentionOptions {
  completed: RetentionRule;
  failed: RetentionRule;
}

export const DEFAULT_RETENTION: RetentionOptions = {
  completed: { count: 1_000, ageMs: 7 * 24 * 3_600_000 },
  failed: { count: 1_000, ageMs: 30 * 24 * 3_600_000 },
};

export interface JobQueue<Reg extends JobRegistry> {
  readonly kind: 'memory' | 'bullmq';
  enqueue<Q extends QueueOf<Reg>, N extends JobNameOf<Reg, Q>>(
    queue: Q,
    name: N,
    payload: PayloadOf<Reg, Q, N>,
    opts?: EnqueueOptions,
  ): Promise<{ job: NamedJobInfo<Reg, Q, N>; created: boolean }>;
  get<Q extends QueueOf<Reg>>(queue: Q, id: string): Promise<JobInfoOf<Reg, Q> | null>;
  /**
   * Jobs grouped by state in the order active, queued, completed, failed; within a state the most
   * recent first (active: latest started; queued: latest enqueued, then those waiting for a retry;
   * completed and failed: latest finished). `total` counts every job matching `states`.
   */
  list<Q extends QueueOf<Reg>>(
    queue: Q,
    filter: ListFilter,
  ): Promise<{ jobs: JobInfoOf<Reg, Q>[]; total: number }>;
  /**
   * Resolves once the job is completed or failed (a failed job resolves too: check `state`), for
   * tests and synchronous render paths. Rejects with JobWaitTimeoutError after timeoutMs, with
   * JobNotFoundError when there is no such job.
   */
  waitFor<Q extends QueueOf<Reg>>(queue: Q, id: string, timeoutMs: number): Promise<JobInfoOf<Reg, Q>>;
  /** Throws QueueUnavailableError when the store is unreachable (readiness). */
  ping(): Promise<void>;
  /** Reads back what a journal kept (embedded mode) and starts running it; optional, idempotent. */
  start?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What the adapters implement, with plain strings; `JobQueue<Reg>` is the typed view callers get
 * (the registry only narrows types, so one cast in each factory is all it takes).
 */
export interface UntypedJobQueue {
  readonly kind: 'memory' | 'bullmq';
  enqueue(
    queue: string,
    name: string,
    payload: unknown,
    opts?: EnqueueOptions,
  ): Promise<{ job: JobInfo; created: boolean }>;
  get(queue: string, id: string): Promise<JobInfo | null>;
  list(queue: string, filter: ListFilter): Promise<{ jobs: JobInfo[]; total: number }>;
  waitFor(queue: string, id: string, timeoutMs: number): Promise<JobInfo>;
  ping(): Promise<void>;
  start?(): Promise<void>;
  close(): Promise<void>;
}

export interface JobWorker {
  /** Stops taking jobs, lets running ones finish within its grace period, then releases its connections. */
  close(): Promise<void>;
}
