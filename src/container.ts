/**
 * Wires clients and services in one place. Entry points (server, worker, scripts) call
 * `createContainer`; tests may pass overrides (e.g. a cache with a private Redis).
 * Nothing here runs at import time.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Cache } from './clients/cache/cache-types.ts';
import { createMemoryCache } from './clients/cache/memory-cache.ts';
import { createRedisCache } from './clients/cache/redis-cache.ts';
import { createRedisConnection } from './clients/redis.ts';
import { createUpstreamClient, type UpstreamClient } from './clients/upstream-client.ts';
import type { Config } from './config.ts';
import { createDatabase, type Db } from './db/database.ts';
import { alertRecordsFactory } from './db/repos/alert-records.ts';
import { alertRulesRepoFactory } from './db/repos/alert-rules.ts';
import { alertSilencesFactory } from './db/repos/alert-silences.ts';
import type { DeliveryLedger } from './db/repos/delivery-ledger.ts';
import { importRecordsFactory } from './db/repos/import-records.ts';
import { jobRecordsFactory } from './db/repos/job-records.ts';
import {
  collectQueueDepth,
  instrumentCache,
  instrumentPartitions,
  instrumentProcessors,
} from './instrumentation.ts';
import { createJobQueue } from './jobs/job-queue-factory.ts';
import type { AppJobQueue, AppProcessors } from './jobs/job-registry.ts';
import { createMetrics, type Metrics } from './lib/metrics.ts';
import { type AlertCheckService, alertCheckServiceFactory } from './services/alerts/check-service.ts';
import { type AlertDetector, alertDetectorFactory } from './services/alerts/detector-service.ts';
import { type AlertInboxService, alertInboxServiceFactory } from './services/alerts/inbox-service.ts';
import { type AlertRulesService, alertRulesServiceFactory } from './services/alerts/rules-service.ts';
import { type SilenceService, silenceServiceFactory } from './services/alerts/silence-service.ts';
import { catalogSnapshotFactory } from './services/analytics/catalog-snapshot.ts';
import { type PartitionStore, partitionStoreFactory } from './services/analytics/partition-store.ts';
import {
  type SalesAnalyticsService,
  salesAnalyticsServiceFactory,
} from './services/analytics/sales-analytics-service.ts';
import {
  type StockAnalyticsService,
  stockAnalyticsServiceFactory,
} from './services/analytics/stock-analytics-service.ts';
import { type CatalogService, catalogServiceFactory } from './services/catalog-service.ts';
import type { ChannelSet } from './services/delivery/channels/create-channels.ts';
import type { DeliveryService } from './services/delivery/delivery-service.ts';
import type { ScheduleRunner } from './services/delivery/run/schedule-runner.ts';
import type { ScheduleService } from './services/delivery/schedule-service.ts';
import type { LedgerSender } from './services/delivery/send/ledger-sender.ts';
import { type ForecastService, forecastServiceFactory } from './services/forecast/forecast-service.ts';
import { type HealthService, healthServiceFactory } from './services/health-service.ts';
import { type ImportHistory, importHistoryFactory } from './services/imports/import-history.ts';
import { type ImportService, importServiceFactory } from './services/imports/import-service.ts';
import { importStoreFactory } from './services/imports/import-store.ts';
import { createRenderPool } from './services/reports/render-pool.ts';
import { reportBuildersFactory } from './services/reports/report-builders.ts';
import { type ReportService, reportServiceFactory } from './services/reports/report-service.ts';
import { wireDelivery } from './wiring/delivery-wiring.ts';

export interface Container {
  config: Config;
  /** the metadata database (SQLite file in embedded mode by default, PostgreSQL in shared mode) */
  db: Db;
  redis: Redis | undefined;
  cache: Cache;
  upstream: UpstreamClient;
  catalog: CatalogService;
  health: HealthService;
  partitions: PartitionStore;
  salesAnalytics: SalesAnalyticsService;
  stockAnalytics: StockAnalyticsService;
  forecast: ForecastService;
  alerts: AlertDetector;
  jobs: AppJobQueue;
  reports: ReportService;
  imports: ImportService;
  importHistory: ImportHistory;
  /** delivery channels (e-mail, WhatsApp, Slack, webhooks), each optional */
  channels: ChannelSet;
  /** the exactly-once ledger and the sender that goes through it (schedules and alerts alike) */
  delivery: { ledger: DeliveryLedger; sender: LedgerSender };
  schedules: ScheduleService;
  /** runs, the execution log, the ledger's listing and resends */
  deliveries: DeliveryService;
  /** fires schedules (croner or BullMQ job schedulers) and catches up missed periods */
  scheduler: ScheduleRunner;
  /** alert rules (data), the check (detection, lifecycle, notifications), alerts and silences */
  alertRules: AlertRulesService;
  alertChecks: AlertCheckService;
  alertInbox: AlertInboxService;
  alertSilences: SilenceService;
  /** this container's Prometheus metrics (GET /metrics) */
  metrics: Metrics;
  /** the job processors, for the in-process runner (embedded) or src/worker.ts (shared) */
  processors: AppProcessors;
  /** migrates the database and starts what must run before the first request (idempotent) */
  start(): Promise<void>;
  close(): Promise<void>;
}

