/**
 * Scheduled delivery, wired: the channels, the exactly-once ledger and its sender, schedules, the
 * runs (one render per slice, fan-out through the ledger), what makes schedules fire (croner or
 * BullMQ job schedulers) and the `deliveries` queue's processors. The container calls it once.
 */

import { setTimeout as wait } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import { deliveryLedgerFactory } from '../db/repos/delivery-ledger.ts';
import { scheduleRunsRepoFactory } from '../db/repos/schedule-runs.ts';
import { schedulesRepoFactory } from '../db/repos/schedules.ts';
import { createBullmqSchedulers } from '../jobs/bullmq-schedulers.ts';
import { bullmqPrefix } from '../jobs/job-queue-factory.ts';
import type { AppJobQueue, AppProcessors } from '../jobs/job-registry.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { AlertCheckService } from '../services/alerts/check-service.ts';
import type { CatalogService } from '../services/catalog-service.ts';
import { createChannels } from '../services/delivery/channels/create-channels.ts';
import { deliveryServiceFactory } from '../services/delivery/delivery-service.ts';
import { runServiceFactory } from '../services/delivery/run/run-service.ts';
import { type ScheduleRunner, scheduleRunnerFactory } from '../services/delivery/run/schedule-runner.ts';
import { scheduleTickerFactory } from '../services/delivery/run/schedule-ticker.ts';
import { sliceReportFactory } from '../services/delivery/run/slice-report.ts';
import { scheduleServiceFactory } from '../services/delivery/schedule-service.ts';
import { ledgerSenderFactory } from '../services/delivery/send/ledger-sender.ts';
import type { ReportBuilders } from '../services/reports/report-builders.ts';
import type { ReportService } from '../services/reports/report-service.ts';

/** A delivery left pending (or due for a retry) this long has lost its sender: another takes it. */
const STALLED_AFTER_MS = 10 * 60_000;

export interface DeliveryWiringDeps {
  config: Config;
  logger: FastifyBaseLogger;
  db: Db;
  redis: Redis | undefined;
  metrics: Metrics;
  jobs: AppJobQueue;
  catalog: Pick<CatalogService, 'stores'>;
  builders: ReportBuilders;
  reports: ReportService;
  /** the alert check, made after this (it sends through this sender): asked for when it runs */
  alertCheck: () => AlertCheckService;
}

export function wireDelivery({
  config,
  logger,
  db,
  redis,
  metrics,
  jobs,
  catalog,
  builders,
  reports,
  alertCheck,
}: DeliveryWiringDeps) {
  const channels = createChannels(config, logger);
  const ledger = deliveryLedgerFactory(db);
  const sender = ledgerSenderFactory({
    ledger,
    channels,
    policy: {
      maxAttempts: config.delivery.maxAttempts,
      retryBaseMs: config.delivery.retryBaseMs,
      timeoutMs: config.delivery.timeoutMs,
    },
    logger,
    observe: (e) => metrics.deliveryAttempts.observe({ channel: e.channel, outcome: e.outcome }, e.seconds),
  });
  const schedulesRepo = schedulesRepoFactory(db);
  const runs = scheduleRunsRepoFactory(db);
  let schedulerRef: ScheduleRunner | undefined;
  const schedules = scheduleServiceFactory({
    repo: schedulesRepo,
    onChange: async (id, schedule) => {
      // The schedule is stored: a timer that cannot be re-armed now is re-armed at the next start.
      await schedulerRef
        ?.changed(id, schedule)
        .catch((err: unknown) => logger.warn({ err, scheduleId: id }, 'schedule timer not updated'));
    },
    channels,
    catalog: {
      stores: async () => (await catalog.stores()).value.map((s) => ({ id: String(s.id), region: s.region })),
    },
    businessTz: config.businessTz,
  });
  const runService = runServiceFactory({
    loadSchedule: (id) => schedulesRepo.get(id),
    runs,
    ledger,
    sender,
    slices: sliceReportFactory({
      builders,
      reports,
      display: config.display,
      publicUrl: config.delivery.publicUrl,
      onRender: () => metrics.deliveryRenders.inc(),
    }),
    concurrency: config.delivery.concurrency,
    logger,
    observeRun: (trigger, state) => metrics.scheduleRuns.inc({ trigger, state }),
    sleep: (ms, signal) => wait(ms, undefined, { signal }),
  });
  const ticker = scheduleTickerFactory({
    runs,
    enqueueRun: async (payload) =>
      jobs.enqueue('deliveries', 'run', payload, { jobId: payload.runId, attempts: 3, backoffMs: 60_000 }),
  });
  const scheduler = scheduleRunnerFactory({
    listEnabled: async () => (await schedulesRepo.list({ enabled: true, limit: 100_000, offset: 0 })).items,
    load: (id) => schedulesRepo.get(id),
    ticker,
    runs,
    expireLeases: () => ledger.expireLeases(),
    resumeStalled: async () => {
      const cutoff = new Date(Date.now() - STALLED_AFTER_MS).toISOString();
      const rows = await ledger.stalled(cutoff, 500);
      for (const row of rows) {
        await jobs.enqueue(
          'deliveries',
          'resend',
          { deliveryId: row.id },
          { jobId: `resume-${row.id}-${row.attempts}`, attempts: 1 },
        );
      }
      return rows.length;
    },
    workingTimeoutMs: config.scheduler.workingTimeoutMs,
    // The built-in daily alert check goes through the same path as POST /alerts/check.
    alerts: {
      cron: config.scheduler.alertsCron,
      tz: config.businessTz,
      check: () => alertCheck().check({}),
    },
    ...(config.redis && redis
      ? {
          schedulers: createBullmqSchedulers({
            redis,
            prefix: bullmqPrefix(config.redis.keyPrefix),
            queue: 'deliveries',
          }),
        }
      : {}),
    logger,
  });
  schedulerRef = scheduler;
  const processors: AppProcessors['deliveries'] = {
    run: (payload, ctx) => runService.process(payload, ctx),
    fire: async ({ scheduleId }) => ({ enqueued: await scheduler.fire(scheduleId) }),
    resend: async ({ deliveryId }, ctx) => ({ state: (await sender.resume(deliveryId, ctx.signal)).state }),
    'alerts-check': async () => {
      const answer = await alertCheck().check({});
      return { day: answer.day, alerts: answer.alerts.length, deliveries: answer.deliveries.length };
    },
  };
  const deliveries = deliveryServiceFactory({ load: (id) => schedules.load(id), runs, ledger, jobs });
  return { channels, ledger, sender, schedules, deliveries, scheduler, processors };
}

export type DeliveryWiring = ReturnType<typeof wireDelivery>;
