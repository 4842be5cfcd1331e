/**
 * The shared job queue, consumer side: one BullMQ Worker per queue, run by src/worker.ts (never in
 * the API process in shared mode). Configured per BullMQ's production guide:
 *
 * - Connections with maxRetriesPerRequest: null and an offline queue: a Redis outage pauses the
 *   worker, which resumes by itself once Redis is back (reconnecting every ≤ 2 s).
 * - `error` listeners on every worker (an unheard 'error' event would crash the process); repeated
 *   connection errors are logged once per 30 s.
 * - Retries and backoff come from each job's options (set by the producer); a PermanentJobError
 *   becomes BullMQ's UnrecoverableError, so the job fails at once.
 * - Stalled jobs: a worker renews its jobs' locks every lockDuration / 2. When a worker dies (crash,
 *   OOM kill, SIGKILL after a deploy's grace period), its locks expire and the stalled check of any
 *   other worker (every stalledInterval) puts the job back in the queue: a job is picked up again
 *   within about lockDuration + stalledInterval (60 s with the defaults of 30 s each). A job that
 *   stalls more than maxStalledCount times (default 2 here, BullMQ's is 1, so that two deploys in a
 *   row do not fail a long report) fails with "job stalled more than allowable limit": a job that
 *   kills its worker every time must not take the workers down forever. An event loop blocked for
 *   longer than lockDuration looks like a dead worker too, and the job runs twice: CPU-heavy
 *   processors belong in worker threads (see Processor in queue-types.ts).
 * - close(): stops taking jobs, gives running ones closeTimeoutMs (until their outcome is stored),
 *   then aborts their signals: a job whose processor then stops goes back to the queue without
 *   spending an attempt; one whose processor ignores its signal is left to the stalled check of
 *   another worker. The connections are then dropped, never waiting on Redis. A job fetched in the
 *   instant of closing may also be left to the stalled check (picked up again within lockDuration
 *   + stalledInterval).
 */
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { redisUnavailableReason, type StoredJobData, workerConnectionOptions } from './bullmq-shared.ts';
import {
  assertName,
  bindLogger,
  errorMessage,
  isPermanentError,
  normalizeProgress,
  settleWithin,
} from './job-fns.ts';
import type {
  JobContext,
  JobLogger,
  JobRegistry,
  JobWorker,
  Processor,
  ProcessorsFor,
} from './queue-types.ts';

export interface BullmqWorkerOptions<Reg extends JobRegistry> {
  /** where to connect; maxRetriesPerRequest is forced to null (BullMQ needs it for blocking commands) */
  connection: { url: string } & RedisOptions;
  /** BullMQ's key prefix, the producer's: e.g. 'salesflow:bull' */
  prefix: string;
  /** the queues this worker consumes, each with a processor per job name */
  queues: Partial<ProcessorsFor<Reg>>;
  /** jobs running at once, per queue; default 2 */
  concurrency?: number;
  logger: JobLogger;
  /** default 30 000 */
  lockDurationMs?: number;
  /** default 30 000 */
  stalledIntervalMs?: number;
  /** default 2 */
  maxStalledCount?: number;
  /** close(): how long running jobs get to finish before their signal is aborted; default 10 000 */
  closeTimeoutMs?: number;
  /** the pause after a Redis error in the fetch loop; default 1 000 (BullMQ's 15 000 slows recovery) */
  runRetryDelayMs?: number;
}

export interface BullmqJobWorker extends JobWorker {
  readonly queues: readonly string[];
  /** Resolves once every queue's worker has connected (start-up logs, tests). */
  ready(): Promise<void>;
}

/** Logs a given message at most once per interval: a Redis outage reports an error per reconnect. */
function throttled(logger: JobLogger, intervalMs: number) {
  const last = new Map<string, number>();
  return (obj: Record<string, unknown>, err: Error) => {
    const now = Date.now();
    const key = `${obj.queue}:${err.message}`;
    if ((last.get(key) ?? 0) + intervalMs > now) return;
    last.set(key, now);
    if (last.size > 100) last.clear();
    if (redisUnavailableReason(err))
      logger.warn({ ...obj, err: err.message }, 'job worker: redis unavailable');
    else logger.error({ ...obj, err }, 'job worker error');
  };
}

