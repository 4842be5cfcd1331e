/**
 * Turns an uploaded spreadsheet already saved on disk (Excel .xlsx or UTF-8 CSV) into a stream of
 * rows, refusing hostile or unreadable files with typed errors before any row is read. Header
 * mapping and row validation sit on top of this, in the import service.
 *
 * Rows are streamed so a 100k-row file never sits in memory, and the stream may be left early (a
 * row limit): the generators close their files in `finally`.
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { type CsvError, parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { AppError } from '../../errors.ts';
import { inspectXlsx, type SheetInfo, type XlsxInspection, type XlsxLimits } from './file-inspect.ts';
import { type FileFormat, sniffFormat } from './file-sniff.ts';
import { FileRejectedError, UnsupportedFileError } from './import-errors.ts';
import { xlsxReaderInput } from './xlsx-reader-input.ts';

export type CellValue = string | number | boolean | Date | { error: string } | null;

export interface SheetRow {
  /** the row number the user sees: the Excel row, or the CSV record (header = 1) */
  row: number;
  /** cells[0] is column A */
  cells: CellValue[];
}

export interface OpenedSheet {
  format: FileFormat;
  /** the worksheet read; null for CSV */
  sheetName: string | null;
  /** CSV only: the delimiter detected */
  delimiter?: string;
  warnings: string[];
  /** blank rows are left out */
  rows: AsyncIterable<SheetRow>;
}

/** what the format is decided on, and the CSV delimiter detected from */
const HEAD_BYTES = 64 * 1024;

