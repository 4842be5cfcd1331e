/**
 * Calendar and time-zone helpers. Business days are handled as integer day numbers (days since
 * 1970-01-01 in the proleptic Gregorian calendar) so that ranges, weekdays and map keys are cheap.
 */

const DAY_MS = 86_400_000;

/**
 * The business days this service accepts anywhere a date comes in (queries, bodies, imported
 * cells): wide enough for any retailer's history and plans, narrow enough that every derived day
 * (a comparison a year back, a window 30 days before) stays a four-digit year.
 */
export const SUPPORTED_DAYS = { from: '1900-01-01', to: '2199-12-31' } as const;

/** `YYYY-MM-DD` → day number, or undefined when the text is not a real calendar date. */
export function parseDay(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  // Not Date.UTC(y, …): it reads years 0 to 99 as 1900 to 1999.
  const back = new Date(0);
  back.setUTCFullYear(y, mo - 1, d);
  const ms = back.getTime();
  // Date.UTC silently rolls 2026-02-30 over to March: reject anything that does not round-trip.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return ms / DAY_MS;
}

const MIN_SUPPORTED_DAY = parseDay(SUPPORTED_DAYS.from) as number;
const MAX_SUPPORTED_DAY = parseDay(SUPPORTED_DAYS.to) as number;

/** Whether a day number lies within SUPPORTED_DAYS. */
export function isSupportedDay(day: number): boolean {
  return day >= MIN_SUPPORTED_DAY && day <= MAX_SUPPORTED_DAY;
}

export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** minutes east of UTC */
  offset: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Wall-clock date and time of an instant in `tz`, with that instant's UTC offset. */
export function localParts(epochMs: number, tz: string): LocalParts {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const y = p.year ?? 1970;
  const mo = p.month ?? 1;
  const d = p.day ?? 1;
  const h = p.hour ?? 0;
  const mi = p.minute ?? 0;
  const s = p.second ?? 0;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const wholeSeconds = Math.floor(epochMs / 1000) * 1000;
  return {
    day: Math.floor(wall / DAY_MS),
    hour: h,
    minute: mi,
    second: s,
    offset: Math.round((wall - wholeSeconds) / 60_000),
  };
}

/** UTC offset (minutes) in force at `minuteOfDay` local time on `day`. */
export function offsetOnDay(day: number, tz: string, minuteOfDay = 12 * 60): number {
  const wall = day * DAY_MS + minuteOfDay * 60_000;
  // Two rounds settle the offset except inside a DST gap, where either answer is acceptable.
  const first = localParts(wall, tz).offset;
  return localParts(wall - first * 60_000, tz).offset;
}

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** per time zone: the business day last resolved and the instants it starts and ends */
const todays = new Map<string, { day: number; from: number; until: number }>();

/**
 * The business day of `now` in `tz`. Asked on every request, it costs Intl (several µs) only when
 * `now` leaves the day last resolved: its bounds come from dayStartUtc, so midnight and DST
 * changes (a 23- or 25-hour day) are exact, and a clock moved back is handled too.
 */
export function todayIn(tz: string, now = Date.now()): number {
  const known = todays.get(tz);
  if (known && now >= known.from && now < known.until) return known.day;
  const day = localParts(now, tz).day;
  todays.set(tz, { day, from: dayStartUtc(day, tz), until: dayStartUtc(day + 1, tz) });
  return day;
}

/** An instant rendered as local ISO-8601 with its offset, e.g. `2026-03-29T10:15:00+02:00`. */
export function formatLocalIso(epochMs: number, tz: string): { day: number; iso: string } {
  const p = localParts(epochMs, tz);
  const ms = ((epochMs % 1000) + 1000) % 1000;
  const frac = ms === 0 ? '' : `.${String(ms).padStart(3, '0')}`;
  const iso = `${formatDay(p.day)}T${pad2(p.hour)}:${pad2(p.minute)}:${pad2(p.second)}${frac}${formatOffset(p.offset)}`;
  return { day: p.day, iso };
}

/** The same date `years` earlier or later; 29 February becomes 28 February in a common year. */
export function shiftYears(day: number, years: number): number {
  const d = new Date(day * DAY_MS);
  const y = d.getUTCFullYear() + years;
  const m = d.getUTCMonth();
  const lastOfMonth = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), lastOfMonth)) / DAY_MS;
}

/** ISO-8601 week key, e.g. `2026-W13` (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeekKey(day: number): string {
  const dow = (weekday(day) + 6) % 7; // 0 = Monday
  const thursday = day - dow + 3;
  const year = new Date(thursday * DAY_MS).getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1) / DAY_MS;
  const week = Math.floor((thursday - jan1) / 7) + 1;
  return `${year}-W${pad2(week)}`;
}

/** Calendar month key, e.g. `2026-03`. */
export function monthKey(day: number): string {
  return formatDay(day).slice(0, 7);
}

/** The instant (epoch ms) at which `day` starts in `tz`. */
export function dayStartUtc(day: number, tz: string): number {
  // The offset in force at local midnight; a DST change at midnight (rare) is settled by offsetOnDay.
  return day * DAY_MS - offsetOnDay(day, tz, 0) * 60_000;
}

/**
 * A function giving the business day (YYYY-MM-DD in `tz`) of an ISO timestamp. It remembers the
 * bounds of the last day seen: lines arrive in time order, so Intl (≈7 µs a call) runs once a day
 * instead of once a line.
 */
export function businessDayFormatter(tz: string): (iso: string) => string {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let label = '';
  return (iso) => {
    const t = Date.parse(iso);
    if (!(t >= lo && t < hi)) {
      const day = localParts(t, tz).day;
      lo = dayStartUtc(day, tz);
      hi = dayStartUtc(day + 1, tz);
      label = formatDay(day);
    }
    return label;
  };
}

/**
 * The wall-clock time of an ISO instant in `tz`, as epoch ms read as UTC (what a spreadsheet date
 * shows); NaN when the text is not a date. Offsets are looked up once per quarter hour of time (no
 * zone changes its offset within one), so a million lines cost a few thousand lookups.
 */
export function wallClockFormatter(tz: string): (iso: string) => number {
  const offsets = new Map<number, number>();
  return (iso) => {
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return Number.NaN;
    const quarter = Math.floor(t / 900_000);
    let offset = offsets.get(quarter);
    if (offset === undefined) {
      offset = localParts(quarter * 900_000, tz).offset;
      if (offsets.size > 100_000) offsets.clear();
      offsets.set(quarter, offset);
    }
    return t + offset * 60_000;
  };
}

/** English month names, January first (report titles, forecast feature notes). */
export const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;
