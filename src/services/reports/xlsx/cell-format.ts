/**
 * How a document value becomes a spreadsheet cell, shared by the workbook renderer and the streamed
 * sales-lines export: number formats per cell type, the text shown (for column widths), the
 * formula-injection policy and sheet names.
 *
 * Number formats (Excel codes):
 * - money `#,##0.00` with the currency's symbol where the locale puts it (`"€"#,##0.00`,
 *   `#,##0.00" €"`), int `#,##0`
 * - number `#,##0.###` for values with decimals, `#,##0` for whole ones (Excel would show `12.` with
 *   `#,##0.###`)
 * - one percent convention on every sheet: a percentage of the document (pct 43.21, growth -4.5) is
 *   stored as the fraction it stands for (0.4321, -0.045) in Excel's own percent format `0.00%`, so a
 *   formula over it computes right; growth adds an arrow and a colour in the format itself so the
 *   direction survives black-and-white printing, and the sheet adds a conditional fill on top
 * - points: a change in percentage points stays as it is (-0.34) with ` pt`, arrow and colour
 * - date: a real date (an Excel serial) shown `yyyy-mm-dd`, so filters and pivot tables group it
 * - text `@`: Excel keeps what a user types into such a cell as text, so editing a cell that holds
 *   `=1+1` does not turn it into a formula
 *
 * Formula injection: text from upstream (store, product, brand names…) that starts with `=`, `+`,
 * `-`, `@`, a tab or a carriage return could be taken for a formula by a spreadsheet.
 * - XLSX: such text is written unchanged as a string cell (never a formula, which only an explicit
 *   formula element makes) with the text format above.
 * - CSV: nothing types a CSV field, so such a field gets an apostrophe first (`'=1+1`), the usual
 *   mitigation (OWASP's): a spreadsheet opening the file shows the apostrophe and evaluates nothing.
 *   Numbers are not text: a quantity of -5 stays `-5`.
 * Line breaks inside XLSX text are stored as `\n` (XML turns a bare `\r` into `\n` on reading anyway),
 * so `\rx` reads back as `\nx`.
 */
import type { CellType, CellValue } from '../report-types.ts';

export const NUMBER_FORMATS = {
  text: '@',
  money: '#,##0.00',
  int: '#,##0',
  number: '#,##0.###',
  pct: '0.00%',
  // [Color10] is Excel's dark green: readable on white, unlike [Green]
  growth: '[Color10]"▲ "0.00%;[Red]"▼ "0.00%;0.00%',
  points: '[Color10]"▲ "0.00" pt";[Red]"▼ "0.00" pt";0.00" pt"',
  date: 'yyyy-mm-dd',
} as const satisfies Record<CellType, string>;

/** Formats of time values that are not a document cell type. */
export const DATE_FORMATS = { month: 'mmm yyyy', dateTime: 'yyyy-mm-dd hh:mm:ss' } as const;

/** The format of a `number` cell holding a whole value. */
export const WHOLE_NUMBER_FORMAT = NUMBER_FORMATS.int;

export function isNumericType(type: CellType): boolean {
  return type !== 'text' && type !== 'date';
}

/** The money format with the currency symbol placed as the locale places it. */
export function moneyFormat(currency: string, locale: string): string {
  const parts = new Intl.NumberFormat(locale, { style: 'currency', currency }).formatToParts(1);
  const at = parts.findIndex((p) => p.type === 'currency');
  if (at < 0) return NUMBER_FORMATS.money;
  const symbol = parts[at]!.value.replace(/"/g, '');
  const spaced = /\s/.test(parts[at === 0 ? 1 : at - 1]?.value ?? '');
  return at === 0
    ? `"${symbol}${spaced ? ' ' : ''}"${NUMBER_FORMATS.money}`
    : `${NUMBER_FORMATS.money}"${spaced ? ' ' : ''}${symbol}"`;
}

/** The number format of one cell: its type's, except whole `number` values (see above). */
export function numFmtFor(type: CellType, value: CellValue): string {
  if (type === 'number' && typeof value === 'number' && Number.isInteger(value)) return WHOLE_NUMBER_FORMAT;
  return NUMBER_FORMATS[type];
}

/** The number a cell stores for a document value: percentages become the fractions they stand for. */
export function storedNumber(type: CellType, value: number): number {
  return type === 'pct' || type === 'growth' ? Math.round(value * 1e4) / 1e6 : value;
}

/** An ISO day (YYYY-MM-DD) as the UTC midnight Excel stores it (as a serial), or undefined. */
export function isoDayToDate(text: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
}

const grouped0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const grouped2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const grouped3 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/** Roughly the text Excel shows for a value with its format: what column widths are measured on. */
export function displayText(value: CellValue, type: CellType): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return '';
  switch (type) {
    case 'money':
      return grouped2.format(value);
    case 'int':
      return grouped0.format(value);
    case 'number':
      return grouped3.format(value);
    case 'pct':
      return `${value.toFixed(2)}%`;
    case 'growth':
      return `${value > 0 ? '▲ ' : value < 0 ? '▼ ' : ''}${Math.abs(value).toFixed(2)}%`;
    case 'points':
      return `${value > 0 ? '▲ ' : value < 0 ? '▼ ' : ''}${Math.abs(value).toFixed(2)} pt`;
    case 'date':
    case 'text':
      return String(value);
  }
}

