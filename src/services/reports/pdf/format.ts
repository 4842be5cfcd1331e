/**
 * How the PDF shows a value. The locale is fixed so the same document renders byte-identically on any
 * machine; dates are shown in UTC for the same reason (the document carries no time zone).
 */
import type { CellType, CellValue } from '../report-types.ts';

/** Keeps a figure and its unit (or arrow) on one line: table cells may wrap at ordinary spaces. */
export const NBSP = '\u00a0';
export const DASH = '\u2013';
export const ARROW_UP = '\u25b2';
export const ARROW_DOWN = '\u25bc';

export const GROWTH_UP_COLOR = '#1a7f37';
export const GROWTH_DOWN_COLOR = '#c62828';
export const MUTED_COLOR = '#6b7280';

const LOCALE = 'en-GB';
const money = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 3 });
/** 'number' with a fixed count of decimals, so a column of them lines up on the decimal point. */
const fixed = [0, 1, 2, 3].map(
  (digits) => new Intl.NumberFormat(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits }),
);
const percent = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function isNumericType(type: CellType): boolean {
  return type !== 'text';
}

function pct(value: number): string {
  return `${percent.format(value)}${NBSP}%`;
}

/** A styled piece of text: what a cell shows, with the colour that carries its meaning, if any. */
export interface Formatted {
  text: string;
  color?: string;
}

export function formatGrowth(value: number | null): Formatted {
  if (value === null || !Number.isFinite(value)) return { text: DASH, color: MUTED_COLOR };
  // Rounded to what is shown, so "0.00 %" never carries an arrow that contradicts it.
  const shown = Math.round(value * 100) / 100;
  if (shown > 0) return { text: `${ARROW_UP}${NBSP}${pct(shown)}`, color: GROWTH_UP_COLOR };
  if (shown < 0) return { text: `${ARROW_DOWN}${NBSP}${pct(-shown)}`, color: GROWTH_DOWN_COLOR };
  return { text: pct(0), color: MUTED_COLOR };
}

/** How many decimals (0 to 3) the 'number' values need between them. */
export function decimalsOf(values: CellValue[]): number {
  let most = 0;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    while (most < 3 && Math.abs(Math.round(v * 10 ** most) - v * 10 ** most) > 1e-6 * 10 ** most) most++;
  }
  return most;
}

/** `decimals` fixes the decimals of a 'number' (see decimalsOf); other types have theirs. */
export function formatCell(value: CellValue, type: CellType, decimals?: number): Formatted {
  if (value === null || value === '') return { text: DASH, color: MUTED_COLOR };
  if (typeof value === 'string') return { text: value };
  if (!Number.isFinite(value)) return { text: DASH, color: MUTED_COLOR };
  switch (type) {
    case 'money':
      return { text: money.format(value) };
    case 'int':
      return { text: integer.format(value) };
    case 'number':
      return { text: (fixed[decimals ?? -1] ?? decimal).format(value) };
    case 'pct':
      return { text: pct(value) };
    case 'share':
      return { text: pct(value * 100) };
    case 'growth':
      return formatGrowth(value);
    case 'text':
      return { text: String(value) };
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "17 Nov 2026, 06:05 UTC"; anything that is not a date is shown as it came. */
export function formatTimestamp(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  return `${day}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}
