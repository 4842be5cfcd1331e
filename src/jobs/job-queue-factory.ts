/**
 * Picks the job queue for the configured mode, for src/container.ts and src/worker.ts: embedded
 * (no REDIS_URL) runs jobs in the API process; shared mode enqueues to BullMQ, and only
 * src/worker.ts consumes.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { createBullmqQueue } from './bullmq-queue.ts';
import { type BullmqJobWorker, createBullmqWorker } from './bullmq-worker.ts';
import type { JobJournal } from './job-journal.ts';
import type { AppJobQueue, AppJobs, AppProcessors } from './job-registry.ts';
import { createMemoryQueue } from './memory-queue.ts';
import type { JobLogger } from './queue-types.ts';

type JobsConfig = Pick<Config, 'mode' | 'redis' | 'shutdownTimeoutMs'>;

/** BullMQ's prefix under REDIS_KEY_PREFIX: 'salesflow:' gives keys 'salesflow:bull:<queue>:...'. */
export function bullmqPrefix(keyPrefix: string): string {
  return `${keyPrefix}bull`;
}

/** Running jobs get this long at shutdown, leaving the rest of SHUTDOWN_TIMEOUT_MS for the others. */
function closeTimeoutMs(config: JobsConfig): number {
  return Math.max(500, config.shutdownTimeoutMs - 2_000);
}

export interface JobQueueDeps {
  config: JobsConfig;
  logger: JobLogger;
  /** run in-process in embedded mode; unused in shared mode (the worker runs them) */
  processors: AppProcessors;
  /**
   * Shared mode: a fail-fast connection to share (the container's role 'request' connection);
   * without it the queue opens its own.
   */
  redis?: Redis;
  /** embedded mode: jobs running at once per queue; default 2 */
  concurrency?: number;
  /** embedded mode: where jobs are recorded so that they survive a restart */
  journal?: JobJournal;
}

export function createJobQueue({
  config,
  logger,
  processors,
  redis,
  concurrency,
  journal,
}: JobQueueDeps): AppJobQueue {
  if (config.redis) {
    return createBullmqQueue<AppJobs>({
      redis: redis ?? { url: config.redis.url },
      prefix: bullmqPrefix(config.redis.keyPrefix),
      commandTimeoutMs: config.redis.commandTimeoutMs,
      logger,
    });
  }
  return createMemoryQueue<AppJobs>({
    processors,
    logger,
    concurrency: concurrency ?? 2,
    closeTimeoutMs: closeTimeoutMs(config),
    ...(journal ? { journal } : {}),
  });
}

export interface JobWorkerDeps {
  config: JobsConfig;
  logger: JobLogger;
  /** the queues this worker consumes */
  processors: Partial<AppProcessors>;
  /** jobs running at once per queue; default 2 */
  concurrency?: number;
}

export function createJobWorker({ config, logger, processors, concurrency }: JobWorkerDeps): BullmqJobWorker {
  if (!config.redis) throw new Error('a job worker needs REDIS_URL (shared mode)');
  return createBullmqWorker<AppJobs>({
    connection: { url: config.redis.url },
    prefix: bullmqPrefix(config.redis.keyPrefix),
    queues: processors,
    concurrency: concurrency ?? 2,
    logger,
    closeTimeoutMs: closeTimeoutMs(config),
  });
}
