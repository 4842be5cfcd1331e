/**
 * The one place that reads the environment. Everything else receives a typed `Config`.
 *
 * A bad value stops the process at start-up with a message naming the variable: a service that
 * starts with a typo in its configuration fails later, at 3 a.m., in a less obvious way.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Cron } from 'croner';
import { z } from 'zod';
import { isKnownHolidayCountry } from './lib/holidays.ts';

export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKeyEntry {
  /** sha256 of the key, hex; plain keys are hashed at load so only hashes stay in memory */
  hash: string;
  role: Role;
}

const intFrom = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

const booleanFlag = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? def : v === 'true' || v === '1' || v === 'yes'));

const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

function isCronPattern(v: string): boolean {
  try {
    new Cron(v, { paused: true });
    return true;
  } catch {
    return false;
  }
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** `key:role` pairs, comma-separated; a key may be given hashed as `sha256=<64 hex>`. */
const apiKeys = z.string({ error: 'is required: comma-separated key:role pairs' }).transform((raw, ctx) => {
  const entries: ApiKeyEntry[] = [];
  for (const [i, part] of raw.split(',').entries()) {
    const item = part.trim();
    if (!item) continue;
    const sep = item.lastIndexOf(':');
    const key = sep > 0 ? item.slice(0, sep) : '';
    const role = sep > 0 ? item.slice(sep + 1) : '';
    if (!key || !(ROLES as readonly string[]).includes(role)) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${i + 1} must be key:role with role one of ${ROLES.join(', ')}`,
      });
      continue;
    }
    let hash: string;
    if (key.startsWith('sha256=')) {
      hash = key.slice('sha256='.length).toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(hash)) {
        ctx.addIssue({
          code: 'custom',
          message: `entry ${i + 1}: sha256= must be followed by 64 hex digits`,
        });
        continue;
      }
    } else {
      if (key.length < 8) {
        ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: a key must have at least 8 characters` });
        continue;
      }
      hash = sha256Hex(key);
    }
    entries.push({ hash, role: role as Role });
  }
  if (entries.length === 0)
    ctx.addIssue({ code: 'custom', message: 'at least one key:role pair is required' });
  return entries;
});

const url = (protocols: string[]) =>
  z.url().refine((u) => URL.canParse(u) && protocols.includes(new URL(u).protocol), {
    message: `must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL`,
  });

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as Europe/Paris' },
);

const currency = z
  .string()
  .transform((c) => c.toUpperCase())
  .refine((c) => Intl.supportedValuesOf('currency').includes(c), {
    message: 'must be an ISO 4217 currency code such as EUR, USD or GBP',
  });

const locale = z.string().refine(
  (l) => {
    try {
      return Intl.NumberFormat.supportedLocalesOf([l]).length === 1;
    } catch {
      return false;
    }
  },
  { message: 'must be a BCP 47 locale this Node.js knows, such as en-GB, fr-FR or de-DE' },
);

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

  DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: z.string().min(1).optional(),
  DATABASE_POOL_SIZE: intFrom(10, 1, 200),
  DATABASE_TIMEOUT_MS: intFrom(5_000, 100, 120_000),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  MAIL_FROM: z
    .string()
    .regex(/^[^\r\n]*@[^\r\n]+$/, 'must be an address such as "SalesFlow <reports@example.com>"')
    .default('SalesFlow Reports <reports@salesflow.local>'),
  ATTACHMENT_MAX_MB: intFrom(10, 1, 1_024),
  DELIVERY_TIMEOUT_MS: intFrom(30_000, 100, 600_000),
  WHATSAPP_API_URL: url(['http:', 'https:']).default('https://graph.facebook.com/v21.0'),
  WHATSAPP_TOKEN: z.string().min(8).optional(),
  WHATSAPP_PHONE_NUMBER_ID: z
    .string()
    .regex(/^\d{5,20}$/, 'must be the numeric phone number id')
    .optional(),
  WHATSAPP_TEMPLATE: z
    .string()
    .regex(/^[a-z0-9_]{1,512}$/, 'must be a template name (lowercase letters, digits, _)')
    .optional(),
  WHATSAPP_TEMPLATE_LANGUAGE: z
    .string()
    .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a language code such as en or en_US')
    .default('en'),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xox[a-z]-/, 'must be a Slack bot token (xoxb-...)')
    .optional(),
  SLACK_API_URL: url(['http:', 'https:']).default('https://slack.com/api'),
  WEBHOOK_SECRET: z.string().min(16, 'must have at least 16 characters').optional(),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  DELIVERY_MAX_ATTEMPTS: intFrom(5, 1, 20),
  DELIVERY_RETRY_BASE_MS: intFrom(30_000, 10, 3_600_000),
  DELIVERY_CONCURRENCY: intFrom(8, 1, 64),
  SCHEDULER_ENABLED: booleanFlag(true),
  SCHEDULE_WORKING_TIMEOUT_MINUTES: intFrom(60, 1, 1_440),
  ALERTS_CRON: z
    .string()
    .trim()
    .default('15 7 * * *')
    .refine(isCronPattern, { message: 'must be a cron pattern such as "15 7 * * *"' }),
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
  /** scheduled delivery channels; each is optional (see services/delivery/channels) */
  delivery: {
    /** unset: e-mails are written as .eml files under EXPORTS_DIR/outbox */
    smtpUrl: string | undefined;
    mailFrom: string;
    /** files over this go as the signed link when a recipient's attach option is auto */
    attachmentMaxBytes: number;
    /** the longest one send attempt may take */
    timeoutMs: number;
    whatsapp:
      | {
          apiUrl: string;
          token: string;
          phoneNumberId: string;
          template: string | undefined;
          templateLanguage: string;
        }
      | undefined;
    slack: { apiUrl: string; botToken: string | undefined };
    webhookSecret: string | undefined;
    /** how recipients reach this service: the base of the signed download links they are sent */
    publicUrl: string;
    /** attempts per recipient, the first included, before a transient error counts as failed */
    maxAttempts: number;
    /** retry n waits base × 2^(n-1), or the provider's Retry-After when longer */
    retryBaseMs: number;
    /** recipients sent to at once within one run */
    concurrency: number;
  };
  /** the schedule runner (croner in embedded mode, BullMQ job schedulers in shared mode) */
  scheduler: {
    /** false: schedules are stored and can be run by hand, but nothing fires by itself */
    enabled: boolean;
    /** a run still `working` after this long is marked `error` (it may then be retried) */
    workingTimeoutMs: number;
    /** the built-in daily alert check, in BUSINESS_TZ */
    alertsCron: string;
  };
}

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string; timeoutMs: number }
  | { kind: 'postgres'; url: string; poolSize: number; timeoutMs: number };

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * DATABASE_URL is a postgres:// URL, or a SQLite file (a path, or `sqlite:<path>`); unset, a SQLite
 * file under DATA_DIR. Shared mode needs PostgreSQL: a SQLite file cannot be shared by instances
 * on several machines.
 */
