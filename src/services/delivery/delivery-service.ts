/**
 * What the API asks of scheduled delivery: run a schedule now (or plan it, dry), read the
 * execution log, list deliveries and resend one on purpose.
 */

import { randomBytes } from 'node:crypto';
import {
  type DeliveryLedger,
  type DeliveryRow,
  type DeliveryState,
  isSettled,
} from '../../db/repos/delivery-ledger.ts';
import type { ScheduleRunsRepo } from '../../db/repos/schedule-runs.ts';
import type { StoredSchedule } from '../../db/repos/schedules.ts';
import type { ScheduleRunsTable } from '../../db/schema.ts';
import { AppError, NotFoundError, ValidationError } from '../../errors.ts';
import type { AppJobQueue } from '../../jobs/job-registry.ts';
import { queueProblem } from '../queue-problem.ts';
import { friendlyFileName, groupBySlice, sliceKey } from './run/run-plan-fns.ts';
import { keyFor } from './run/run-service.ts';
import { periodFor, periodFromKey } from './schedule-fns.ts';

const QUEUE = 'deliveries';

export interface DeliveryServiceDeps {
  load(id: string): Promise<StoredSchedule>;
  runs: ScheduleRunsRepo;
  ledger: DeliveryLedger;
  jobs: Pick<AppJobQueue, 'enqueue'>;
  now?: () => number;
}

function runToApi(r: ScheduleRunsTable) {
  return {
    id: r.id,
    scheduleId: r.schedule_id,
    period: r.period,
    trigger: r.trigger as 'cron' | 'catch_up' | 'manual',
    state: r.state as 'working' | 'success' | 'partial' | 'error' | 'noop' | 'late',
    late: r.late === 1,
    fireAt: r.fire_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    attempts: r.attempts,
    error: r.error,
    recipients: r.outcome ? (JSON.parse(r.outcome) ?? []) : [],
  };
}

function deliveryToApi(d: DeliveryRow) {
  const detail = d.detail ? (JSON.parse(d.detail) as { name?: string }) : {};
  return {
    id: d.id,
    source: d.source,
    sourceId: d.source_id,
    period: d.period,
    channel: d.channel as 'email' | 'whatsapp' | 'slack' | 'webhook',
    address: d.address,
    ...(detail.name ? { name: detail.name } : {}),
    state: d.state as 'pending' | 'sending' | 'sent' | 'failed' | 'retrying' | 'unknown',
    attempts: d.attempts,
    providerMessageId: d.provider_message_id,
    error: d.error,
    nextAttemptAt: d.state === 'retrying' ? d.next_attempt_at : null,
    createdAt: d.created_at,
    updatedAt: d.updated_at,
    sentAt: d.sent_at,
  };
}

export function deliveryServiceFactory(deps: DeliveryServiceDeps) {
  const now = deps.now ?? Date.now;

  function periodOf(schedule: StoredSchedule, key: string | undefined) {
    if (key === undefined) return periodFor(schedule.report.type, now(), schedule.timezone);
    const p = periodFromKey(schedule.report.type, key);
    if (typeof p === 'string')
      throw new ValidationError(`body.period: ${p}`, [{ path: 'body.period', message: p }]);
    return p;
  }

  return {
    /** Who would get which file for the period: sends nothing, renders nothing. */
    async plan(id: string, periodKey?: string) {
      const schedule = await deps.load(id);
      const period = periodOf(schedule, periodKey);
      const formats = schedule.report.format === 'both' ? ['pdf', 'xlsx'] : [schedule.report.format];
      const groups = groupBySlice(schedule.recipients);
      const recipients = await Promise.all(
        schedule.recipients.map(async (r) => {
          const row = await deps.ledger.byKey(keyFor(schedule, period.key, r));
          return {
            channel: r.channel,
            address: r.address,
            ...(r.name ? { name: r.name } : {}),
            slice: sliceKey(r.slice),
            files: formats.map((f) => friendlyFileName(schedule.report.type, period.key, r.slice, f)),
            alreadyDelivered: row !== undefined && isSettled(row.state),
          };
        }),
      );
      return {
        dryRun: true as const,
        period: { key: period.key, from: period.from, to: period.to },
        renders: groups.length * formats.length,
        recipients,
      };
    },

    /** Enqueues a manual run of the period (the ledger still sends each recipient once). */
    async start(id: string, periodKey?: string) {
      const schedule = await deps.load(id);
      const period = periodOf(schedule, periodKey);
      const runId = `run-m-${randomBytes(12).toString('base64url')}`;
      try {
        await deps.jobs.enqueue(
          QUEUE,
          'run',
          {
            scheduleId: id,
            runId,
            period: period.key,
            fireAt: new Date(now()).toISOString(),
            trigger: 'manual',
            late: false,
          },
          { jobId: runId, attempts: 3, backoffMs: 30_000 },
        );
      } catch (err) {
        throw queueProblem(err);
      }
      return { runId, period: period.key, statusUrl: `/api/v1/schedules/${id}/runs/${runId}` };
    },

    async runs(id: string, page: { limit: number; offset: number }) {
      await deps.load(id);
      const { items, total } = await deps.runs.list(id, page);
      return { items: items.map(runToApi), total, ...page };
    },

    async runOf(id: string, runId: string) {
      const run = await deps.runs.get(runId);
      if (!run || run.schedule_id !== id) throw new NotFoundError(`No run ${runId} of schedule ${id}.`);
      return runToApi(run);
    },

    async deliveries(filter: {
      state?: DeliveryState | undefined;
      schedule?: string | undefined;
      source?: 'schedule' | 'alert' | undefined;
      from?: string | undefined;
      to?: string | undefined;
      limit: number;
      offset: number;
    }) {
      const { items, total } = await deps.ledger.list({
        state: filter.state,
        source: filter.schedule ? 'schedule' : filter.source,
        sourceId: filter.schedule,
        from: filter.from ? new Date(filter.from).toISOString() : undefined,
        to: filter.to ? new Date(filter.to).toISOString() : undefined,
        limit: filter.limit,
        offset: filter.offset,
      });
      return { items: items.map(deliveryToApi), total, limit: filter.limit, offset: filter.offset };
    },

    async delivery(id: string) {
      const row = await deps.ledger.get(id);
      if (!row) throw new NotFoundError(`No delivery ${id}.`);
      return deliveryToApi(row);
    },

    /**
     * An admin's resend, on purpose: a failed or unknown delivery is sent again under its own key;
     * a sent one (the recipient lost it) as a new copy. Not while it is in progress (409).
     */
    async resend(id: string) {
      const row = await deps.ledger.get(id);
      if (!row) throw new NotFoundError(`No delivery ${id}.`);
      if (!(await deps.ledger.reopen(id))) {
        throw new AppError(
          409,
          'delivery-not-resendable',
          'Delivery cannot be resent',
          `Delivery ${id} is ${row.state}: it can be resent once it is sent, failed or unknown.`,
        );
      }
      try {
        await deps.jobs.enqueue(
          QUEUE,
          'resend',
          { deliveryId: id },
          { jobId: `resend-${id}-${row.attempts}-${row.resends}`, attempts: 1 },
        );
      } catch (err) {
        throw queueProblem(err);
      }
      return { deliveryId: id, state: 'pending' as const, statusUrl: `/api/v1/deliveries/${id}` };
    },
  };
}

export type DeliveryService = ReturnType<typeof deliveryServiceFactory>;
