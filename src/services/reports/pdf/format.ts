/**
 * How the PDF shows a value: numbers for the document's locale, money in its currency. The locale
 * comes with the document, so the same document renders byte-identically on any machine; dates are
 * shown in UTC for the same reason (the document carries no time zone).
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

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Numbers are written for the document's locale (LOCALE) and money in its currency (CURRENCY). */
export interface NumberStyle {
  locale: string;
  currency: string;
}
export const DEFAULT_STYLE: NumberStyle = { locale: 'en-GB', currency: 'EUR' };

export function isNumericType(type: CellType): boolean {
  return type !== 'text' && type !== 'date';
}

/** A styled piece of text: what a cell shows, with the colour that carries its meaning, if any. */
export interface Formatted {
  text: string;
  color?: string;
}

export interface Formatter {
  /** `decimals` fixes the decimals of a 'number' (see decimalsOf); other types have theirs */
  cell(value: CellValue, type: CellType, decimals?: number): Formatted;
  /** a money figure with its currency symbol, as a headline shows it */
  currency(value: number): string;
  /** a change: relative (%) or in percentage points (pt) */
  growth(value: number | null, unit?: 'pct' | 'pt'): Formatted;
  /** the currency's symbol, e.g. € */
  symbol: string;
}

const formatters = new Map<string, Formatter>();

/** The formatter of a locale and currency (made once, then reused). */
export function formatterFor(style: Partial<NumberStyle> = {}): Formatter {
  const locale = style.locale ?? DEFAULT_STYLE.locale;
  const currency = style.currency ?? DEFAULT_STYLE.currency;
  const key = `${locale}|${currency}`;
  let f = formatters.get(key);
  if (!f) {
    f = makeFormatter(locale, currency);
    formatters.set(key, f);
  }
  return f;
}

function makeFormatter(locale: string, currency: string): Formatter {
  const money = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const withSymbol = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 3 });
  // 'number' with a fixed count of decimals, so a column of them lines up on the decimal point
  const fixed = [0, 1, 2, 3].map(
    (digits) =>
      new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }),
  );
  const percent = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  // the symbol as the locale writes it (€, US$, £...); NBSP keeps "12,50 €" on one line
  const symbol = withSymbol.formatToParts(1).find((p) => p.type === 'currency')?.value ?? currency;
  const pct = (value: number) => `${percent.format(value)}${NBSP}%`;
  const pt = (value: number) => `${percent.format(value)}${NBSP}pt`;

  function growth(value: number | null, unit: 'pct' | 'pt' = 'pct'): Formatted {
    if (value === null || !Number.isFinite(value)) return { text: DASH, color: MUTED_COLOR };
    const unitText = unit === 'pt' ? pt : pct;
    // Rounded to what is shown, so "0.00 %" never carries an arrow that contradicts it.
    const shown = Math.round(value * 100) / 100;
    if (shown > 0) return { text: `${ARROW_UP}${NBSP}${unitText(shown)}`, color: GROWTH_UP_COLOR };
    if (shown < 0) return { text: `${ARROW_DOWN}${NBSP}${unitText(-shown)}`, color: GROWTH_DOWN_COLOR };
    return { text: unitText(0), color: MUTED_COLOR };
  }

  return {
    symbol,
    growth,
    currency: (value) => withSymbol.format(value).replace(/\s/g, NBSP),
    cell(value, type, decimals) {
      if (value === null || value === '') return { text: DASH, color: MUTED_COLOR };
      if (typeof value === 'string') return { text: type === 'date' ? formatDayText(value) : value };
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
        case 'growth':
          return growth(value);
        case 'points':
          return growth(value, 'pt');
        case 'text':
        case 'date':
          return { text: String(value) };
      }
    },
  };
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

/** A cell in the default style (en-GB, EUR). */
export function formatCell(value: CellValue, type: CellType, decimals?: number): Formatted {
  return formatterFor().cell(value, type, decimals);
}

export function formatGrowth(value: number | null, unit: 'pct' | 'pt' = 'pct'): Formatted {
  return formatterFor().growth(value, unit);
}

/** "2 Dec 2026" for an ISO day. */
function formatDayText(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return m ? `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}` : iso;
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