export async function openSheet(
  path: string,
  options: {
    fileName: string;
    sheet?: string;
    limits: XlsxLimits;
    /** the inspection the caller already made of this very file (the upload's type check) */
    inspection?: XlsxInspection;
  },
): Promise<OpenedSheet> {
  const head = await readHead(path);
  const { format, warnings } = sniffFormat(head, options.fileName);
  if (format === 'csv') {
    const sample = describeCsvSample(head, head.length < HEAD_BYTES);
    if (sample.mixedLineEndings) warnings.push('the file mixes line endings (CRLF and LF); both were read');
    return {
      format,
      sheetName: null,
      delimiter: sample.delimiter,
      warnings,
      rows: csvRows(path, sample.delimiter),
    };
  }
  const inspection = options.inspection ?? (await inspectXlsx(path, options.limits));
  const sheet = pickSheet(inspection.sheets, options.sheet, warnings);
  if (sheet.merges.length > 0) {
    const shown = sheet.merges.slice(0, 5).join(', ');
    const more = sheet.merges.length > 5 ? ` and ${sheet.merges.length - 5} more` : '';
    throw new FileRejectedError(
      `The sheet "${sheet.name}" has merged cells (${shown}${more}). A merged value sits only in its top-left ` +
        'cell, so the other rows would be read as blank: select the whole sheet, unmerge the cells ' +
        '(Home > Merge & Center > Unmerge Cells), fill in the values, save and upload again.',
      'merged-cells',
      { sheet: sheet.name, merges: sheet.merges.slice(0, 5) },
    );
  }
  const input = xlsxReaderInput(path, inspection, sheet);
  return { format, sheetName: sheet.name, warnings, rows: xlsxRows(input, sheet.name, inspection.date1904) };
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function pickSheet(sheets: SheetInfo[], requested: string | undefined, warnings: string[]): SheetInfo {
  const quoted = sheets.map((s) => `"${s.name}"`).join(', ');
  const wanted = requested?.trim().toLowerCase();
  if (wanted) {
    const found = sheets.find((s) => s.name.trim().toLowerCase() === wanted);
    if (found) return found;
    throw new FileRejectedError(
      sheets.length === 0
        ? `The workbook has no sheet "${requested?.trim()}": it has no worksheet at all.`
        : `The workbook has no sheet "${requested?.trim()}". Its sheets are ${quoted}: give one of these names.`,
      'sheet-not-found',
      { sheet: requested?.trim(), sheets: sheets.map((s) => s.name) },
    );
  }
  const first = sheets.findIndex((s) => s.state === 'visible');
  const chosen = sheets[first];
  if (!chosen) {
    throw new FileRejectedError(
      sheets.length === 0
        ? 'The workbook has no worksheet.'
        : `The workbook has no visible sheet (its sheets are ${quoted}): unhide the sheet to import, or name it.`,
      'sheet-not-found',
      { sheets: sheets.map((s) => s.name) },
    );
  }
  if (first > 0) {
    const hidden = sheets.slice(0, first).map((s) => `"${s.name}"`);
    warnings.push(
      hidden.length === 1
        ? `sheet ${hidden[0]} is hidden; read "${chosen.name}", the first visible one`
        : `sheets ${hidden.join(', ')} are hidden; read "${chosen.name}", the first visible one`,
    );
  }
  return chosen;
}

function unreadableSheet(name: string, cause?: unknown): FileRejectedError {
  const why = cause instanceof Error ? ` (${cause.message.slice(0, 200)})` : '';
  return new FileRejectedError(
    `The sheet "${name}" cannot be read${why}. Open the file in Excel, save it again as ` +
      '"Excel Workbook (.xlsx)" and upload that file.',
    'unreadable-sheet',
    { sheet: name },
    { cause },
  );
}

// --- xlsx -------------------------------------------------------------------------------------

const READER_OPTIONS = {
  worksheets: 'emit',
  sharedStrings: 'cache',
  hyperlinks: 'ignore',
  // exceljs tells dates from numbers by the cell's number format: without styles every date is a number
  styles: 'cache',
  entries: 'ignore',
} as const;

/** what WorksheetReader.parse() yields per XML chunk: 'row' events carry an ExcelJS.Row */
type SheetEvent = { eventType: string; value: unknown };

/** The rows of the one sheet in `input` (see xlsxReaderInput), read by exceljs's streaming reader. */
async function* xlsxRows(input: Readable, sheetName: string, date1904: boolean) {
  // exceljs pipes the input without listening for its errors: unhandled, one would crash the
  // process, and exceljs would wait for the rest of the ZIP forever. So each step waits for
  // exceljs or for an input error. (Not Promise.race with one pending promise: every race leaves
  // a reaction on it holding its result, here every row of the sheet.)
  let failure: { error: unknown } | undefined;
  let failStep: ((error: unknown) => void) | undefined;
  input.once('error', (error) => {
    failure = { error };
    failStep?.(error);
  });
  const step = <T>(promise: Promise<T>): Promise<T> => {
    if (failure) return Promise.reject(failure.error);
    return new Promise<T>((resolve, reject) => {
      failStep = reject;
      promise.then(resolve, reject);
    });
  };

  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, READER_OPTIONS);
  const worksheets = reader[Symbol.asyncIterator]();
  let events: AsyncGenerator<SheetEvent[]> | undefined;
  let done = false;
  try {
    for (let next = await step(worksheets.next()); !next.done; next = await step(worksheets.next())) {
      // parse() hands over the events of each XML chunk at once; the sheet's own row iterator
      // would add an async step per row on top of ours
      events = next.value.parse() as unknown as AsyncGenerator<SheetEvent[]>;
      for (let chunk = await step(events.next()); !chunk.done; chunk = await step(events.next())) {
        for (const event of chunk.value) {
          if (event.eventType !== 'row') continue;
          const row = event.value as ExcelJS.Row;
          const cells = rowCells(row, date1904);
          if (cells !== null) yield { row: row.number, cells } satisfies SheetRow;
        }
      }
    }
    done = true;
  } catch (err) {
    throw isReadError(err) ? unreadableSheet(sheetName, err) : err;
  } finally {
    if (!done) {
      // left early or failed: closing the input closes the file; exceljs's generators, paused (or
      // waiting on a failed input), are told to stop without waiting for them
      input.destroy();
      events?.return(undefined).catch(() => {});
      worksheets.return(undefined).catch(() => {});
    }
  }
}

/** Errors from the file's content (XML, ZIP), as opposed to the system (disk, descriptors). */
function isReadError(err: unknown): boolean {
  return err instanceof Error && !(err instanceof AppError) && !('syscall' in err);
}

const FORMULA_WITHOUT_VALUE = 'formula without a cached value: recalculate and save the file in Excel';
/** which error (#N/A, #DIV/0!...) is lost: exceljs's streaming reader parses it as a number */
const FORMULA_ERROR = 'formula returning an error: fix it in Excel';

