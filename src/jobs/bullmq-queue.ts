/**
 * The shared job queue, producer side: jobs are kept in Redis by BullMQ and run by separate worker
 * processes (bullmq-worker.ts). Used by API instances, so it fails fast: when Redis is down, not
 * connected yet or hung, every call rejects with QueueUnavailableError within about one command
 * timeout (the HTTP layer answers 503); nothing waits for Redis to come back.
 *
 * - One BullMQ Queue per queue name, all on one producer connection (no offline queue, a command
 *   timeout), created on first use. BullMQ's own add waits for a first connection however long it
 *   takes (taskforcesh/bullmq#995), so calls check the connection first (waiting only for a
 *   connection attempt in progress, which fails within milliseconds when Redis refuses it) and are
 *   bounded in time.
 * - get reads a job's hash and its state in one script (BullMQ's getState logic plus HGETALL), so
 *   a job read as queued never shows its next attempt's start, nor a completed one lack its result.
 * - Finished jobs are kept within the retention bounds (removeOnComplete / removeOnFail, count and
 *   age), so their metadata outlives any process but not Redis's memory.
 * - Deduplication by jobId (see EnqueueOptions.jobId): BullMQ ignores an add whose id exists, in any
 *   state. We read first: an existing job that has not failed is returned; a failed one is re-run
 *   under its id with Job.retry, which only one of several concurrent callers wins (it checks the
 *   state atomically), so the id stays the caller's handle on the latest run. Two concurrent adds
 *   of a new id are told apart by a random token in the job data.
 * - waitFor polls get() (25 ms doubling up to 500 ms) rather than listening to QueueEvents: that
 *   would hold a blocking connection per queue in every API instance, and events missed during a
 *   reconnect would be lost, whereas the job hash is the truth.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, type JobJsonRaw, type JobsOptions, Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import {
  BULL_TYPES,
  connectedBy,
  keepJobs,
  mapBullState,
  producerConnectionOptions,
  redisUnavailableReason,
  type StoredJobData,
  toJobInfo,
} from './bullmq-shared.ts';
import {
  assertName,
  assertRetention,
  assertTimeout,
  jsonCopy,
  normalizeEnqueueOptions,
  normalizeListFilter,
  pageAcrossStates,
} from './job-fns.ts';
import {
  DEFAULT_RETENTION,
  type JobInfo,
  type JobLogger,
  JobNotFoundError,
  type JobQueue,
  type JobRegistry,
  type JobState,
  JobWaitTimeoutError,
  QueueUnavailableError,
  type RetentionOptions,
  type UntypedJobQueue,
} from './queue-types.ts';

export interface BullmqQueueOptions {
  /**
   * Where to connect (the queue owns that connection and closes it), or an ioredis connection to
   * share, left open by close(): it must fail fast (enableOfflineQueue: false and a commandTimeout,
   * as src/clients/redis.ts makes for role 'request') and have no keyPrefix.
   */
  redis: Redis | ({ url: string } & RedisOptions);
  /** BullMQ's key prefix: keys are `<prefix>:<queue>:...`; e.g. 'salesflow:bull' */
  prefix: string;
  logger: JobLogger;
  /** for a connection it makes; default 500 */
  commandTimeoutMs?: number;
  /** the longest one call may take in all (enqueue makes up to four round trips); default max(1000, 4 × commandTimeoutMs) */
  operationTimeoutMs?: number;
  retention?: RetentionOptions;
  /** BullMQ's events stream per queue is capped at this many entries; default 1000 (nothing here reads it) */
  maxEvents?: number;
}

class OperationTimeout extends Error {}

/** A job's hash and state, atomically: the state tests of BullMQ's getStateV2 script, then HGETALL. */
const SNAPSHOT_SCRIPT = `
local id = ARGV[1]
local hash = redis.call('HGETALL', KEYS[1])
if #hash == 0 then return {'unknown', hash} end
local state = 'unknown'
if redis.call('ZSCORE', KEYS[2], id) then state = 'completed'
elseif redis.call('ZSCORE', KEYS[3], id) then state = 'failed'
elseif redis.call('ZSCORE', KEYS[4], id) then state = 'delayed'
elseif redis.call('ZSCORE', KEYS[5], id) then state = 'prioritized'
elseif redis.call('LPOS', KEYS[6], id) then state = 'active'
elseif redis.call('LPOS', KEYS[7], id) or redis.call('LPOS', KEYS[8], id) then state = 'waiting'
elseif redis.call('ZSCORE', KEYS[9], id) then state = 'waiting-children'
end
return {state, hash}`;
const SNAPSHOT_KEYS = [
  'completed',
  'failed',
  'delayed',
  'prioritized',
  'active',
  'wait',
  'paused',
  'waiting-children',
];
const SNAPSHOT_COMMAND = 'salesflowJobSnapshot';

type SnapshotCommand = (...keysThenId: string[]) => Promise<[string, string[]]>;

