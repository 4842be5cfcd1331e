/**
 * The embedded job queue: jobs run in this process, with the same states, progress, attempts,
 * exponential backoff, permanent errors, deduplication by jobId and bounded retention as the BullMQ
 * adapter (the contract tests hold both to it). With a journal (the metadata database) every job
 * is written at each transition and read back at start, so a restart loses no accepted job (see
 * job-journal.ts); without one, jobs live and die with the process.
 *
 * Concurrency is per queue, as with one BullMQ Worker per queue.
 */
import { randomUUID } from 'node:crypto';
import { runWithoutDeadline } from '../lib/deadline.ts';
import {
  assertName,
  assertRetention,
  assertTimeout,
  backoffDelayMs,
  bindLogger,
  errorMessage,
  isoOrNull,
  isPermanentError,
  jsonCopy,
  normalizeEnqueueOptions,
  normalizeListFilter,
  normalizeProgress,
  pageAcrossStates,
  settleWithin,
} from './job-fns.ts';
import { type JobJournal, type JobRecord, journalWriter, restoredRecord } from './job-journal.ts';
import { type Entry, entryOf, listOrder, type QueueRuntime, recordOf } from './memory-entries.ts';
import {
  DEFAULT_RETENTION,
  type JobContext,
  type JobInfo,
  type JobLogger,
  JobNotFoundError,
  type JobQueue,
  type JobRegistry,
  type JobState,
  JobWaitTimeoutError,
  type Processor,
  type ProcessorsFor,
  QueueUnavailableError,
  type RetentionOptions,
  type UntypedJobQueue,
} from './queue-types.ts';

export interface MemoryQueueOptions<Reg extends JobRegistry> {
  /** every queue of the registry, every job name: in embedded mode this process runs them all */
  processors: ProcessorsFor<Reg>;
  /** jobs running at once, per queue; default 2 */
  concurrency?: number;
  logger: JobLogger;
  retention?: RetentionOptions;
  /** close(): how long running jobs get to finish before their signal is aborted; default 10 000 */
  closeTimeoutMs?: number;
  /** where jobs are written so that they survive a restart; none: in memory only */
  journal?: JobJournal;
}

