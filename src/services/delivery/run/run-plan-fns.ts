/**
 * A run's plan, as pure functions: which slices to render (one per distinct slice, never one per
 * recipient), what each slice's report is filtered to, the ids that make a run unique per period,
 * and the state a run ends in.
 */
import { createHash } from 'node:crypto';
import type { ReportFilters } from '../../../models/reports.ts';
import type { Recipient, RunState, Slice } from '../../../models/schedules.ts';

/** "all", "store:7" or "region:North": recipients with the same key share one rendered file. */
export function sliceKey(slice: Slice | undefined): string {
  if (!slice || (slice.storeId === undefined && slice.region === undefined)) return 'all';
  const parts: string[] = [];
  if (slice.storeId !== undefined) parts.push(`store:${slice.storeId}`);
  if (slice.region !== undefined) parts.push(`region:${slice.region}`);
  return parts.join('|');
}

export interface SliceGroup {
  key: string;
  slice: Slice | undefined;
  recipients: Recipient[];
}

/** Recipients grouped by slice, in the order each slice first appears. */
export function groupBySlice(recipients: readonly Recipient[]): SliceGroup[] {
  const groups = new Map<string, SliceGroup>();
  for (const r of recipients) {
    const key = sliceKey(r.slice);
    let g = groups.get(key);
    if (!g) {
      g = { key, slice: r.slice, recipients: [] };
      groups.set(key, g);
    }
    g.recipients.push(r);
  }
  return [...groups.values()];
}

/** The schedule's filters narrowed to the slice: a slice's store or region replaces that filter. */
export function sliceFilters(
  base: ReportFilters | undefined,
  slice: Slice | undefined,
): ReportFilters | undefined {
  const out: ReportFilters = { ...(base ?? {}) };
  if (slice?.storeId !== undefined) out.storeId = [slice.storeId];
  if (slice?.region !== undefined) out.region = [slice.region];
  return Object.keys(out).length ? out : undefined;
}

const hash = (...parts: string[]) =>
  createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22);

/**
 * The run of a schedule for a period fired by its cron (or caught up): one id per (schedule,
 * period), so any number of instances, a restart or a DST re-fire all name the same run. Manual
 * runs get their own ids; the ledger still sends each recipient once per period.
 */
export function automaticRunId(scheduleId: string, period: string): string {
  return `run-${hash(scheduleId, period)}`;
}

/** The file a slice's report is rendered to for a period: the same name when a run resumes. */
export function sliceFileName(
  scheduleId: string,
  period: string,
  slice: string,
  format: 'pdf' | 'xlsx',
): string {
  return `rep-dlv-${hash(scheduleId, period, slice, format)}.${format}`;
}

/** "daily-2026-12-02-store-7.pdf": what the recipient sees. */
export function friendlyFileName(
  type: string,
  period: string,
  slice: Slice | undefined,
  format: string,
): string {
  const part = (s: string) =>
    s
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase();
  const tail = [
    slice?.storeId !== undefined ? `store-${part(slice.storeId)}` : '',
    slice?.region !== undefined ? `region-${part(slice.region)}` : '',
  ].filter(Boolean);
  return `${[type, period, ...tail].join('-')}.${format}`;
}

export type RecipientState = 'sent' | 'failed' | 'unknown' | 'retrying' | 'pending' | 'sending' | 'skipped';

/**
 * success: everyone who was to get it has it; partial: some did, some failed or are unknown;
 * error: nobody did; noop: nothing was to be sent (empty or incomplete, by the schedule's options).
 * A caught-up run that succeeds is `late`.
 */
export function runStateOf(states: readonly RecipientState[], late: boolean): Exclude<RunState, 'working'> {
  const due = states.filter((s) => s !== 'skipped');
  if (due.length === 0) return 'noop';
  const sent = due.filter((s) => s === 'sent').length;
  if (sent === due.length) return late ? 'late' : 'success';
  return sent > 0 ? 'partial' : 'error';
}