export const MIN_COLUMN_WIDTH = 8;
export const MAX_COLUMN_WIDTH = 60;

/** Characters of the longest line, in code points (an emoji is one character, not two). */
export function textWidth(text: string): number {
  let widest = 0;
  for (const line of text.split('\n')) {
    let n = 0;
    for (const _ of line) n++;
    if (n > widest) widest = n;
  }
  return widest;
}

/**
 * A column width (in Excel's character units) fitting the widest text, capped so one long name does
 * not push the rest of the sheet off screen. `header` gets room for the autofilter button.
 */
export function columnWidth(header: string, texts: Iterable<string>): number {
  let widest = textWidth(header) + 3;
  for (const t of texts) {
    const w = textWidth(t);
    if (w > widest) widest = w;
  }
  return Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, widest + 2));
}

const FORMULA_TRIGGER = /^[=+\-@\t\r]/;

/** Whether a spreadsheet could take this text for a formula when it is typed or imported. */
export function looksLikeFormula(text: string): boolean {
  return FORMULA_TRIGGER.test(text);
}

const OOXML_ESCAPE_LOOKALIKE = /_(?=x[0-9a-fA-F]{4}_)/g;

/**
 * Text as an XLSX string cell holds it (see the header for why it is otherwise unchanged). Excel
 * reads `_xHHHH_` in a string as an escaped character, so a literal one has its underscore escaped
 * (`_x005F_`) to show as written.
 */
export function xlsxText(text: string): string {
  let t = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  if (t.includes('_x')) t = t.replace(OOXML_ESCAPE_LOOKALIKE, '_x005F_');
  return t;
}

/** Text as a CSV field carries it, before RFC 4180 quoting: inert for spreadsheets. */
export function csvSafeText(text: string): string {
  return FORMULA_TRIGGER.test(text) ? `'${text}` : text;
}

const SHEET_NAME_MAX = 31;
// Excel refuses these in a sheet name; control characters are dropped too
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
const SHEET_NAME_BAD = /[[\]:*?/\\\u0000-\u001f\u007f]+/g;

function truncateUnits(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}

/**
 * Gives each wanted title a valid, unique sheet name: at most 31 characters, none of `[]:*?/\`, not
 * starting or ending with an apostrophe, unique ignoring case (as Excel compares them), never
 * "History" (reserved by Excel). Duplicates get " (2)", " (3)"…
 */
export function createSheetNamer(): (wanted: string) => string {
  const used = new Set<string>(['history']);
  return (wanted) => {
    let base = wanted.replace(SHEET_NAME_BAD, ' ').replace(/\s+/g, ' ').trim();
    base = base.replace(/^'+|'+$/g, '').trim() || 'Sheet';
    const cut = (max: number) => truncateUnits(base, max).replace(/'+$/, '').trim() || 'Sheet';
    let name = cut(SHEET_NAME_MAX);
    for (let n = 2; used.has(name.toLowerCase()); n++) {
      const suffix = ` (${n})`;
      name = `${cut(SHEET_NAME_MAX - suffix.length)}${suffix}`;
    }
    used.add(name.toLowerCase());
    return name;
  };
}

/** `A`, `B`, … `Z`, `AA`… for a 1-based column number. */
export function columnLetter(column: number): string {
  let n = column;
  let out = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}
