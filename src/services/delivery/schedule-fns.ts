/**
 * When a schedule fires and which period a run covers: pure functions of the cron, the schedule's
 * time zone and the fire time.
 *
 * The period comes from the schedule's local calendar, never from a UTC timestamp: a daily report
 * fired on 2 December at 07:00 in Paris covers 1 December there, whatever the UTC date. Since the
 * period key depends only on the local date of the fire, a DST re-fire, a restart or two instances
 * firing together all produce the same key, which the delivery ledger makes deliver once.
 */
import { Cron } from 'croner';
import { formatDay, isoWeekKey, localParts, monthKey, parseDay, weekday } from '../../lib/calendar.ts';
import type { ScheduleReportType } from '../../models/schedules.ts';

export interface Period {
  /** the ledger's period key: 2026-12-01, 2026-W48 or 2026-11 */
  key: string;
  /** first and last business day covered, inclusive */
  from: string;
  to: string;
  /** the `date` the report is asked for (the report derives the same period from it) */
  reportDate: string;
}

const MONDAY = 1;

/** The period a run fired at `fireAtMs` covers: the day, ISO week or month before, in `tz`. */
export function periodFor(type: ScheduleReportType, fireAtMs: number, tz: string): Period {
  const today = localParts(fireAtMs, tz).day;
  if (type === 'daily') {
    const day = formatDay(today - 1);
    return { key: day, from: day, to: day, reportDate: day };
  }
  if (type === 'weekly') {
    const monday = today - ((weekday(today) - MONDAY + 7) % 7) - 7;
    return {
      key: isoWeekKey(monday),
      from: formatDay(monday),
      to: formatDay(monday + 6),
      reportDate: formatDay(today),
    };
  }
  const d = new Date(today * 86_400_000);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1) / 86_400_000;
  const last = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 0) / 86_400_000;
  return { key: monthKey(first), from: formatDay(first), to: formatDay(last), reportDate: formatDay(today) };
}

/** An error message for a cron pattern croner refuses (5 or 6 fields), or undefined. */
export function cronProblem(pattern: string): string | undefined {
  try {
    new Cron(pattern, { paused: true });
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '');
  }
}

/**
 * The fire times in (afterMs, untilMs], in order, at most `max` (the latest ones). In a DST gap a
 * local time that does not exist fires once, at the end of the gap; in a repeated hour it fires
 * once, at the first occurrence.
 */
export function firesBetween(
  pattern: string,
  tz: string,
  afterMs: number,
  untilMs: number,
  max: number,
): number[] {
  const cron = new Cron(pattern, { timezone: tz, paused: true });
  const fires: number[] = [];
  let cursor = new Date(afterMs);
  for (;;) {
    const next = cron.nextRun(cursor);
    if (!next || next.getTime() > untilMs) break;
    fires.push(next.getTime());
    if (fires.length > max) fires.shift();
    cursor = next;
  }
  return fires;
}

/** The next fire time after `afterMs`, or null when the pattern never fires again. */
export function nextFire(pattern: string, tz: string, afterMs: number): number | null {
  return new Cron(pattern, { timezone: tz, paused: true }).nextRun(new Date(afterMs))?.getTime() ?? null;
}

/**
 * The period of a key a user names (`POST /schedules/{id}/run {period}`): a day for daily
 * reports, an ISO week (2026-W48) for weekly, a month (2026-11) for monthly. A string naming the
 * reason when the key does not fit the type.
 */
export function periodFromKey(type: ScheduleReportType, key: string): Period | string {
  if (type === 'daily') {
    const day = parseDay(key);
    if (day === undefined) return 'a daily schedule takes a day: YYYY-MM-DD';
    return { key, from: key, to: key, reportDate: key };
  }
  if (type === 'weekly') {
    const m = /^(\d{4})-W(\d{2})$/.exec(key);
    if (!m) return 'a weekly schedule takes an ISO week: YYYY-Www (e.g. 2026-W48)';
    // ISO week 1 holds 4 January; its Monday starts the year's weeks
    const jan4 = Date.UTC(Number(m[1]), 0, 4) / 86_400_000;
    const monday = jan4 - ((weekday(jan4) + 6) % 7) + (Number(m[2]) - 1) * 7;
    if (Number(m[2]) < 1 || isoWeekKey(monday) !== key) return `${key} is not an ISO week`;
    return { key, from: formatDay(monday), to: formatDay(monday + 6), reportDate: formatDay(monday + 7) };
  }
  const m = /^(\d{4})-(\d{2})$/.exec(key);
  const month = m ? Number(m[2]) : 0;
  if (!m || month < 1 || month > 12) return 'a monthly schedule takes a month: YYYY-MM';
  const first = Date.UTC(Number(m[1]), month - 1, 1) / 86_400_000;
  const next = Date.UTC(Number(m[1]), month, 1) / 86_400_000;
  return { key, from: formatDay(first), to: formatDay(next - 1), reportDate: formatDay(next) };
}