/** The row's cells from column A, or null when none holds anything but blanks. */
function rowCells(row: ExcelJS.Row, date1904: boolean): CellValue[] | null {
  const count = row.cellCount;
  const cells: CellValue[] = new Array(count);
  let last = -1;
  for (let i = 0; i < count; i++) {
    const cell = row.findCell(i + 1);
    const value = cell === undefined ? null : cellValue(cell, date1904);
    cells[i] = value;
    if (value !== null && (typeof value !== 'string' || value.trim() !== '')) last = i;
  }
  if (last === -1) return null;
  // styled empty cells stretch rows to the right; keep what holds something
  cells.length = last + 1;
  return cells;
}

const FORMULA = ExcelJS.ValueType.Formula;

function cellValue(cell: ExcelJS.Cell, date1904: boolean): CellValue {
  const value = cell.value;
  switch (typeof value) {
    case 'string':
      return value === '' ? null : value;
    case 'number':
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      return null;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? { error: '#VALUE!' } : value;
  // a formula's value drops a falsy result (0, '', false): the cell's own result keeps it. A
  // shared formula's other cells have no formula text, so exceljs keeps them as plain objects
  if (cell.type === FORMULA) return formulaResult(cell.result, cell, date1904);
  if ('formula' in value || 'result' in value) return formulaResult(value.result, cell, date1904);
  if ('richText' in value) {
    let text = '';
    for (const run of value.richText) text += run.text ?? '';
    return text === '' ? null : text;
  }
  if ('error' in value) return { error: String(value.error) };
  if ('text' in value && typeof value.text === 'string') return value.text === '' ? null : value.text;
  return null;
}

function formulaResult(result: unknown, cell: ExcelJS.Cell, date1904: boolean): CellValue {
  switch (typeof result) {
    case 'undefined':
      return { error: FORMULA_WITHOUT_VALUE };
    case 'number':
      // the streaming reader parses every cached result but text as a number: an error becomes NaN
      if (Number.isNaN(result)) return { error: FORMULA_ERROR };
      return isDateFormat(cell.numFmt) ? excelDate(result, date1904) : result;
    case 'string':
      return result === '' ? null : result;
    case 'boolean':
      return result;
  }
  if (result instanceof Date) return result;
  if (result !== null && typeof result === 'object' && 'error' in result) {
    return { error: String(result.error) };
  }
  return { error: FORMULA_WITHOUT_VALUE };
}

const dateFormats = new Map<string, boolean>();

/** exceljs's own rule for date number formats, used for formula results it leaves as numbers. */
function isDateFormat(format: string | undefined): boolean {
  if (!format) return false;
  let known = dateFormats.get(format);
  if (known === undefined) {
    known = /[ymdhMsb]/.test(format.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
    if (dateFormats.size < 1000) dateFormats.set(format, known);
  }
  return known;
}

function excelDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

// --- csv --------------------------------------------------------------------------------------

const DELIMITERS = [',', ';', '\t', '|'] as const;
const SAMPLE_LINES = 20;
/** no real record is this long: it is an unclosed quote swallowing the rest of the file */
const MAX_RECORD_CHARS = 1024 * 1024;

/**
 * The delimiter and line endings of a CSV from its first bytes. Counts what lies outside quotes on
 * the first lines: the delimiter is the candidate found the same number of times on every line
 * (a title line above the header, or a ragged line, only lowers its score).
 */
function describeCsvSample(
  head: Buffer,
  complete: boolean,
): { delimiter: string; mixedLineEndings: boolean } {
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const lines: number[][] = [];
  let counts = [0, 0, 0, 0];
  let content = false;
  let crlf = 0;
  let lf = 0;
  let cr = 0;
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') i++;
        else quoted = false;
      }
      continue;
    }
    if (ch === '"' && fieldStart) {
      quoted = true;
      content = true;
      fieldStart = false;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && text[i + 1] === '\n') {
        crlf++;
        i++;
      } else if (ch === '\n') lf++;
      // a CR that ends the sample may be the first half of a CRLF
      else if (i + 1 < text.length || complete) cr++;
      if (content && lines.length < SAMPLE_LINES) lines.push(counts);
      counts = [0, 0, 0, 0];
      content = false;
      fieldStart = true;
      continue;
    }
    const d = DELIMITERS.indexOf(ch as (typeof DELIMITERS)[number]);
    if (d !== -1) counts[d]!++;
    if (ch !== ' ') content = true;
    fieldStart = d !== -1;
  }
  // a last line cut by the end of the sample is not a whole line
  if (content && complete && lines.length < SAMPLE_LINES) lines.push(counts);

  const mixedLineEndings = [crlf, lf, cr].filter((n) => n > 0).length > 1;
  let best = -1;
  let bestScore = 0;
  for (let d = 0; d < DELIMITERS.length; d++) {
    const perLine = lines.map((l) => l[d]!);
    const n = mostFrequentNonZero(perLine);
    if (n === 0) continue;
    const matching = perLine.filter((c) => c === n).length;
    // the same count on every line first, then on most lines, then more fields; the order above breaks ties
    const score = (matching === lines.length ? 1e9 : 0) + matching * 1e4 + Math.min(n, 9999);
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return { delimiter: best === -1 ? ',' : DELIMITERS[best]!, mixedLineEndings };
}

