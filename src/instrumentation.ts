/**
 * Where the metrics of src/lib/metrics.ts are observed, for src/container.ts: wrappers around the
 * cache, the partition store and the job processors, and the collectors read at scrape time. The
 * services themselves know nothing of metrics.
 */
import type { Cache } from './clients/cache/cache-types.ts';
import type { AppJobQueue, AppProcessors } from './jobs/job-registry.ts';
import { JOB_STATES, type JobContext } from './jobs/queue-types.ts';
import type { Metrics } from './lib/metrics.ts';
import type { PartitionStore } from './services/analytics/partition-store.ts';

/** Counts hits, misses and stale answers of `getOrLoad` by key space (`part`, `catalog`...). */
export function instrumentCache(cache: Cache, metrics: Metrics): Cache {
  return {
    kind: cache.kind,
    get: (key) => cache.get(key),
    set: (key, value, options) => cache.set(key, value, options),
    delete: (key) => cache.delete(key),
    deleteByPrefix: (prefix) => cache.deleteByPrefix(prefix),
    ping: () => cache.ping(),
    close: () => cache.close(),
    async getOrLoad(key, load, options) {
      const result = await cache.getOrLoad(key, load, options);
      metrics.cacheRequests.inc({ store: cache.kind, key_space: keySpace(key), result: result.status });
      return result;
    },
  };
}

/** The first segment of a key: few values, whatever the key holds after it. */
export function keySpace(key: string): string {
  const colon = key.indexOf(':');
  const head = colon > 0 ? key.slice(0, colon) : key;
  return /^[a-z][a-z0-9_-]{0,30}$/i.test(head) ? head : 'other';
}

/** Sync lines, days and duration; partitions held are read at scrape time. */
export function instrumentPartitions(partitions: PartitionStore, metrics: Metrics): PartitionStore {
  metrics.onCollect('partitions', () => {
    const held = partitions.held();
    metrics.partitionsInMemory.set(held.inMemory);
    metrics.partitionsBytes.set(held.memoryBytes);
  });
  return {
    ...partitions,
    async sync(from, to, options) {
      const report = await partitions.sync(from, to, options);
      metrics.syncLines.inc(report.lines);
      const failed = report.failed.length;
      // A day whose fetch failed is counted in `fetched` too (the store counts attempts).
      metrics.syncDays.inc({ result: 'fetched' }, Math.max(0, report.fetched - failed));
      metrics.syncDays.inc({ result: 'reused' }, report.reused);
      metrics.syncDays.inc({ result: 'failed' }, failed);
      metrics.syncDuration.observe(report.ms / 1000);
      return report;
    },
  };
}

/** Queue depth by state, read from the queue's store (Redis in shared mode: every worker's jobs). */
export function collectQueueDepth(
  jobs: AppJobQueue,
  queues: (keyof AppProcessors)[],
  metrics: Metrics,
): void {
  metrics.onCollect('job-queues', async () => {
    await Promise.all(
      queues.flatMap((queue) =>
        JOB_STATES.map(async (state) => {
          const { total } = await jobs.list(queue, { states: [state], limit: 1, offset: 0 });
          metrics.jobsInQueue.set({ queue, state }, total);
        }),
      ),
    );
  });
}

/**
 * Each job attempt logs its start and end at info (job id, type, attempt, duration, outcome) and is
 * timed, whichever runner runs it: the API in embedded mode, src/worker.ts in shared mode.
 */
export function instrumentProcessors(processors: AppProcessors, metrics: Metrics): AppProcessors {
  const wrap =
    <P, R>(queue: string, name: string, run: (payload: P, ctx: JobContext) => Promise<R>) =>
    async (payload: P, ctx: JobContext): Promise<R> => {
      const started = performance.now();
      const fields = { jobId: ctx.id, queue, type: name, attempt: ctx.attempt };
      ctx.log.info(fields, 'job started');
      try {
        const result = await run(payload, ctx);
        const seconds = (performance.now() - started) / 1000;
        metrics.jobDuration.observe({ queue, name, outcome: 'completed' }, seconds);
        ctx.log.info({ ...fields, ms: Math.round(seconds * 1000), outcome: 'completed' }, 'job finished');
        return result;
      } catch (err) {
        const seconds = (performance.now() - started) / 1000;
        metrics.jobDuration.observe({ queue, name, outcome: 'failed' }, seconds);
        metrics.jobFailures.inc({ queue, name });
        ctx.log.info(
          {
            ...fields,
            ms: Math.round(seconds * 1000),
            outcome: 'failed',
            error: err instanceof Error ? err.message : String(err),
          },
          'job finished',
        );
        throw err;
      }
    };
  return {
    reports: { render: wrap('reports', 'render', processors.reports.render) },
    imports: { run: wrap('imports', 'run', processors.imports.run) },
    deliveries: {
      run: wrap('deliveries', 'run', processors.deliveries.run),
      fire: wrap('deliveries', 'fire', processors.deliveries.fire),
      resend: wrap('deliveries', 'resend', processors.deliveries.resend),
      'alerts-check': wrap('deliveries', 'alerts-check', processors.deliveries['alerts-check']),
    },
  };
}