type DeliveryProcessors = AppProcessors['deliveries'];

export interface ContainerOverrides {
  cache?: Cache;
  upstream?: UpstreamClient;
  jobs?: AppJobQueue;
  /**
   * Embedded mode: false keeps this process's jobs out of the database's job journal. The one-shot
   * CLI runs its own jobs and waits for them; the journal belongs to the API process, whose jobs the
   * CLI must not read back and run again.
   */
  jobJournal?: boolean;
  /** false: schedules never fire by themselves in this process (the one-shot CLI) */
  scheduler?: boolean;
}

export function createContainer(
  config: Config,
  logger: FastifyBaseLogger,
  overrides: ContainerOverrides = {},
): Container {
  const redis =
    config.redis && !overrides.cache
      ? createRedisConnection({ ...config.redis, role: 'request', logger, name: 'salesflow-api' })
      : undefined;
  const metrics = createMetrics();
  const rawCache =
    overrides.cache ??
    (config.redis && redis
      ? createRedisCache({
          redis,
          keyPrefix: `${config.redis.keyPrefix}cache:`,
          commandTimeoutMs: config.redis.commandTimeoutMs,
          logger,
        })
      : createMemoryCache({ maxBytes: config.cache.maxBytes, logger }));
  const cache = instrumentCache(rawCache, metrics);
  const upstream =
    overrides.upstream ??
    createUpstreamClient({ config: config.upstream, logger, observe: metrics.observeUpstream });
  const db = createDatabase(config.database, logger);
  const catalog = catalogServiceFactory({ upstream, cache, config });
  const health = healthServiceFactory({ upstream, cache, db, mode: config.mode });
  const partitions = instrumentPartitions(
    partitionStoreFactory({ upstream, cache, config, logger }),
    metrics,
  );
  const snapshot = catalogSnapshotFactory({
    catalog,
    stores: partitions.stores,
    products: partitions.products,
  });
  const salesAnalytics = salesAnalyticsServiceFactory({ partitions, catalog: snapshot, cache, config });
  const stockAnalytics = stockAnalyticsServiceFactory({
    upstream,
    partitions,
    catalog: snapshot,
    cache,
    config,
  });
  const forecast = forecastServiceFactory({
    sales: salesAnalytics,
    stock: stockAnalytics,
    partitions,
    cache,
    config,
  });
  const alerts = alertDetectorFactory({ partitions, catalog: snapshot, stock: stockAnalytics, config });
  const builders = reportBuildersFactory({
    sales: salesAnalytics,
    stock: stockAnalytics,
    today: partitions.today,
    display: config.display,
  });
  // The processors call the report service, which enqueues on the queue they are given to: bind late.
  let reportsRef: ReportService | undefined;
  let importsRef: ImportService | undefined;
  let deliveryRef: DeliveryProcessors | undefined;
  const processors: AppProcessors = instrumentProcessors(
    {
      reports: { render: (payload, ctx) => reportsRef!.process(payload, ctx) },
      imports: { run: (payload, ctx) => importsRef!.process(payload, ctx) },
      deliveries: {
        run: (payload, ctx) => deliveryRef!.run(payload, ctx),
        fire: (payload, ctx) => deliveryRef!.fire(payload, ctx),
        resend: (payload, ctx) => deliveryRef!.resend(payload, ctx),
        'alerts-check': (payload, ctx) => deliveryRef!['alerts-check'](payload, ctx),
      },
    },
    metrics,
  );
  const jobs =
    overrides.jobs ??
    createJobQueue({
      config,
      logger,
      processors,
      ...(redis ? { redis } : {}),
      concurrency: config.jobs.concurrency,
      ...(overrides.jobJournal === false ? {} : { journal: jobRecordsFactory(db) }),
    });
  collectQueueDepth(jobs, Object.keys(processors) as (keyof AppProcessors)[], metrics);
  const renderer = createRenderPool({ threads: config.reports.renderThreads });
  const reports = reportServiceFactory({
    jobs,
    builders,
    renderer,
    sales: salesAnalytics,
    upstream,
    catalog: snapshot,
    today: partitions.today,
    config,
    logger,
  });
  reportsRef = reports;
  const importStore = importStoreFactory({
    exportsDir: config.reports.exportsDir,
    records: importRecordsFactory(db),
  });
  const imports = importServiceFactory({
    upstream,
    store: importStore,
    jobs,
    invalidate: {
      catalog: () => catalog.invalidate(),
      stock: () => stockAnalytics.invalidate(),
      salesDays: (days) => partitions.invalidateDays(days),
    },
    config,
    logger,
  });
  importsRef = imports;

  let alertChecksRef: AlertCheckService | undefined;
  const {
    channels,
    ledger,
    sender,
    schedules,
    deliveries,
    scheduler,
    processors: deliveryProcessors,
  } = wireDelivery({
    config,
    logger,
    db,
    redis,
    metrics,
    jobs,
    catalog,
    builders,
    reports,
    alertCheck: () => alertChecksRef!,
  });
  deliveryRef = deliveryProcessors;
  // Alerts: rules as data, the lifecycle over detection, notifications through the same ledger.
  const alertRecords = alertRecordsFactory(db);
  const alertSilenceRepo = alertSilencesFactory(db);
  const alertRules = alertRulesServiceFactory({ repo: alertRulesRepoFactory(db), channels, logger });
  alertChecksRef = alertCheckServiceFactory({
    detector: alerts,
    rules: alertRules,
    records: alertRecords,
    silences: alertSilenceRepo,
    sender,
    catalog: snapshot,
    today: partitions.today,
    display: config.display,
    concurrency: config.delivery.concurrency,
    onNotified: (kind) => metrics.alertNotifications.inc({ kind }),
  });
  const alertChecks = alertChecksRef;
  const alertInbox = alertInboxServiceFactory({
    records: alertRecords,
    silences: alertSilenceRepo,
    rules: alertRules,
    sales: salesAnalytics,
    today: partitions.today,
  });
  const alertSilences = silenceServiceFactory({ repo: alertSilenceRepo });
  let started: Promise<void> | undefined;
  return {
    config,
    db,
    redis,
    cache,
    upstream,
    catalog,
    health,
    partitions,
    salesAnalytics,
    stockAnalytics,
    forecast,
    alerts,
    jobs,
    reports,
    imports,
    importHistory: importHistoryFactory({ store: importStore, businessTz: config.businessTz }),
    channels,
    delivery: { ledger, sender },
    schedules,
    deliveries,
    scheduler,
    alertRules,
    alertChecks,
    alertInbox,
    alertSilences,
    metrics,
    processors,
    start() {
      started ??= (async () => {
        await db.migrate();
        await jobs.start?.();
        if (config.scheduler.enabled && overrides.scheduler !== false) await scheduler.start();
      })();
      return started;
    },
    async close() {
      // Timers first (nothing new fires), then jobs: a running report still reads the upstream and the cache.
      await scheduler.close().catch(() => {});
      await jobs.close().catch(() => {});
      await renderer.close();
      await Promise.allSettled([upstream.close(), cache.close(), channels.close()]);
      await db.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