function databaseConfig(e: ParsedEnv): DatabaseConfig {
  const raw = e.DATABASE_URL;
  if (raw && POSTGRES_URL.test(raw)) {
    if (!URL.canParse(raw)) {
      throw new ConfigError([{ variable: 'DATABASE_URL', message: 'is not a valid postgres:// URL' }]);
    }
    return { kind: 'postgres', url: raw, poolSize: e.DATABASE_POOL_SIZE, timeoutMs: e.DATABASE_TIMEOUT_MS };
  }
  if (e.REDIS_URL) {
    throw new ConfigError([
      {
        variable: 'DATABASE_URL',
        message:
          'shared mode (REDIS_URL set) needs a PostgreSQL DATABASE_URL (postgres://user:password@host:5432/db): ' +
          'a SQLite file cannot be shared by instances on several machines',
      },
    ]);
  }
  if (raw && /^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new ConfigError([
      {
        variable: 'DATABASE_URL',
        message: 'must be a postgres:// URL or a SQLite file path (sqlite:<path>)',
      },
    ]);
  }
  const file = raw ? raw.replace(/^sqlite:/i, '') : join(e.DATA_DIR, 'salesflow.sqlite');
  return { kind: 'sqlite', file, timeoutMs: e.DATABASE_TIMEOUT_MS };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}\n` +
        'See .env.example for every variable and its default.',
    );
  }
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
  if (Boolean(e.WHATSAPP_TOKEN) !== Boolean(e.WHATSAPP_PHONE_NUMBER_ID)) {
    throw new ConfigError([
      {
        variable: e.WHATSAPP_TOKEN ? 'WHATSAPP_PHONE_NUMBER_ID' : 'WHATSAPP_TOKEN',
        message: 'WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are set together or not at all',
      },
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
    delivery: {
      smtpUrl: e.SMTP_URL,
      mailFrom: e.MAIL_FROM,
      attachmentMaxBytes: e.ATTACHMENT_MAX_MB * 1024 * 1024,
      timeoutMs: e.DELIVERY_TIMEOUT_MS,
      whatsapp:
        e.WHATSAPP_TOKEN && e.WHATSAPP_PHONE_NUMBER_ID
          ? {
              apiUrl: e.WHATSAPP_API_URL,
              token: e.WHATSAPP_TOKEN,
              phoneNumberId: e.WHATSAPP_PHONE_NUMBER_ID,
              template: e.WHATSAPP_TEMPLATE,
              templateLanguage: e.WHATSAPP_TEMPLATE_LANGUAGE,
            }
          : undefined,
      slack: { apiUrl: e.SLACK_API_URL, botToken: e.SLACK_BOT_TOKEN },
      webhookSecret: e.WEBHOOK_SECRET,
      publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
      maxAttempts: e.DELIVERY_MAX_ATTEMPTS,
      retryBaseMs: e.DELIVERY_RETRY_BASE_MS,
      concurrency: e.DELIVERY_CONCURRENCY,
    },
    scheduler: {
      enabled: e.SCHEDULER_ENABLED,
      workingTimeoutMs: e.SCHEDULE_WORKING_TIMEOUT_MINUTES * 60_000,
      alertsCron: e.ALERTS_CRON,
    },
  };
}
