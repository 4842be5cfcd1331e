/**
 * Runs a schedule for one period: the job processor behind every fire, catch-up and manual run.
 *
 *   begin the run (the execution log) -> per slice: skip when everyone already has it, else build
 *   the document, wait for fresh data (freshness gate), render once, fan out through the ledger
 *   -> finish the run with each recipient's outcome.
 *
 * Nothing here sends twice: each recipient goes through the ledger sender, which claims before it
 * sends and finds the earlier outcome when the run is repeated.
 */

import { type DeliveryLedger, isSettled } from '../../../db/repos/delivery-ledger.ts';
import type { ScheduleRunsRepo } from '../../../db/repos/schedule-runs.ts';
import type { StoredSchedule } from '../../../db/repos/schedules.ts';
import type { RunSchedulePayload, RunScheduleResult } from '../../../jobs/job-registry.ts';
import type { JobContext } from '../../../jobs/queue-types.ts';
import { mapLimit } from '../../../lib/map-limit.ts';
import type { Recipient, Slice } from '../../../models/schedules.ts';
import type { ChannelKind } from '../channels/channel-types.ts';
import { type Period, periodFor, periodFromKey } from '../schedule-fns.ts';
import type { LedgerSender, StoredMessage } from '../send/ledger-sender.ts';
import { deliveryKey } from '../send/send-fns.ts';
import {
  groupBySlice,
  type RecipientState,
  runStateOf,
  type SliceGroup,
  sliceFilters,
} from './run-plan-fns.ts';
import type { SliceDocument, SliceReport } from './slice-report.ts';

export interface RecipientOutcome {
  channel: string;
  address: string;
  name?: string;
  slice: string;
  state: RecipientState;
  deliveryId?: string;
  attempts?: number;
  /** why it was skipped, or the last error */
  reason?: string;
  files?: string[];
}

export interface RunServiceDeps {
  loadSchedule(id: string): Promise<StoredSchedule | undefined>;
  runs: ScheduleRunsRepo;
  ledger: Pick<DeliveryLedger, 'byKey' | 'expireLeases'>;
  sender: Pick<LedgerSender, 'deliver'>;
  slices: SliceReport;
  concurrency: number;
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void };
  observeRun?: (trigger: string, state: string) => void;
  /** waits for the freshness gate's next look; rejects when the signal aborts */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

const FRESHNESS_POLL_MS = 60_000;
const SLICE_CONCURRENCY = 2;

export function keyFor(schedule: { id: string }, period: string, r: Recipient): string {
  return deliveryKey('schedule', schedule.id, period, r.channel, r.address);
}

