/**
 * The one place that reads the environment. Everything else receives a typed `Config`. The
 * variables and mapping of the larger sections live in config/ (database, delivery and scheduling),
 * assembled here.
 *
 * A bad value stops the process at start-up with a message naming the variable: a service that
 * starts with a typo in its configuration fails later, at 3 a.m., in a less obvious way.
 */
import { z } from 'zod';
import { ConfigError } from './config/config-error.ts';
import { type DatabaseConfig, databaseConfig, databaseEnv } from './config/database-config.ts';
import {
  type DeliveryConfig,
  deliveryConfig,
  deliveryEnv,
  type SchedulerConfig,
  schedulerConfig,
} from './config/delivery-config.ts';
import {
  type ApiKeyEntry,
  apiKeys,
  booleanFlag,
  csv,
  currency,
  intFrom,
  locale,
  timeZone,
  url,
} from './config/env-fields.ts';

import { isKnownHolidayCountry } from './lib/holidays.ts';

export { type ApiKeyEntry, ROLES, type Role, sha256Hex } from './config/env-fields.ts';
export { ConfigError, type DatabaseConfig };

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: intFrom(8080, 0, 65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: booleanFlag(false),
  SHUTDOWN_TIMEOUT_MS: intFrom(10_000, 100, 120_000),

  UPSTREAM_URL: url(['http:', 'https:']),
  UPSTREAM_TOKEN: z.string().min(1).optional(),
  UPSTREAM_CONNECTIONS: intFrom(16, 1, 512),
  UPSTREAM_CONNECT_TIMEOUT_MS: intFrom(2_000, 50, 60_000),
  UPSTREAM_HEADERS_TIMEOUT_MS: intFrom(10_000, 50, 120_000),
  UPSTREAM_BODY_TIMEOUT_MS: intFrom(30_000, 50, 300_000),
  UPSTREAM_RETRIES: intFrom(3, 0, 10),
  UPSTREAM_RETRY_BASE_MS: intFrom(200, 1, 10_000),
  UPSTREAM_RETRY_MAX_MS: intFrom(5_000, 1, 60_000),
  UPSTREAM_PAGE_SIZE: intFrom(2_000, 1, 100_000),
  UPSTREAM_PAGE_CONCURRENCY: intFrom(4, 1, 64),
  UPSTREAM_BREAKER_THRESHOLD: intFrom(5, 1, 1_000),
  UPSTREAM_BREAKER_OPEN_MS: intFrom(5_000, 100, 600_000),
  REQUEST_DEADLINE_MS: intFrom(10_000, 100, 600_000),
  STALE_WAIT_MS: intFrom(1_000, 0, 600_000),

  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]*$/, 'may hold only letters, digits and : _ . -')
    .default('salesflow:'),
  REDIS_COMMAND_TIMEOUT_MS: intFrom(500, 10, 30_000),

  CACHE_TTL_SECONDS: intFrom(300, 1, 86_400 * 30),
  CACHE_STALE_SECONDS: intFrom(86_400, 0, 86_400 * 30),
  CACHE_MAX_MB: intFrom(256, 1, 65_536),

  API_KEYS: apiKeys,
  CORS_ORIGINS: csv,
  RATE_LIMIT_MAX: intFrom(600, 1, 1_000_000),
  RATE_LIMIT_WINDOW_SECONDS: intFrom(60, 1, 86_400),
  BODY_LIMIT_BYTES: intFrom(1_048_576, 1_024, 1_073_741_824),
  METRICS_TOKEN: z.string().min(16, 'must have at least 16 characters').optional(),

  BUSINESS_TZ: timeZone.default('Europe/Paris'),
  CURRENCY: currency.default('EUR'),
  LOCALE: locale.default('en-GB'),
  LATE_DATA_DAYS: intFrom(3, 0, 60),
  LATE_DATA_TTL_SECONDS: intFrom(300, 1, 86_400),
  PARTITION_TTL_DAYS: intFrom(400, 1, 3_650),
  PARTITION_MEMORY_MB: intFrom(768, 16, 65_536),
  PARTITION_RECHECK_SECONDS: intFrom(60, 1, 86_400),
  SYNC_DAY_CONCURRENCY: intFrom(4, 1, 64),
  RESULT_CACHE_SECONDS: intFrom(600, 1, 86_400),
  ANALYTICS_TODAY: z.iso.date().optional(),
  HOLIDAYS_COUNTRY: z
    .string()
    .optional()
    .refine((v) => v === undefined || isKnownHolidayCountry(v), {
      message: 'must be a country code known to date-holidays, optionally with a state: FR, DE-BY, US-CA',
    }),
  EXPORTS_DIR: z.string().min(1).default('exports'),
  REPORT_RETENTION_DAYS: intFrom(30, 1, 3_650),
  REPORT_LINK_SECRET: z.string().min(32, 'must have at least 32 characters').optional(),
  REPORT_LINK_TTL_HOURS: intFrom(72, 1, 24 * 90),
  JOB_CONCURRENCY: intFrom(2, 1, 64),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  RENDER_THREADS: intFrom(1, 1, 32),
  IMPORT_MAX_FILE_MB: intFrom(25, 1, 1_024),
  IMPORT_MAX_ROWS: intFrom(200_000, 1, 5_000_000),
  IMPORT_CHUNK_SIZE: intFrom(500, 1, 10_000),
  IMPORT_INLINE_MAX_KB: intFrom(1_024, 0, 1_048_576),
  IMPORT_MAX_UNCOMPRESSED_MB: intFrom(512, 1, 16_384),
  IMPORT_MAX_ZIP_ENTRIES: intFrom(2_000, 10, 1_000_000),
  IMPORT_MAX_ZIP_RATIO: intFrom(200, 2, 100_000),
  IMPORT_RETENTION_DAYS: intFrom(7, 1, 3_650),

  ...databaseEnv,
  ...deliveryEnv,
});