export function createMemoryQueue<Reg extends JobRegistry>(options: MemoryQueueOptions<Reg>): JobQueue<Reg> {
  const { logger } = options;
  const concurrency = options.concurrency ?? 2;
  const retention = options.retention ?? DEFAULT_RETENTION;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer (got ${concurrency})`);
  }
  assertRetention(retention);

  const queues = new Map<string, QueueRuntime>();
  for (const [name, processors] of Object.entries(options.processors)) {
    assertName('queue', name);
    queues.set(name, {
      name,
      processors: processors as Record<string, Processor<unknown, unknown>>,
      jobs: new Map(),
      running: 0,
      finished: { completed: [], failed: [] },
      timer: null,
      timerAt: 0,
    });
  }

  const runs = new Set<Promise<void>>();
  let seq = 0;
  let closing: Promise<void> | undefined;
  const writer = options.journal ? journalWriter(options.journal, logger) : undefined;
  let restored: Promise<void> | undefined;

  const persist = (q: QueueRuntime, e: Entry) => writer?.saveLater(recordOf(q.name, e));

  /** Reads the journal once, before the first job runs or is read. */
  function ready(): Promise<void> {
    restored ??= (async () => {
      if (!options.journal) return;
      const now = Date.now();
      let records: JobRecord[];
      try {
        records = await options.journal.load();
      } catch (err) {
        restored = undefined; // the next call tries again
        throw new QueueUnavailableError(`the job journal cannot be read: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      for (const record of records) {
        const q = queues.get(record.queue);
        if (!q || q.jobs.has(record.id)) continue;
        const r = restoredRecord(record, now);
        const e = entryOf(r, seq++);
        q.jobs.set(e.id, e);
        if (e.state === 'completed' || e.state === 'failed') q.finished[e.state].push(e.id);
        if (r !== record) {
          logger.warn({ queue: q.name, jobId: e.id, state: e.state }, 'job interrupted by a restart');
          persist(q, e);
        }
      }
      for (const q of queues.values()) pump(q);
    })();
    return restored;
  }

  function runtime(queue: string): QueueRuntime {
    const q = queues.get(queue);
    if (!q) throw new RangeError(`unknown queue ${JSON.stringify(queue)}`);
    return q;
  }

  function assertOpen(): void {
    if (closing) throw new QueueUnavailableError('closed');
  }

  function snapshot(q: QueueRuntime, e: Entry): JobInfo {
    return {
      id: e.id,
      queue: q.name,
      name: e.name,
      payload: structuredClone(e.payload),
      state: e.state,
      progress: e.progress,
      attempts: e.attempts,
      createdAt: isoOrNull(e.createdAtMs) as string,
      startedAt: isoOrNull(e.startedAtMs),
      finishedAt: isoOrNull(e.finishedAtMs),
      result: e.result === null ? null : structuredClone(e.result),
      error: e.error,
    };
  }

  function toQueued(e: Entry, delayMs: number): void {
    e.state = 'queued';
    e.runAt = Date.now() + delayMs;
    e.seq = seq++;
    e.controller = null;
  }

  function finish(q: QueueRuntime, e: Entry, state: 'completed' | 'failed'): void {
    e.state = state;
    e.finishedAtMs = Date.now();
    e.controller = null;
    const list = q.finished[state];
    list.push(e.id);
    // Retention, as BullMQ applies removeOnComplete/removeOnFail: when a job finishes.
    const rule = retention[state];
    const oldest = e.finishedAtMs - rule.ageMs;
    const dropped: string[] = [];
    while (list.length > 0) {
      const id = list[0] as string;
      const held = q.jobs.get(id);
      const stale = !held || held.state !== state;
      if (!stale && list.length <= rule.count && (held.finishedAtMs ?? 0) >= oldest) break;
      list.shift();
      if (!stale) {
        q.jobs.delete(id);
        dropped.push(id);
      }
    }
    persist(q, e);
    writer?.removeLater(q.name, dropped);
    for (const notify of [...e.waiters]) notify();
  }

  function pump(q: QueueRuntime): void {
    if (closing) return;
    const now = Date.now();
    while (q.running < concurrency) {
      let next: Entry | undefined;
      for (const e of q.jobs.values()) {
        if (e.state !== 'queued' || e.runAt > now) continue;
        if (!next || e.runAt < next.runAt || (e.runAt === next.runAt && e.seq < next.seq)) next = e;
      }
      if (!next) break;
      start(q, next);
    }
    // One timer per queue, for the earliest backoff still running. It is re-armed on every pump, as
    // a timer may fire a millisecond before Date.now() reaches its job's runAt.
    let earliest = Number.POSITIVE_INFINITY;
    for (const e of q.jobs.values()) {
      if (e.state === 'queued' && e.runAt > now && e.runAt < earliest) earliest = e.runAt;
    }
    if (q.timer && q.timerAt <= earliest) return;
    if (q.timer) clearTimeout(q.timer);
    q.timer = null;
    if (earliest === Number.POSITIVE_INFINITY) return;
    q.timerAt = earliest;
    q.timer = setTimeout(
      () => {
        q.timer = null;
        pump(q);
      },
      Math.max(1, earliest - Date.now()),
    );
  }

  function start(q: QueueRuntime, e: Entry): void {
    const controller = new AbortController();
    q.running++;
    e.state = 'active';
    e.attempts++;
    e.startedAtMs = Date.now();
    e.progress = 0;
    e.controller = controller;
    persist(q, e);
    const current = () => e.controller === controller && e.state === 'active';
    const log = bindLogger(logger, { queue: q.name, jobId: e.id, jobName: e.name, attempt: e.attempts });
    const ctx: JobContext = {
      id: e.id,
      attempt: e.attempts,
      async updateProgress(progress) {
        const value = normalizeProgress(progress);
        if (value !== null && current()) e.progress = value;
      },
      log,
      signal: controller.signal,
    };
    const processor = q.processors[e.name];
    // Started from a request (enqueue, then pump): the job must not inherit its deadline.
    const run = runWithoutDeadline(async () => {
      try {
        if (!processor) throw new Error(`no processor for job ${q.name}/${e.name}`);
        const result = await processor(structuredClone(e.payload), ctx);
        // A result that is not JSON fails the attempt, as it would in Redis.
        const stored = jsonCopy(result);
        if (!current()) return;
        e.result = stored;
        e.error = null;
        e.progress = 100;
        finish(q, e, 'completed');
        log.debug({}, 'job completed');
      } catch (err) {
        if (!current()) return;
        const permanent = isPermanentError(err) || !processor;
        e.error = errorMessage(err);
        if (!permanent && e.attempts < e.maxAttempts) {
          const delayMs = backoffDelayMs(e.backoffMs, e.attempts);
          log.warn({ err: e.error, retryInMs: delayMs }, 'job attempt failed; it will be retried');
          toQueued(e, delayMs);
          persist(q, e);
        } else {
          log.warn({ err: e.error, permanent }, 'job failed');
          finish(q, e, 'failed');
        }
      } finally {
        q.running--;
        pump(q);
      }
    });
    runs.add(run);
    void run.finally(() => runs.delete(run));
  }

  const impl: UntypedJobQueue = {
    kind: 'memory',

    async enqueue(queue, name, payload, opts) {
      assertOpen();
      await ready();
      const q = runtime(queue);
      assertName('job', name);
      if (!q.processors[name]) throw new RangeError(`no processor for job ${queue}/${name}`);
      const o = normalizeEnqueueOptions(opts);
      const data = jsonCopy(payload);
      const existing = o.jobId === undefined ? undefined : q.jobs.get(o.jobId);
      if (existing && existing.state !== 'failed') {
        return { job: snapshot(q, existing), created: false };
      }
      if (existing) {
        // Re-run the failed job under its id, as BullMQ's Job.retry does (see EnqueueOptions.jobId).
        q.finished.failed = q.finished.failed.filter((id) => id !== existing.id);
        Object.assign(existing, {
          payload: data,
          progress: 0,
          attempts: 0,
          startedAtMs: null,
          finishedAtMs: null,
          result: null,
          error: null,
        });
        toQueued(existing, 0);
        persist(q, existing);
        const job = snapshot(q, existing);
        pump(q);
        return { job: job, created: true };
      }
      const entry: Entry = {
        id: o.jobId ?? randomUUID(),
        name,
        payload: data,
        state: 'queued',
        progress: 0,
        attempts: 0,
        createdAtMs: Date.now(),
        startedAtMs: null,
        finishedAtMs: null,
        result: null,
        error: null,
        maxAttempts: o.attempts,
        backoffMs: o.backoffMs,
        runAt: 0,
        seq: 0,
        controller: null,
        waiters: new Set(),
      };
      toQueued(entry, 0);
      if (writer) {
        // A job is accepted once it is written: if the database cannot take it, the caller hears so.
        try {
          await writer.save(recordOf(q.name, entry));
        } catch (err) {
          throw new QueueUnavailableError(`the job could not be recorded: ${errorMessage(err)}`, {
            cause: err,
          });
        }
        const raced = q.jobs.get(entry.id);
        if (raced) return { job: snapshot(q, raced), created: false };
      }
      q.jobs.set(entry.id, entry);
      const job = snapshot(q, entry);
      pump(q);
      return { job: job, created: true };
    },

    async get(queue, id) {
      assertOpen();
      await ready();
      const q = runtime(queue);
      const e = q.jobs.get(id);
      return e ? snapshot(q, e) : null;
    },

    async list(queue, filter) {
      assertOpen();
      await ready();
      const q = runtime(queue);
      const { states, limit, offset } = normalizeListFilter(filter);
      const now = Date.now();
      const byState = new Map<JobState, Entry[]>(states.map((s) => [s, []]));
      for (const e of q.jobs.values()) byState.get(e.state)?.push(e);
      const groups = states.map((state) => ({
        state,
        entries: listOrder(state, byState.get(state) ?? [], q.finished, now),
      }));
      const slices = pageAcrossStates(
        groups.map((g) => ({ state: g.state, count: g.entries.length })),
        offset,
        limit,
      );
      const jobs = slices.flatMap((s) =>
        (groups.find((g) => g.state === s.state)?.entries ?? [])
          .slice(s.start, s.start + s.count)
          .map((e) => snapshot(q, e)),
      );
      return { jobs: jobs, total: groups.reduce((n, g) => n + g.entries.length, 0) };
    },

    async waitFor(queue, id, timeoutMs) {
      assertOpen();
      await ready();
      assertTimeout(timeoutMs);
      const q = runtime(queue);
      const e = q.jobs.get(id);
      if (!e) throw new JobNotFoundError(queue, id);
      if (e.state === 'completed' || e.state === 'failed') return snapshot(q, e);
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          e.waiters.delete(done);
          if (closing && e.state !== 'completed' && e.state !== 'failed') {
            reject(new QueueUnavailableError('closed'));
          } else {
            resolve(snapshot(q, e));
          }
        };
        const timer = setTimeout(() => {
          e.waiters.delete(done);
          reject(new JobWaitTimeoutError(queue, id, timeoutMs));
        }, timeoutMs);
        e.waiters.add(done);
      });
    },

    async ping() {
      assertOpen();
      await ready();
    },

    start: () => ready(),

    close() {
      closing ??= (async () => {
        for (const q of queues.values()) {
          if (q.timer) clearTimeout(q.timer);
          q.timer = null;
        }
        if (!(await settleWithin([...runs], closeTimeoutMs))) {
          const running = [...queues.values()].flatMap((q) =>
            [...q.jobs.values()].filter((e) => e.state === 'active').map((e) => `${q.name}/${e.id}`),
          );
          logger.warn({ jobs: running }, 'jobs still running at close: aborting them');
          for (const q of queues.values()) for (const e of q.jobs.values()) e.controller?.abort();
          await settleWithin([...runs], Math.min(1_000, closeTimeoutMs));
        }
        for (const q of queues.values()) {
          for (const e of q.jobs.values()) for (const notify of [...e.waiters]) notify();
        }
        await writer?.flush();
      })();
      return closing;
    },
  };
  return impl as unknown as JobQueue<Reg>;
}