function isRedisInstance(r: BullmqQueueOptions['redis']): r is Redis {
  return r instanceof Redis || typeof (r as Partial<Redis>).duplicate === 'function';
}

export function createBullmqQueue<Reg extends JobRegistry>(options: BullmqQueueOptions): JobQueue<Reg> {
  const { prefix, logger } = options;
  const commandTimeoutMs = options.commandTimeoutMs ?? 500;
  const operationTimeoutMs = options.operationTimeoutMs ?? Math.max(1_000, commandTimeoutMs * 4);
  const retention = options.retention ?? DEFAULT_RETENTION;
  const maxEvents = options.maxEvents ?? 1_000;
  assertRetention(retention);
  if (!prefix || prefix.endsWith(':')) throw new RangeError('prefix must be non-empty and not end with ":"');

  const owned = !isRedisInstance(options.redis);
  let redis: Redis;
  if (isRedisInstance(options.redis)) {
    redis = options.redis;
    if (redis.options.enableOfflineQueue !== false) {
      logger.warn({}, 'the ioredis connection given to the job queue has enableOfflineQueue on; turn it off');
    }
  } else {
    const { url, ...rest } = options.redis;
    redis = new Redis(url, { ...producerConnectionOptions(commandTimeoutMs), ...rest });
  }

  // An 'error' event without a listener would crash the process; log once per outage.
  let lastProblem: string | undefined;
  let down = false;
  const onError = (err: Error) => {
    lastProblem = err.message;
    if (!down && owned) logger.warn({ err: err.message }, 'job queue: redis connection error');
    down = true;
  };
  const onReady = () => {
    if (down && owned) logger.info?.({}, 'job queue: redis connection restored');
    down = false;
    lastProblem = undefined;
  };
  redis.on('error', onError);
  redis.on('ready', onReady);
  redis.defineCommand(SNAPSHOT_COMMAND, { numberOfKeys: 1 + SNAPSHOT_KEYS.length, lua: SNAPSHOT_SCRIPT });
  const snapshotCommand = (redis as unknown as Record<string, SnapshotCommand>)[SNAPSHOT_COMMAND]!.bind(
    redis,
  );

  const jobOptions: JobsOptions = {
    removeOnComplete: keepJobs(retention.completed),
    removeOnFail: keepJobs(retention.failed),
  };

  interface Held {
    queue: Queue;
    /** 'broken' once BullMQ's setup of the Queue failed: it would fail forever, so it is replaced */
    setup: 'pending' | 'ready' | 'broken';
  }
  const queues = new Map<string, Held>();
  let closed = false;

  function queueFor(name: string): Queue {
    const existing = queues.get(name);
    if (existing) return existing.queue;
    const queue = new Queue(name, { connection: redis, prefix, streams: { events: { maxLen: maxEvents } } });
    queue.on('error', (err: Error) => {
      if (!redisUnavailableReason(err)) logger.error({ err, queue: name }, 'job queue error');
    });
    const held: Held = { queue, setup: 'pending' };
    queue.waitUntilReady().then(
      () => {
        held.setup = 'ready';
      },
      () => {
        held.setup = 'broken';
      },
    );
    queues.set(name, held);
    return queue;
  }

  function discardIfBroken(name: string): void {
    const held = queues.get(name);
    if (held?.setup === 'broken') {
      queues.delete(name);
      void held.queue.close().catch(() => undefined);
    }
  }

  /** Runs fn against Redis: at once QueueUnavailableError when not connected; bounded in time. */
  async function op<T>(queueName: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (closed) throw new QueueUnavailableError('closed');
    const deadline = performance.now() + operationTimeoutMs;
    if (!(await connectedBy(redis, deadline))) {
      throw new QueueUnavailableError(
        `not connected (${redis.status})${lastProblem ? `: ${lastProblem}` : ''}`,
      );
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new OperationTimeout(`no answer within ${operationTimeoutMs} ms`)),
            Math.max(0, deadline - performance.now()),
          );
        }),
      ]);
    } catch (err) {
      if (queueName) discardIfBroken(queueName);
      if (err instanceof OperationTimeout) throw new QueueUnavailableError(err.message);
      const reason =
        redisUnavailableReason(err) ?? (redis.status !== 'ready' ? `not connected (${redis.status})` : null);
      if (reason) throw new QueueUnavailableError(reason, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function snapshot(queue: Queue, id: string): Promise<{ job: Job; state: JobState } | null> {
    const keys = [queue.toKey(id), ...SNAPSHOT_KEYS.map((k) => queue.toKey(k))];
    const [bullState, flat] = await snapshotCommand(...keys, id);
    const state = mapBullState(bullState);
    if (!state) return null;
    const raw: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) raw[flat[i] as string] = flat[i + 1] as string;
    return { job: Job.fromJSON(queue, raw as unknown as JobJsonRaw, id), state };
  }

  async function read(queue: Queue, id: string): Promise<JobInfo | null> {
    const found = await snapshot(queue, id);
    return found ? toJobInfo(found.job, queue.name, found.state) : null;
  }

  async function enqueueWithId(
    queue: Queue,
    name: string,
    payload: unknown,
    jobId: string,
    opts: JobsOptions,
  ): Promise<{ job: JobInfo; created: boolean }> {
    // Each round settles unless the job changes state or disappears between our reads.
    for (let round = 0; round < 5; round++) {
      const found = await snapshot(queue, jobId);
      if (found) {
        const { job: existing, state } = found;
        if (state !== 'failed') return { job: toJobInfo(existing, queue.name, state), created: false };
        try {
          await existing.updateData({ payload });
          await existing.updateProgress(0);
          await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        } catch (err) {
          if (redisUnavailableReason(err)) throw err;
          continue; // another caller re-ran it first, or retention removed it
        }
        return { job: toJobInfo(existing, queue.name, 'queued'), created: true };
      }
      const token = randomUUID();
      const data: StoredJobData = { payload, token };
      const added = await queue.add(name, data, { ...opts, jobId });
      const stored = await snapshot(queue, jobId);
      if (!stored) continue;
      if ((stored.job.data as StoredJobData | undefined)?.token === token) {
        return { job: toJobInfo(added, queue.name, 'queued'), created: true };
      }
      return { job: toJobInfo(stored.job, queue.name, stored.state), created: false };
    }
    throw new Error(`could not enqueue ${queue.name}/${jobId}: it kept changing state`);
  }

  const impl: UntypedJobQueue = {
    kind: 'bullmq',

    async enqueue(queueName, name, payload, opts) {
      assertName('queue', queueName);
      assertName('job', name);
      const o = normalizeEnqueueOptions(opts);
      const data = jsonCopy(payload);
      const bullOpts: JobsOptions = {
        ...jobOptions,
        attempts: o.attempts,
        backoff: { type: 'exponential', delay: o.backoffMs },
      };
      return op(queueName, async () => {
        const queue = queueFor(queueName);
        if (o.jobId !== undefined) return enqueueWithId(queue, name, data, o.jobId, bullOpts);
        // Our own random ids rather than BullMQ's counter: opaque in URLs, never reused after a Redis
        // data loss resets the counter, and no read-back needed.
        const stored: StoredJobData = { payload: data };
        const job = await queue.add(name, stored, { ...bullOpts, jobId: randomUUID() });
        return { job: toJobInfo(job, queueName, 'queued'), created: true };
      });
    },

    async get(queueName, id) {
      assertName('queue', queueName);
      return op(queueName, () => read(queueFor(queueName), id));
    },

    async list(queueName, filter) {
      assertName('queue', queueName);
      const { states, limit, offset } = normalizeListFilter(filter);
      return op(queueName, async () => {
        const queue = queueFor(queueName);
        const parts = states.flatMap((state) => BULL_TYPES[state].map((type) => ({ state, type })));
        const counts = await queue.getJobCounts(...parts.map((p) => p.type));
        const sized = parts.map((p) => ({ state: p.type, count: counts[p.type] ?? 0 }));
        const slices = pageAcrossStates(sized, offset, limit);
        const pages = await Promise.all(
          slices.map((s) => queue.getJobs([s.state], s.start, s.start + s.count - 1, false)),
        );
        const jobs = pages.flatMap((page, i) => {
          const type = slices[i]?.state;
          const state = parts.find((p) => p.type === type)?.state ?? 'queued';
          return page.filter(Boolean).map((job) => toJobInfo(job, queueName, state));
        });
        return { jobs, total: sized.reduce((n, s) => n + s.count, 0) };
      });
    },

    async waitFor(queueName, id, timeoutMs) {
      assertName('queue', queueName);
      assertTimeout(timeoutMs);
      const deadline = performance.now() + timeoutMs;
      let interval = 25;
      for (;;) {
        const job = await op(queueName, () => read(queueFor(queueName), id));
        if (!job) throw new JobNotFoundError(queueName, id);
        if (job.state === 'completed' || job.state === 'failed') return job;
        const left = deadline - performance.now();
        if (left <= 0) throw new JobWaitTimeoutError(queueName, id, timeoutMs);
        await sleep(Math.min(interval, left));
        interval = Math.min(interval * 2, 500);
      }
    },

    async ping() {
      await op(undefined, async () => {
        await redis.ping();
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      const held = [...queues.values()];
      queues.clear();
      await Promise.allSettled(held.map((h) => h.queue.close()));
      redis.off('ready', onReady);
      // An owned connection keeps its listener: ioredis may still report an error while it ends.
      if (owned) await redis.quit().catch(() => redis.disconnect());
      else redis.off('error', onError);
    },
  };

  return impl as unknown as JobQueue<Reg>;
}