export type Env = z.input<typeof EnvSchema>;
type ParsedEnv = z.output<typeof EnvSchema>;

export interface Config {
  env: ParsedEnv['NODE_ENV'];
  host: string;
  port: number;
  logLevel: ParsedEnv['LOG_LEVEL'];
  trustProxy: boolean;
  shutdownTimeoutMs: number;
  upstream: {
    url: string;
    token: string | undefined;
    connections: number;
    connectTimeoutMs: number;
    headersTimeoutMs: number;
    bodyTimeoutMs: number;
    retries: number;
    retryBaseMs: number;
    retryMaxMs: number;
    pageSize: number;
    pageConcurrency: number;
    breakerThreshold: number;
    breakerOpenMs: number;
  };
  redis: { url: string; keyPrefix: string; commandTimeoutMs: number } | undefined;
  /** 'shared' when REDIS_URL is set: Redis cache, BullMQ queue, separate workers */
  mode: 'embedded' | 'shared';
  cache: { ttlMs: number; staleTtlMs: number; maxBytes: number };
  auth: {
    apiKeys: ApiKeyEntry[];
    /** a bearer token that may read GET /metrics only (a Prometheus scraper); admin keys may too */
    metricsToken: string | undefined;
  };
  http: {
    corsOrigins: string[];
    rateLimitMax: number;
    rateLimitWindowMs: number;
    bodyLimitBytes: number;
    /** every upstream call made for a request fits in this */
    requestDeadlineMs: number;
    /** with stale data at hand, how long a request waits for a refresh before serving it */
    staleWaitMs: number;
  };
  businessTz: string;
  /** how figures are shown: every money figure is in `currency`; reports format numbers for `locale` */
  display: { currency: string; locale: string };
  analytics: {
    lateDataDays: number;
    lateDataTtlMs: number;
    partitionTtlMs: number;
    partitionMemoryBytes: number;
    partitionRecheckMs: number;
    syncDayConcurrency: number;
    resultCacheTtlMs: number;
    /** pins "today" (YYYY-MM-DD) for tests and reproducible demos; unset = the real date in businessTz */
    today: string | undefined;
  };
  alerts: {
    /** public holidays left out of alert baselines (date-holidays code); unset = none */
    holidaysCountry: string | undefined;
  };
  reports: {
    exportsDir: string;
    retentionMs: number;
    /** HMAC key of signed download links; unset = random per process (links die with it) */
    linkSecret: string | undefined;
    linkTtlMs: number;
    /** worker threads rendering PDF and XLSX, started on first use */
    renderThreads: number;
  };
  jobs: {
    concurrency: number;
    /** the worker serves GET /metrics on this port (on HOST); unset = not served */
    workerMetricsPort: number | undefined;
  };
  /** the metadata database: schedules, deliveries, alerts, job and import records */
  database: DatabaseConfig;
  imports: {
    maxFileBytes: number;
    maxRows: number;
    /** rows per bulk request to the system of record */
    chunkSize: number;
    /** uploads up to this size are answered in the request; larger ones run as a job */
    inlineMaxBytes: number;
    /** zip-bomb limits checked before a workbook is parsed */
    maxUncompressedBytes: number;
    maxZipEntries: number;
    maxZipRatio: number;
    retentionMs: number;
  };
  delivery: DeliveryConfig;
  scheduler: SchedulerConfig;
}

