/**
 * The Prometheus metrics of one container (prom-client). Each container gets its own registry, so
 * tests that build several apps in one process never share counters; the process metrics (CPU,
 * memory, event loop, GC) are collected once per process and merged in at scrape time.
 *
 * The metric objects are created here and nowhere else; the code that observes them is wired in
 * src/instrumentation.ts (wrappers and observer callbacks, so services stay free of metrics).
 * A new family (deliveries by channel and state, alerts by state) is one more entry in
 * `createMetrics` and one observer where the feature's events happen.
 */
import client, { type Registry } from 'prom-client';

const PREFIX = 'salesflow_';

/** Seconds; from a 5 ms cache answer to a two-minute report. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Jobs and syncs take longer: up to 30 minutes. */
const LONG_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

let processRegistry: Registry | undefined;

/** Process metrics (prom-client's defaults), registered on first use: nothing runs at import time. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new client.Registry();
    client.collectDefaultMetrics({ register: processRegistry, prefix: PREFIX });
  }
  return processRegistry;
}

/** How an upstream attempt ended: `ok`, `http_4xx`, `http_5xx`, `timeout`, `network`, `invalid`, `aborted`. */
export type UpstreamOutcome = 'ok' | 'http_4xx' | 'http_5xx' | 'timeout' | 'network' | 'invalid' | 'aborted';

/** One HTTP attempt to the system of record (a retried call is several). */
export interface UpstreamCallEvent {
  /** method and path template without the query, e.g. `GET /sales` */
  endpoint: string;
  outcome: UpstreamOutcome;
  seconds: number;
}

export function createMetrics() {
  const registry = new client.Registry();
  const opts = { registers: [registry] };

  const metrics = {
    registry,
    httpDuration: new client.Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests served, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: DURATION_BUCKETS,
      ...opts,
    }),
    upstreamDuration: new client.Histogram({
      name: `${PREFIX}upstream_request_duration_seconds`,
      help: 'HTTP attempts to the system of record, by endpoint and outcome (a retried call counts each attempt)',
      labelNames: ['endpoint', 'outcome'] as const,
      buckets: DURATION_BUCKETS,
      ...opts,
    }),
    cacheRequests: new client.Counter({
      name: `${PREFIX}cache_requests_total`,
      help: 'Cache-aside lookups by store, key space and result (hit, miss, stale)',
      labelNames: ['store', 'key_space', 'result'] as const,
      ...opts,
    }),
    partitionsInMemory: new client.Gauge({
      name: `${PREFIX}partitions_in_memory`,
      help: 'Day partitions decoded in this process',
      ...opts,
    }),
    partitionsBytes: new client.Gauge({
      name: `${PREFIX}partitions_memory_bytes`,
      help: 'Bytes of the day partitions decoded in this process (bounded by PARTITION_MEMORY_MB)',
      ...opts,
    }),
    syncLines: new client.Counter({
      name: `${PREFIX}sync_lines_total`,
      help: 'Sale lines covered by syncs',
      ...opts,
    }),
    syncDays: new client.Counter({
      name: `${PREFIX}sync_days_total`,
      help: 'Days covered by syncs, by result (fetched, reused, failed)',
      labelNames: ['result'] as const,
      ...opts,
    }),
    syncDuration: new client.Histogram({
      name: `${PREFIX}sync_duration_seconds`,
      help: 'Duration of syncs of a window of days',
      buckets: LONG_BUCKETS,
      ...opts,
    }),
    jobsInQueue: new client.Gauge({
      name: `${PREFIX}jobs`,
      help: 'Jobs in each queue by state (read from the queue store at scrape time: every worker counts)',
      labelNames: ['queue', 'state'] as const,
      ...opts,
    }),
    jobDuration: new client.Histogram({
      name: `${PREFIX}job_duration_seconds`,
      help: 'Job attempts run by this process, by queue, job name and outcome (completed, failed)',
      labelNames: ['queue', 'name', 'outcome'] as const,
      buckets: LONG_BUCKETS,
      ...opts,
    }),
    jobFailures: new client.Counter({
      name: `${PREFIX}job_failures_total`,
      help: 'Failed job attempts run by this process, by queue and job name',
      labelNames: ['queue', 'name'] as const,
      ...opts,
    }),
    deliveryAttempts: new client.Histogram({
      name: `${PREFIX}delivery_attempt_duration_seconds`,
      help: 'Delivery send attempts by channel and outcome (sent, retrying, failed, unknown)',
      labelNames: ['channel', 'outcome'] as const,
      buckets: DURATION_BUCKETS,
      ...opts,
    }),
    deliveryRenders: new client.Counter({
      name: `${PREFIX}delivery_renders_total`,
      help: 'Report files rendered for scheduled delivery (one per slice and format, not per recipient)',
      ...opts,
    }),
    scheduleRuns: new client.Counter({
      name: `${PREFIX}schedule_runs_total`,
      help: 'Schedule runs finished by this process, by trigger (cron, catch_up, manual) and state',
      labelNames: ['trigger', 'state'] as const,
      ...opts,
    }),
    alertNotifications: new client.Counter({
      name: `${PREFIX}alert_notifications_total`,
      help: 'Alert transitions notified, by kind (firing, repeat, resolved)',
      labelNames: ['kind'] as const,
      ...opts,
    }),
    scrapeErrors: new client.Counter({
      name: `${PREFIX}metrics_collect_errors_total`,
      help: 'Collectors that could not read their source at scrape time (e.g. the queue store down)',
      labelNames: ['collector'] as const,
      ...opts,
    }),
  };

  /** Async sources read at scrape time; each gets a bounded time, and a failure leaves its gauge as it was. */
  const collectors: { name: string; run: () => Promise<void> | void }[] = [];

  return {
    ...metrics,
    onCollect(name: string, run: () => Promise<void> | void) {
      collectors.push({ name, run });
    },
    observeUpstream(event: UpstreamCallEvent) {
      metrics.upstreamDuration.observe({ endpoint: event.endpoint, outcome: event.outcome }, event.seconds);
    },
    /** The text exposition: this container's metrics and the process's. */
    async scrape(timeoutMs = 2_000): Promise<{ contentType: string; body: string }> {
      await Promise.all(
        collectors.map(async (c) => {
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              c.run(),
              new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
              }),
            ]);
          } catch {
            metrics.scrapeErrors.inc({ collector: c.name });
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      const merged = client.Registry.merge([registry, processMetrics()]);
      return { contentType: merged.contentType, body: await merged.metrics() };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