export function runServiceFactory(deps: RunServiceDeps) {
  const now = deps.now ?? Date.now;

  function periodOf(
    schedule: StoredSchedule,
    payload: Pick<RunSchedulePayload, 'period' | 'fireAt'>,
  ): Period {
    if (payload.period) {
      const p = periodFromKey(schedule.report.type, payload.period);
      if (typeof p === 'string') throw new Error(p);
      return p;
    }
    return periodFor(schedule.report.type, Date.parse(payload.fireAt), schedule.timezone);
  }

  /** The slice's document, waiting up to `waitMinutes` (scheduled runs only) for complete data. */
  async function freshDocument(
    schedule: StoredSchedule,
    period: Period,
    slice: Slice | undefined,
    payload: RunSchedulePayload,
    signal?: AbortSignal,
  ): Promise<SliceDocument> {
    const build = () =>
      deps.slices.document(
        schedule.report.type,
        period.reportDate,
        sliceFilters(schedule.report.filters, slice),
        payload.fireAt,
      );
    let d = await build();
    const waitMs = payload.trigger === 'manual' ? 0 : schedule.options.freshness.waitMinutes * 60_000;
    const deadline = now() + waitMs;
    while (!d.complete && now() < deadline) {
      await deps.sleep(Math.min(FRESHNESS_POLL_MS, deadline - now()), signal);
      d = await build();
    }
    return d;
  }

  function messageFor(
    schedule: StoredSchedule,
    period: Period,
    d: SliceDocument,
    files: Awaited<ReturnType<SliceReport['files']>>,
    r: Recipient,
  ): StoredMessage {
    const incomplete = !d.complete;
    const subject = `${incomplete ? '[Incomplete data] ' : ''}${d.doc.title} ${period.key} · ${d.doc.scope}`;
    const lines = [`${d.doc.periodLabel} · ${d.doc.scope}`];
    if (incomplete)
      lines.push(
        "Some of this period's data was not complete when the report was made: figures may still change.",
      );
    return {
      subject,
      headline: d.headline,
      text: lines.join('\n'),
      incomplete,
      files: files.files,
      link: files.link,
      attach: schedule.options.attach,
      webhook: {
        schedule: { id: schedule.id, name: schedule.name },
        period: period.key,
        recipient: {
          channel: r.channel,
          address: r.address,
          ...(r.name ? { name: r.name } : {}),
          slice: r.slice ?? null,
        },
        report: {
          type: schedule.report.type,
          period: { key: period.key, from: period.from, to: period.to },
          scope: d.doc.scope,
          complete: d.complete,
          kpis: d.headline,
          downloadUrl: files.link.url,
        },
      },
    };
  }

  /** Recipients of a slice whose delivery for the period is already settled (a repeated run). */
  async function settledOf(schedule: StoredSchedule, period: string, group: SliceGroup) {
    const rows = await Promise.all(
      group.recipients.map((r) => deps.ledger.byKey(keyFor(schedule, period, r))),
    );
    return rows;
  }

  async function runSlice(
    schedule: StoredSchedule,
    period: Period,
    group: SliceGroup,
    payload: RunSchedulePayload,
    signal?: AbortSignal,
  ): Promise<RecipientOutcome[]> {
    const base = (r: Recipient): RecipientOutcome => ({
      channel: r.channel,
      address: r.address,
      ...(r.name ? { name: r.name } : {}),
      slice: group.key,
      state: 'pending',
    });
    const existing = await settledOf(schedule, period.key, group);
    if (existing.every((row) => row && isSettled(row.state))) {
      // Everyone has their outcome already: nothing to render, nothing to send.
      return group.recipients.map((r, i) => ({
        ...base(r),
        state: existing[i]!.state as RecipientState,
        deliveryId: existing[i]!.id,
        attempts: existing[i]!.attempts,
        ...(existing[i]!.error ? { reason: existing[i]!.error! } : {}),
      }));
    }
    const d = await freshDocument(schedule, period, group.slice, payload, signal);
    const skip = (reason: string) =>
      group.recipients.map((r) => ({ ...base(r), state: 'skipped' as const, reason }));
    if (!d.complete && schedule.options.freshness.onIncomplete === 'skip')
      return skip('data incomplete (freshness: skip)');
    if (d.empty && schedule.options.skipIfEmpty) return skip('no sales in the period (skipIfEmpty)');
    const files = await deps.slices.files(
      d,
      { scheduleId: schedule.id, period: period.key, sliceKey: group.key, slice: group.slice },
      schedule.report.format,
    );
    return mapLimit(group.recipients, deps.concurrency, async (r) => {
      const out = await deps.sender.deliver(
        {
          key: keyFor(schedule, period.key, r),
          source: 'schedule',
          sourceId: schedule.id,
          period: period.key,
          channel: r.channel as ChannelKind,
          address: r.address,
          ...(r.name ? { name: r.name } : {}),
          ...(r.slice ? { slice: r.slice } : {}),
          message: messageFor(schedule, period, d, files, r),
        },
        signal,
      );
      return {
        ...base(r),
        state: out.state,
        deliveryId: out.deliveryId,
        attempts: out.attempts,
        files: files.files.map((f) => f.filename),
        ...(out.error ? { reason: out.error } : {}),
      };
    });
  }

  return {
    periodOf,

    /** The job processor: one run of a schedule for one period. */
    async process(
      payload: RunSchedulePayload,
      ctx: Pick<JobContext, 'signal' | 'log'>,
    ): Promise<RunScheduleResult> {
      const schedule = await deps.loadSchedule(payload.scheduleId);
      const empty = { runId: payload.runId, sent: 0, failed: 0, unknown: 0, skipped: 0 };
      if (!schedule) return { ...empty, state: 'noop' };
      const period = periodOf(schedule, payload);
      await deps.ledger.expireLeases();
      await deps.runs.begin({
        id: payload.runId,
        scheduleId: schedule.id,
        period: period.key,
        trigger: payload.trigger,
        fireAt: payload.fireAt,
        late: payload.late,
      });
      try {
        // Two slices at a time: one builds its document while the other renders or sends.
        const perSlice = await mapLimit(groupBySlice(schedule.recipients), SLICE_CONCURRENCY, (group) =>
          runSlice(schedule, period, group, payload, ctx.signal),
        );
        const outcomes = perSlice.flat();
        const state = runStateOf(
          outcomes.map((o) => o.state),
          payload.late,
        );
        await deps.runs.finish(payload.runId, state, outcomes);
        deps.observeRun?.(payload.trigger, state);
        const count = (s: string) => outcomes.filter((o) => o.state === s).length;
        deps.logger.info(
          { scheduleId: schedule.id, runId: payload.runId, period: period.key, state, sent: count('sent') },
          'schedule run finished',
        );
        return {
          runId: payload.runId,
          state,
          sent: count('sent'),
          failed: count('failed'),
          unknown: count('unknown'),
          skipped: count('skipped'),
        };
      } catch (err) {
        await deps.runs
          .finish(payload.runId, 'error', null, (err as Error).message)
          .catch((e: unknown) => deps.logger.warn({ err: e }, 'could not record the run error'));
        deps.observeRun?.(payload.trigger, 'error');
        throw err;
      }
    },
  };
}

export type RunService = ReturnType<typeof runServiceFactory>;