function mostFrequentNonZero(values: number[]): number {
  const seen = new Map<number, number>();
  let best = 0;
  let bestTimes = 0;
  for (const v of values) {
    if (v === 0) continue;
    const times = (seen.get(v) ?? 0) + 1;
    seen.set(v, times);
    if (times > bestTimes || (times === bestTimes && v > best)) {
      best = v;
      bestTimes = times;
    }
  }
  return best;
}

async function* csvRows(path: string, delimiter: string) {
  const input = createReadStream(path);
  const parser = parse({
    bom: true,
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    // `12" screen` is text, not a broken quote; a field that opens with a quote must still close it
    relax_quotes: true,
    max_record_size: MAX_RECORD_CHARS,
    info: true,
  });
  pipeline(input, new Utf8Check(), parser, () => {
    // errors reach the parser, whose iteration below throws them
  });
  let lastLine = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number; records: number };
    }>) {
      const row = info.records;
      lastLine = info.lines;
      const cells: CellValue[] = new Array(record.length);
      let blank = true;
      for (let i = 0; i < record.length; i++) {
        const v = record[i]!;
        cells[i] = v === '' ? null : v;
        if (blank && v !== '' && v.trim() !== '') blank = false;
      }
      if (!blank) yield { row, cells } satisfies SheetRow;
    }
  } catch (err) {
    throw isCsvError(err) ? badCsv(err, lastLine + 1) : err;
  } finally {
    parser.destroy();
    input.destroy();
  }
}

function isCsvError(err: unknown): err is CsvError {
  const code = (err as Partial<CsvError> | undefined)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('CSV_');
}

function badCsv(err: CsvError, recordLine: number): FileRejectedError {
  const line = (err as unknown as { lines?: number }).lines ?? recordLine;
  const fix =
    'Add the closing quote (a quote inside a quoted value is written twice: "") and upload the file again.';
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
    return new FileRejectedError(
      `The CSV file has a quote opened at line ${recordLine} that is never closed. ${fix}`,
      'bad-csv',
      { line: recordLine },
    );
  }
  if (err.code === 'CSV_MAX_RECORD_SIZE') {
    return new FileRejectedError(
      `The CSV record starting at line ${recordLine} is longer than 1 MB, which usually means a quote ` +
        `that is never closed. ${fix}`,
      'bad-csv',
      { line: recordLine },
    );
  }
  return new FileRejectedError(
    `The CSV file cannot be read at line ${line}: ${err.message}. Fix that line and upload the file again.`,
    'bad-csv',
    { line },
  );
}

/**
 * Refuses bytes that are not UTF-8 past the sniffed head: csv-parse would turn them into U+FFFD
 * and the import would store garbled names.
 */
class Utf8Check extends Transform {
  private pending = Buffer.alloc(0);
  private offset = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const cut = incompleteTail(buf);
    const whole = cut === 0 ? buf : buf.subarray(0, buf.length - cut);
    if (!isUtf8(whole)) {
      done(notUtf8(this.offset));
      return;
    }
    this.offset += whole.length;
    this.pending = cut === 0 ? Buffer.alloc(0) : Buffer.from(buf.subarray(buf.length - cut));
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(this.pending.length > 0 ? notUtf8(this.offset) : null);
  }
}

function notUtf8(offset: number): UnsupportedFileError {
  return new UnsupportedFileError(
    `This CSV is not entirely UTF-8 text (from about ${Math.max(1, Math.round(offset / 1024))} KB into the ` +
      'file). In Excel use "Save As" > "CSV UTF-8 (Comma delimited)" and upload that file.',
    { offset },
  );
}

/** Bytes at the end of `buf` that start a UTF-8 sequence the next chunk completes. */
function incompleteTail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}