export function createBullmqWorker<Reg extends JobRegistry>(
  options: BullmqWorkerOptions<Reg>,
): BullmqJobWorker {
  const { prefix, logger } = options;
  const concurrency = options.concurrency ?? 2;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  const { url, ...connectionRest } = options.connection;
  const entries = Object.entries(options.queues).filter(
    (entry): entry is [string, Record<string, Processor<unknown, unknown>>] => Boolean(entry[1]),
  );
  if (entries.length === 0) throw new RangeError('a worker needs at least one queue to consume');
  for (const [name] of entries) assertName('queue', name);

  /**
   * Jobs in hand, by `<queue>/<job id>`: from the processor's start until BullMQ has stored the
   * outcome ('completed' or 'failed' event) or the job was handed back. close() waits for these, so
   * that it can then force-close without cutting a result's write short.
   */
  const running = new Map<string, { controller: AbortController; done: Promise<void>; release(): void }>();
  function track(key: string, controller: AbortController): void {
    let release: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    running.set(key, { controller, done, release });
  }
  function untrack(key: string): void {
    running.get(key)?.release();
    running.delete(key);
  }
  let stopping = false;
  const logError = throttled(logger, 30_000);

  function processorFor(queue: string, processors: Record<string, Processor<unknown, unknown>>) {
    // Three parameters: BullMQ then passes its own abort signal (Worker.cancelJob), forwarded below.
    return async (job: Job<StoredJobData>, token?: string, bullSignal?: AbortSignal): Promise<unknown> => {
      const id = job.id as string;
      const key = `${queue}/${id}`;
      if (stopping) {
        // Taken in the moment between pause and close: hand it back without spending an attempt
        // (should that fail, the job is recovered as stalled).
        track(key, new AbortController());
        await job.moveToDelayed(Date.now(), token).catch(() => undefined);
        untrack(key);
        throw new DelayedError();
      }
      const processor = processors[job.name];
      if (!processor) throw new UnrecoverableError(`no processor for job ${queue}/${job.name}`);
      const attempt = job.attemptsStarted;
      const log = bindLogger(logger, { queue, jobId: id, jobName: job.name, attempt });
      const controller = new AbortController();
      const onBullAbort = () => controller.abort(bullSignal?.reason);
      bullSignal?.addEventListener('abort', onBullAbort, { once: true });
      let lastProgress = normalizeProgress(job.progress) ?? 0;
      const store = async (value: number) => {
        try {
          await job.updateProgress(value);
          lastProgress = value;
        } catch (err) {
          log.warn({ err: errorMessage(err) }, 'could not store job progress');
        }
      };
      const ctx: JobContext = {
        id,
        attempt,
        log,
        signal: controller.signal,
        async updateProgress(progress) {
          const value = normalizeProgress(progress);
          if (value === null || value === lastProgress || controller.signal.aborted) return;
          await store(value);
        },
      };
      const work = (async () => {
        // An attempt starts from 0, whatever the previous one reached.
        if (lastProgress !== 0) await store(0);
        return processor((job.data as StoredJobData | undefined)?.payload ?? null, ctx);
      })();
      track(key, controller);
      try {
        return await work;
      } catch (err) {
        if (stopping && controller.signal.aborted) {
          // Cut short by our close(): back to the queue without spending an attempt. Should the move
          // fail (lock lost), the job stays active and is recovered as stalled.
          await job.moveToDelayed(Date.now(), token).catch(() => undefined);
          untrack(key);
          throw new DelayedError();
        }
        if (isPermanentError(err)) throw new UnrecoverableError(errorMessage(err));
        throw err instanceof Error ? err : new Error(errorMessage(err));
      } finally {
        bullSignal?.removeEventListener('abort', onBullAbort);
      }
    };
  }

  const workers = entries.map(([queue, processors]) => {
    const worker = new Worker<StoredJobData, unknown>(queue, processorFor(queue, processors), {
      connection: { ...workerConnectionOptions(), url, ...connectionRest, maxRetriesPerRequest: null },
      prefix,
      concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 2,
      runRetryDelay: options.runRetryDelayMs ?? 1_000,
      autorun: true,
    });
    worker.on('error', (err) => logError({ queue }, err));
    worker.on('failed', (job, err) => {
      if (!job) return;
      untrack(`${queue}/${job.id}`);
      const fields = {
        queue,
        jobId: job.id,
        jobName: job.name,
        attempt: job.attemptsStarted,
        err: err.message,
      };
      if (job.finishedOn) logger.warn(fields, 'job failed');
      else logger.info?.(fields, 'job attempt failed; it will be retried');
    });
    worker.on('completed', (job) => {
      untrack(`${queue}/${job.id}`);
      logger.debug?.(
        { queue, jobId: job.id, jobName: job.name, attempt: job.attemptsStarted },
        'job completed',
      );
    });
    worker.on('stalled', (jobId) => {
      logger.warn({ queue, jobId }, 'job stalled (its worker stopped renewing the lock): queued again');
    });
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        logger.warn(
          { queue, jobId },
          'lost the lock of a running job: aborting it (another worker may run it)',
        );
        running.get(`${queue}/${jobId}`)?.controller.abort(new Error('job lock lost'));
      }
    });
    return worker;
  });

  /**
   * BullMQ arms its next stalled-check timer after a check returns, so a close() that lands during a
   * check leaves a timer behind that keeps the process alive for up to stalledInterval (the race of
   * taskforcesh/bullmq#1810). From now on, any stopper it sets is called at once.
   */
  function stopStalledChecks(worker: Worker): void {
    const internals = worker as unknown as { stalledCheckStopper?: () => void };
    internals.stalledCheckStopper?.();
    Object.defineProperty(internals, 'stalledCheckStopper', {
      configurable: true,
      get: () => undefined,
      set: (stop: () => void) => stop(),
    });
  }

  async function untilIdle(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (running.size > 0) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running.values()].map((r) => r.done)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.min(left, 100));
        }),
      ]);
      clearTimeout(timer);
    }
    return true;
  }

  let closing: Promise<void> | undefined;
  return {
    queues: entries.map(([name]) => name),

    async ready() {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
    },

    close() {
      closing ??= (async () => {
        stopping = true;
        await Promise.allSettled(workers.map((w) => w.pause(true)));
        for (const w of workers) stopStalledChecks(w);
        if (!(await untilIdle(closeTimeoutMs))) {
          logger.warn({ jobs: [...running.keys()] }, 'jobs still running at close: aborting them');
          for (const r of running.values()) r.controller.abort(new Error('worker shutting down'));
          await untilIdle(Math.min(1_000, closeTimeoutMs));
        }
        // Every job in hand has its outcome stored (or is abandoned to the stalled check), so the
        // connections are dropped without QUIT: a graceful close sends QUIT through the offline
        // queue, and with Redis away would wait for it to come back.
        if (running.size > 0) logger.warn({ jobs: [...running.keys()] }, 'closing with jobs still running');
        const closed = await settleWithin(
          workers.map((w) => w.close(true)),
          2_000,
        );
        if (!closed) logger.warn({}, 'job worker: connections did not close within 2 s');
      })();
      return closing;
    },
  };
}
