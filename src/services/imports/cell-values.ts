/**
 * Turns spreadsheet cells (what the readers yield: text, numbers, booleans, dates, error cells)
 * into typed values, or into a message that tells the user what to write instead.
 *
 * People type numbers as text, with thousands separators, currency signs and decimal commas; a
 * value is accepted when only one reading of it is possible, and refused with the readings spelled
 * out when two are (`1,234` as a quantity: 1234 or 1.234?).
 */
import {
  dayStartUtc,
  formatLocalIso,
  isSupportedDay,
  localParts,
  parseDay,
  SUPPORTED_DAYS,
} from '../../lib/calendar.ts';
import type { CellValue } from './sheet-reader.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (message: string): Parsed<never> => ({ ok: false, message });

/** A cell with nothing in it (after trimming). */
export function isBlank(cell: CellValue | undefined): boolean {
  return cell === null || cell === undefined || (typeof cell === 'string' && cell.trim() === '');
}

function isErrorCell(cell: CellValue): cell is { error: string } {
  return typeof cell === 'object' && cell !== null && !(cell instanceof Date);
}

/** The cell as the user would read it, for error messages and the error workbook. */
/** Excel's own limit on a cell's text: a longer cell is a row error, whatever its column. */
export const MAX_CELL_TEXT = 32_767;
/** how much of a cell an answer quotes back: a pasted novel is not echoed in every result */
export const MAX_ECHO_CHARS = 200;

/** A cell as a row error quotes it: its text, cut to MAX_ECHO_CHARS. */
export function echoValue(cell: CellValue | undefined): string | null {
  const text = displayValue(cell);
  return text !== null && text.length > MAX_ECHO_CHARS ? `${text.slice(0, MAX_ECHO_CHARS)}…` : text;
}

export function displayValue(cell: CellValue | undefined): string | null {
  if (cell === null || cell === undefined) return null;
  if (cell instanceof Date) return cell.toISOString().replace('T00:00:00.000Z', '').replace('.000Z', 'Z');
  if (isErrorCell(cell)) return cell.error;
  return String(cell);
}

/** Text fields: trimmed, inner runs of white space kept as typed. Numbers become their shortest text. */
export function parseText(cell: CellValue, maxLength: number): Parsed<string> {
  let text: string;
  if (typeof cell === 'string') text = cell.trim();
  else if (typeof cell === 'number') text = String(cell);
  else if (typeof cell === 'boolean') text = cell ? 'TRUE' : 'FALSE';
  else if (cell instanceof Date) return fail('is a date; a text was expected');
  else if (cell === null) text = '';
  else return fail(`the cell holds the error ${cell.error}`);
  if (text.length > maxLength) return fail(`is longer than ${maxLength} characters (${text.length})`);
  return ok(text);
}

