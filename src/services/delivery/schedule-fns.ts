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
import { formatDay, isoWeekKey, localParts, monthKey, weekday } from '../../lib/calendar.ts';
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