/** Parses an environment (process.env by default, only in entrypoints) into a Config, or throws ConfigError. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset" for optional values: `FOO=` in a .env file should not be a URL error.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        message: issue.message,
      })),
    );
  }
  const e = parsed.data;
  if (e.UPSTREAM_RETRY_MAX_MS < e.UPSTREAM_RETRY_BASE_MS) {
    throw new ConfigError([
      { variable: 'UPSTREAM_RETRY_MAX_MS', message: 'must be at least UPSTREAM_RETRY_BASE_MS' },
    ]);
  }
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    upstream: {
      url: e.UPSTREAM_URL,
      token: e.UPSTREAM_TOKEN,
      connections: e.UPSTREAM_CONNECTIONS,
      connectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: e.UPSTREAM_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: e.UPSTREAM_BODY_TIMEOUT_MS,
      retries: e.UPSTREAM_RETRIES,
      retryBaseMs: e.UPSTREAM_RETRY_BASE_MS,
      retryMaxMs: e.UPSTREAM_RETRY_MAX_MS,
      pageSize: e.UPSTREAM_PAGE_SIZE,
      pageConcurrency: e.UPSTREAM_PAGE_CONCURRENCY,
      breakerThreshold: e.UPSTREAM_BREAKER_THRESHOLD,
      breakerOpenMs: e.UPSTREAM_BREAKER_OPEN_MS,
    },
    redis: e.REDIS_URL
      ? { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS }
      : undefined,
    mode: e.REDIS_URL ? 'shared' : 'embedded',
    cache: {
      ttlMs: e.CACHE_TTL_SECONDS * 1000,
      staleTtlMs: e.CACHE_STALE_SECONDS * 1000,
      maxBytes: e.CACHE_MAX_MB * 1024 * 1024,
    },
    auth: { apiKeys: e.API_KEYS, metricsToken: e.METRICS_TOKEN },
    http: {
      corsOrigins: e.CORS_ORIGINS,
      rateLimitMax: e.RATE_LIMIT_MAX,
      rateLimitWindowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      requestDeadlineMs: e.REQUEST_DEADLINE_MS,
      staleWaitMs: Math.min(e.STALE_WAIT_MS, e.REQUEST_DEADLINE_MS),
    },
    businessTz: e.BUSINESS_TZ,
    display: { currency: e.CURRENCY, locale: e.LOCALE },
    analytics: {
      lateDataDays: e.LATE_DATA_DAYS,
      lateDataTtlMs: e.LATE_DATA_TTL_SECONDS * 1000,
      partitionTtlMs: e.PARTITION_TTL_DAYS * 86_400_000,
      partitionMemoryBytes: e.PARTITION_MEMORY_MB * 1024 * 1024,
      partitionRecheckMs: e.PARTITION_RECHECK_SECONDS * 1000,
      syncDayConcurrency: e.SYNC_DAY_CONCURRENCY,
      resultCacheTtlMs: e.RESULT_CACHE_SECONDS * 1000,
      today: e.ANALYTICS_TODAY,
    },
    alerts: { holidaysCountry: e.HOLIDAYS_COUNTRY?.toUpperCase() },
    reports: {
      exportsDir: e.EXPORTS_DIR,
      retentionMs: e.REPORT_RETENTION_DAYS * 86_400_000,
      linkSecret: e.REPORT_LINK_SECRET,
      linkTtlMs: e.REPORT_LINK_TTL_HOURS * 3_600_000,
      renderThreads: e.RENDER_THREADS,
    },
    jobs: { concurrency: e.JOB_CONCURRENCY, workerMetricsPort: e.WORKER_METRICS_PORT },
    database: databaseConfig(e),
    imports: {
      maxFileBytes: e.IMPORT_MAX_FILE_MB * 1024 * 1024,
      maxRows: e.IMPORT_MAX_ROWS,
      chunkSize: e.IMPORT_CHUNK_SIZE,
      inlineMaxBytes: e.IMPORT_INLINE_MAX_KB * 1024,
      maxUncompressedBytes: e.IMPORT_MAX_UNCOMPRESSED_MB * 1024 * 1024,
      maxZipEntries: e.IMPORT_MAX_ZIP_ENTRIES,
      maxZipRatio: e.IMPORT_MAX_ZIP_RATIO,
      retentionMs: e.IMPORT_RETENTION_DAYS * 86_400_000,
    },
    delivery: deliveryConfig(e),
    scheduler: schedulerConfig(e),
  };
}
