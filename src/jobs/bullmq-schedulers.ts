/**
 * BullMQ job schedulers (shared mode): one per schedule, keyed by the schedule's id, producing a
 * `fire` job at each cron time in the schedule's time zone. However many API and worker instances
 * upsert the same scheduler at once, Redis holds one, and each fire is one job.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectedBy } from './bullmq-shared.ts';
import { QueueUnavailableError } from './queue-types.ts';

const READY_WAIT_MS = 2_000;

export interface SchedulerSpec {
  id: string;
  pattern: string;
  tz: string;
  /** the job it makes at each fire */
  job: { name: string; data: Record<string, unknown> };
}

export interface BullmqSchedulers {
  upsert(spec: SchedulerSpec): Promise<void>;
  remove(id: string): Promise<void>;
  /** the ids of the schedulers in Redis (for reconciling with the database) */
  ids(): Promise<string[]>;
  /** pattern and time zone of one scheduler, for tests and the admin */
  get(id: string): Promise<{ pattern?: string | null; tz?: string | null } | undefined>;
  close(): Promise<void>;
}

export function createBullmqSchedulers(opts: {
  redis: Redis;
  prefix: string;
  queue: string;
}): BullmqSchedulers {
  const queue = new Queue(opts.queue, { connection: opts.redis, prefix: opts.prefix });
  // The connection is shared (fail-fast); an error event without a listener would crash.
  queue.on('error', () => {});
  const guard = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    if (!(await connectedBy(opts.redis, performance.now() + READY_WAIT_MS)))
      throw new QueueUnavailableError(`redis is ${opts.redis.status}`);
    try {
      return await run();
    } catch (err) {
      throw new QueueUnavailableError(`${what}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    upsert: (spec) =>
      guard('upsert job scheduler', async () => {
        await queue.upsertJobScheduler(
          spec.id,
          { pattern: spec.pattern, tz: spec.tz },
          { name: spec.job.name, data: spec.job.data, opts: { removeOnComplete: 100, removeOnFail: 500 } },
        );
      }),
    remove: (id) =>
      guard('remove job scheduler', async () => {
        await queue.removeJobScheduler(id);
      }),
    ids: () =>
      guard('list job schedulers', async () => (await queue.getJobSchedulers(0, -1)).map((s) => s.key)),
    get: (id) =>
      guard('read job scheduler', async () => {
        const s = await queue.getJobScheduler(id);
        return s ? { pattern: s.pattern ?? null, tz: s.tz ?? null } : undefined;
      }),
    close: () => queue.close(),
  };
}
