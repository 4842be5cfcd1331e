/**
 * The windows of a sales query, as pure functions: the period (from the query and today), the
 * comparison windows, and the time buckets (days, ISO weeks, months) a period is grouped into.
 */
import { formatDay, isoWeekKey, monthKey, parseDay, shiftYears } from '../../lib/calendar.ts';
import type { SalesQuery } from '../../models/analytics.ts';
import type { Dim } from './aggregate-fns.ts';

type CompareMode = SalesQuery['compare'];

/** A comparison: windows of earlier days, each mapped onto the current period's days. */
export interface Comparison {
  mode: CompareMode;
  from: number;
  to: number;
  /** each shift maps a current day d to the comparison day shift(d) */
  shifts: ((d: number) => number)[];
  /** rolling_7d: a baseline window, not a mapping */
  baseline?: number[];
}

export function resolveWindow(
  query: Pick<SalesQuery, 'from' | 'to'>,
  today: number,
): { from: number; to: number } {
  const to = query.to
    ? parseDay(query.to)!
    : query.from
      ? Math.min(parseDay(query.from)! + 29, today - 1)
      : today - 1;
  const from = query.from ? parseDay(query.from)! : to - 29;
  return { from, to: Math.max(from, to) };
}

export function comparisonFor(mode: CompareMode, from: number, to: number): Comparison | null {
  const days = to - from + 1;
  switch (mode) {
    case 'none':
      return null;
    case 'previous_period':
      return { mode, from: from - days, to: to - days, shifts: [(d) => d - days] };
    case 'previous_year':
      return { mode, from: shiftYears(from, -1), to: shiftYears(to, -1), shifts: [(d) => shiftYears(d, -1)] };
    case 'same_weekday_4w':
      return { mode, from: from - 28, to: to - 7, shifts: [7, 14, 21, 28].map((k) => (d: number) => d - k) };
    case 'rolling_7d': {
      const baseline = Array.from({ length: 7 }, (_, i) => from - 7 + i);
      return { mode, from: from - 7, to: from - 1, shifts: [], baseline };
    }
  }
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let d = from; d <= to; d++) out.push(d);
  return out;
}

export const timeKeyOf: Record<string, (d: number) => string> = {
  day: formatDay,
  week: isoWeekKey,
  month: monthKey,
};

/** The buckets of one time dimension over a period: keys in time order, and days of the period in each. */
export interface TimeBuckets {
  keys: string[];
  index: Map<string, number>;
  days: number[];
  /** per bucket: the period cuts it (a week or month of which some days are outside the window) */
  partial: boolean[];
}

function daysInMonth(day: number): number {
  const d = new Date(day * 86_400_000);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

export function timeBuckets(periodDays: number[], timeDims: Dim[]): Partial<Record<Dim, TimeBuckets>> {
  const buckets: Partial<Record<Dim, TimeBuckets>> = {};
  for (const dim of timeDims) {
    const b: TimeBuckets = { keys: [], index: new Map(), days: [], partial: [] };
    const full: number[] = [];
    for (const d of periodDays) {
      const key = timeKeyOf[dim]!(d);
      let i = b.index.get(key);
      if (i === undefined) {
        i = b.keys.length;
        b.index.set(key, i);
        b.keys.push(key);
        b.days.push(0);
        full.push(dim === 'week' ? 7 : dim === 'month' ? daysInMonth(d) : 1);
      }
      b.days[i]!++;
    }
    b.partial = b.days.map((n, i) => n < full[i]!);
    buckets[dim] = b;
  }
  return buckets;
}