const GROUPED_COMMA = /^\d{1,3}(,\d{3})+$/;
const GROUPED_DOT = /^\d{1,3}(\.\d{3})+$/;
const DIGITS = /^\d+$/;
// Thin spaces, no-break spaces and apostrophes group thousands in French and Swiss writing.
const GROUP_SPACES = /[\s\u00a0\u202f\u2009']/g;
const CURRENCY = /^[€$£¥]|[€$£¥]$|^(EUR|USD|GBP|CHF)\s*|\s*(EUR|USD|GBP|CHF)$/gi;

/**
 * A decimal number written as text. `maxDecimals` settles a lone separator followed by three
 * digits: with at most two decimals allowed (money), `1,234` can only be a thousand and more.
 */
export function parseDecimalText(raw: string, maxDecimals: number): Parsed<number> {
  let text = raw.trim().replace(CURRENCY, '').trim();
  let sign = 1;
  if (/^\(.*\)$/.test(text)) {
    // Accountants write negatives in parentheses.
    sign = -1;
    text = text.slice(1, -1).trim();
  }
  if (text.startsWith('-') || text.startsWith('−')) {
    sign = -sign;
    text = text.slice(1).trim();
  } else if (text.startsWith('+')) text = text.slice(1).trim();
  text = text.replace(GROUP_SPACES, '');
  if (text === '') return fail(`${JSON.stringify(raw)} is not a number`);

  let intPart: string;
  let fracPart = '';
  const lastComma = text.lastIndexOf(',');
  const lastDot = text.lastIndexOf('.');
  if (lastComma >= 0 && lastDot >= 0) {
    // Both: the last one is the decimal separator, the other must group by thousands.
    const decimal = lastComma > lastDot ? ',' : '.';
    const at = Math.max(lastComma, lastDot);
    intPart = text.slice(0, at);
    fracPart = text.slice(at + 1);
    const grouped = decimal === ',' ? GROUPED_DOT : GROUPED_COMMA;
    if (!grouped.test(intPart) || !DIGITS.test(fracPart))
      return fail(`${JSON.stringify(raw)} is not a number`);
    intPart = intPart.replace(/[.,]/g, '');
  } else if (lastComma >= 0 || lastDot >= 0) {
    const sep = lastComma >= 0 ? ',' : '.';
    const parts = text.split(sep);
    if (parts.length > 2) {
      if (!(sep === ',' ? GROUPED_COMMA : GROUPED_DOT).test(text))
        return fail(`${JSON.stringify(raw)} is not a number`);
      intPart = parts.join('');
    } else {
      const [a = '', b = ''] = parts;
      if (!DIGITS.test(a) || !DIGITS.test(b)) return fail(`${JSON.stringify(raw)} is not a number`);
      if (sep === ',' && b.length === 3 && a !== '0') {
        // `1,234`: a thousand-something, or one-point-something written with a decimal comma. With
        // at most two decimals allowed only the first reading is valid. A lone dot is always decimal.
        if (maxDecimals < 3) intPart = a + b;
        else {
          return fail(
            `${JSON.stringify(raw)} is ambiguous (${a}${b} or ${a}.${b}?): write it without a thousands separator`,
          );
        }
      } else {
        intPart = a;
        fracPart = b;
      }
    }
  } else {
    if (!DIGITS.test(text)) return fail(`${JSON.stringify(raw)} is not a number`);
    intPart = text;
  }
  const value = sign * Number(fracPart ? `${intPart}.${fracPart}` : intPart);
  if (!Number.isFinite(value)) return fail(`${JSON.stringify(raw)} is not a number`);
  return ok(value === 0 ? 0 : value);
}

/** Decimals actually written: 19.99 is stored as 19.989999…, so compare after scaling and rounding. */
export function hasAtMostDecimals(value: number, decimals: number): boolean {
  const scaled = value * 10 ** decimals;
  return Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, Math.abs(scaled));
}

export interface NumberRule {
  min?: number;
  maxDecimals: number;
  integer?: boolean;
  nonZero?: boolean;
}

export function parseNumber(cell: CellValue, rule: NumberRule): Parsed<number> {
  let value: number;
  if (typeof cell === 'number') value = cell;
  else if (typeof cell === 'string') {
    const parsed = parseDecimalText(cell, rule.maxDecimals);
    if (!parsed.ok) return parsed;
    value = parsed.value;
  } else if (cell instanceof Date) return fail('is a date; a number was expected');
  else if (typeof cell === 'boolean') return fail('is TRUE/FALSE; a number was expected');
  else if (cell === null) return fail('is empty');
  else return fail(`the cell holds the error ${cell.error}`);
  if (!Number.isFinite(value)) return fail('is not a finite number');
  if (rule.min !== undefined && value < rule.min) return fail(`must be at least ${rule.min}`);
  if (rule.nonZero && value === 0) return fail('must not be 0');
  if (rule.integer && !Number.isInteger(value)) return fail('must be a whole number');
  if (!hasAtMostDecimals(value, rule.maxDecimals))
    return fail(`has more than ${rule.maxDecimals} decimal${rule.maxDecimals === 1 ? '' : 's'}`);
  // Money is kept to the cent: 19.989999… becomes 19.99 before it reaches the system of record.
  const factor = 10 ** rule.maxDecimals;
  return ok(Math.round(value * factor) / factor);
}

