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
import { createJobQueue } from './jobs/job-queue-factory.ts';
import type { AppJobQueue, AppProcessors } from './jobs/job-registry.ts';
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
import { type ForecastService, forecastServiceFactory } from './services/forecast/forecast-service.ts';
import { type HealthService, healthServiceFactory } from './services/health-service.ts';
import { type ImportService, importServiceFactory } from './services/imports/import-service.ts';
import { importStoreFactory } from './services/imports/import-store.ts';
import { createRenderPool } from './services/reports/render-pool.ts';
import { reportBuildersFactory } from './services/reports/report-builders.ts';
import { type ReportService, reportServiceFactory } from './services/reports/report-service.ts';

export interface Container {
  config: Config;
  redis: Redis | undefined;
  cache: Cache;
  upstream: UpstreamClient;
  catalog: CatalogService;
  health: HealthService;
  partitions: PartitionStore;
  salesAnalytics: SalesAnalyticsService;
  stockAnalytics: StockAnalyticsService;
  forecast: ForecastService;
  jobs: AppJobQueue;
  reports: ReportService;
  imports: ImportService;
  /** the job processors, for the in-process runner (embedded) or src/worker.ts (shared) */
  processors: AppProcessors;
  close(): Promise<void>;
}

export interface ContainerOverrides {
  cache?: Cache;
  upstream?: UpstreamClient;
  jobs?: AppJobQueue;
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
  const cache =
    overrides.cache ??
    (config.redis && redis
      ? createRedisCache({
          redis,
          keyPrefix: `${config.redis.keyPrefix}cache:`,
          commandTimeoutMs: config.redis.commandTimeoutMs,
          logger,
        })
      : createMemoryCache({ maxBytes: config.cache.maxBytes, logger }));
  const upstream = overrides.upstream ?? createUpstreamClient({ config: config.upstream, logger });
  const catalog = catalogServiceFactory({ upstream, cache, config });
  const health = healthServiceFactory({ upstream, cache, mode: config.mode });
  const partitions = partitionStoreFactory({ upstream, cache, config, logger });
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
  const builders = reportBuildersFactory({
    sales: salesAnalytics,
    stock: stockAnalytics,
    today: partitions.today,
    display: config.display,
  });
  // The processors call the report service, which enqueues on the queue they are given to: bind late.
  let reportsRef: ReportService | undefined;
  let importsRef: ImportService | undefined;
  const processors: AppProcessors = {
    reports: { render: (payload, ctx) => reportsRef!.process(payload, ctx) },
    imports: { run: (payload, ctx) => importsRef!.process(payload, ctx) },
  };
  const jobs =
    overrides.jobs ??
    createJobQueue({
      config,
      logger,
      processors,
      ...(redis ? { redis } : {}),
      concurrency: config.jobs.concurrency,
    });
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
  const imports = importServiceFactory({
    upstream,
    store: importStoreFactory({ exportsDir: config.reports.exportsDir }),
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

  return {
    config,
    redis,
    cache,
    upstream,
    catalog,
    health,
    partitions,
    salesAnalytics,
    stockAnalytics,
    forecast,
    jobs,
    reports,
    imports,
    processors,
    async close() {
      // Jobs first: a running report still reads from the upstream and the cache.
      await jobs.close().catch(() => {});
      await renderer.close();
      await Promise.allSettled([upstream.close(), cache.close()]);
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