const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86_400_000;
const ISO_WITH_OFFSET =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}:?\d{2})$/i;
const ISO_LOCAL = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?$/;

/** The instant of a wall-clock time in `tz` (a time in a DST gap moves forward, as clocks do). */
export function zonedInstant(day: number, secondOfDay: number, tz: string): number {
  const start = dayStartUtc(day, tz);
  const guess = start + secondOfDay * 1000;
  const p = localParts(guess, tz);
  const drift = (p.day - day) * 86_400 + p.hour * 3600 + p.minute * 60 + p.second - secondOfDay;
  return guess - drift * 1000;
}

function wallClockToIso(day: number, secondOfDay: number, tz: string): Parsed<{ iso: string; day: number }> {
  const at = zonedInstant(day, secondOfDay, tz);
  const local = formatLocalIso(at, tz);
  return ok({ iso: local.iso, day: local.day });
}

/**
 * A moment of sale: an Excel date (whose UTC fields are the wall clock, as exceljs reads them), an
 * Excel serial number, ISO-8601 text with an offset, or ISO-8601 text without one (a wall-clock
 * time in the business time zone). Slashed dates are refused: 03/04 is March or April.
 */
export function parseDateTime(cell: CellValue, tz: string): Parsed<{ iso: string; day: number }> {
  const read = readDateTime(cell, tz);
  if (read.ok && !isSupportedDay(read.value.day)) return outsideRange(read.value.iso.slice(0, 10));
  return read;
}

const outsideRange = (date: string) =>
  fail(`${date} is outside ${SUPPORTED_DAYS.from} to ${SUPPORTED_DAYS.to}`);

function readDateTime(cell: CellValue, tz: string): Parsed<{ iso: string; day: number }> {
  if (cell instanceof Date) {
    const ms = cell.getTime();
    if (Number.isNaN(ms)) return fail('is not a valid date');
    const day = Math.floor(ms / DAY_MS);
    return wallClockToIso(day, Math.round((ms - day * DAY_MS) / 1000), tz);
  }
  if (typeof cell === 'number') {
    if (!(cell > 0 && cell < 2_958_466)) return fail('is a number, not a date');
    const ms = EXCEL_EPOCH_MS + Math.round(cell * DAY_MS);
    const day = Math.floor(ms / DAY_MS);
    return wallClockToIso(day, Math.round((ms - day * DAY_MS) / 1000), tz);
  }
  if (typeof cell !== 'string') {
    if (cell === null) return fail('is empty');
    if (typeof cell === 'boolean') return fail('is TRUE/FALSE; a date was expected');
    return fail(`the cell holds the error ${cell.error}`);
  }
  const text = cell.trim();
  const withOffset = ISO_WITH_OFFSET.exec(text);
  if (withOffset) {
    const normalised = text.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
    const ms = Date.parse(normalised);
    const day = parseDay(withOffset[1]!);
    if (day === undefined || Number.isNaN(ms)) return fail(`${JSON.stringify(text)} is not a valid date`);
    // Checked on the text: the time-zone arithmetic below is only meant for four-digit years.
    if (!isSupportedDay(day)) return outsideRange(withOffset[1]!);
    // Keep the instant, shown in the business zone: the business day is what counts.
    return ok(formatLocalIso(ms, tz));
  }
  const local = ISO_LOCAL.exec(text);
  if (local) {
    const day = parseDay(local[1]!);
    const h = Number(local[2] ?? 0);
    const mi = Number(local[3] ?? 0);
    const s = Number(local[4] ?? 0);
    if (day === undefined || h > 23 || mi > 59 || s > 59)
      return fail(`${JSON.stringify(text)} is not a valid date`);
    if (!isSupportedDay(day)) return outsideRange(local[1]!);
    return wallClockToIso(day, h * 3600 + mi * 60 + s, tz);
  }
  return fail(
    `${JSON.stringify(text)} is not a date this import reads: write 2026-03-01 14:30 (business time zone), ` +
      '2026-03-01T14:30:00+01:00, or use an Excel date cell',
  );
}
