/**
 * The two workbooks an import hands out: the empty template of a kind (headers, data validation,
 * an example row, a sheet of instructions) and the error workbook (the uploaded rows to fix, as
 * they were, with an error column), which uploads again as it is once fixed.
 */
import { rename } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { displayValue, MAX_CELL_TEXT } from './cell-values.ts';
import { ERROR_COLUMN, FIELDS, type FieldDef, type ImportKind, normaliseHeader } from './import-fields.ts';
import type { RowIssue } from './import-rows.ts';
import type { ImportDetail } from './import-store.ts';
import type { CellValue, SheetRow } from './sheet-reader.ts';

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF1F4E79' } };
const ERROR_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFDE2E2' } };
const HEADER_FONT: Partial<ExcelJS.Font> = { bold: true, color: { argb: 'FFFFFFFF' } };
const DATE_FORMAT = 'yyyy-mm-dd hh:mm';
const VALIDATED_ROWS = 10_000;

function title(kind: ImportKind): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

function validationFor(field: FieldDef): ExcelJS.DataValidation | undefined {
  const common = {
    allowBlank: field.required !== true,
    showErrorMessage: true,
    showInputMessage: true,
    promptTitle: field.label,
    prompt: field.description.slice(0, 255),
    errorTitle: `Invalid ${field.label}`,
  };
  if (field.format === 'money') {
    return {
      ...common,
      type: 'decimal',
      operator: 'greaterThanOrEqual',
      formulae: [0],
      error: `${field.label} must be a number ≥ 0`,
    };
  }
  if (field.format === 'number') {
    return {
      ...common,
      type: 'decimal',
      operator: 'between',
      formulae: [-1_000_000_000, 1_000_000_000],
      error: `${field.label} must be a number`,
    };
  }
  if (field.format === 'datetime') {
    return {
      ...common,
      type: 'date',
      operator: 'greaterThan',
      formulae: [new Date(Date.UTC(2000, 0, 1))],
      error: `${field.label} must be a date after 2000-01-01`,
    };
  }
  return {
    ...common,
    type: 'textLength',
    operator: 'lessThanOrEqual',
    formulae: [200],
    error: `${field.label} is at most 200 characters`,
  };
}

/** Headers, an example row (skipped on import), data validation, and a sheet explaining each column. */
export async function buildTemplateWorkbook(kind: ImportKind): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'SalesFlow Analytics';
  wb.created = new Date(Date.UTC(2026, 0, 1));
  const fields = FIELDS[kind];
  const ws = wb.addWorksheet(title(kind), { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = fields.map((f) => ({
    header: f.label,
    key: f.key,
    width: Math.max(14, f.label.length + 4, f.format === 'datetime' ? 18 : 0),
    ...(f.format === 'datetime' ? { style: { numFmt: DATE_FORMAT } } : {}),
    ...(f.format === 'money' ? { style: { numFmt: '0.00' } } : {}),
  }));
  const header = ws.getRow(1);
  header.font = HEADER_FONT;
  header.fill = HEADER_FILL;
  fields.forEach((f, i) => {
    header.getCell(i + 1).note =
      `${f.required === true ? 'Required. ' : f.required ? 'This or the other product column. ' : 'Optional. '}${f.description}`;
  });
  const example = ws.addRow(Object.fromEntries(fields.map((f) => [f.key, f.example])));
  example.font = { italic: true, color: { argb: 'FF7F7F7F' } };
  fields.forEach((f, i) => {
    const validation = validationFor(f);
    const col = ws.getColumn(i + 1).letter;
    if (validation) {
      (
        ws as unknown as { dataValidations: { add(a: string, v: ExcelJS.DataValidation): void } }
      ).dataValidations.add(`${col}2:${col}${VALIDATED_ROWS}`, validation);
    }
  });

  const help = wb.addWorksheet('Instructions');
  help.columns = [
    { header: 'Column', key: 'label', width: 16 },
    { header: 'Required', key: 'required', width: 12 },
    { header: 'Also accepted as', key: 'aliases', width: 48 },
    { header: 'What to write', key: 'description', width: 80 },
  ];
  help.getRow(1).font = HEADER_FONT;
  help.getRow(1).fill = HEADER_FILL;
  for (const f of fields) {
    help.addRow({
      label: f.label,
      required: f.required === true ? 'yes' : f.required ? 'product id or SKU' : 'no',
      aliases: f.aliases.join(', '),
      description: f.description,
    });
  }
  help.addRow({});
  help.addRow({
    label: 'Notes',
    description:
      `Headers match case- and space-insensitively. The grey example row (its key starts with EXAMPLE-) is ` +
      'skipped on import: overwrite it or add rows under it. Upload with mode=dry_run first to see what would change.',
  });
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function writable(cell: CellValue | undefined): ExcelJS.CellValue {
  if (cell === undefined || cell === null) return null;
  if (typeof cell === 'object' && !(cell instanceof Date)) return cell.error;
  // Excel cannot open a longer cell; the row's error says how long it was.
  if (typeof cell === 'string' && cell.length > MAX_CELL_TEXT) return cell.slice(0, MAX_CELL_TEXT);
  return cell;
}

/**
 * Streams the rows to fix into `target`: the header as uploaded plus an error column, then each
 * row (all of them when nothing was applied, else only those that did not land) with its messages,
 * the cells at fault shaded.
 */
export async function buildErrorWorkbook(input: {
  rows: AsyncIterable<SheetRow>;
  detail: ImportDetail;
  target: string;
  sheetName: string;
}): Promise<void> {
  const { detail } = input;
  const byRow = new Map<number, RowIssue[]>();
  for (const issue of detail.issues) {
    const list = byRow.get(issue.row);
    if (list) list.push(issue);
    else byRow.set(issue.row, [issue]);
  }
  const extra = new Map(detail.extra.map((e) => [e.row, e.message]));
  const only = detail.onlyRows ? new Set(detail.onlyRows) : null;
  const tmp = `${input.target}.tmp`;
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: tmp,
    useStyles: true,
    useSharedStrings: false,
  });
  const ws = wb.addWorksheet(title(input.sheetName as ImportKind), {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  let columnOfHeader = new Map<string, number>();
  let width = 0;
  let staleErrors = -1;
  for await (const r of input.rows) {
    if (r.row < detail.headerRow) continue;
    if (r.row === detail.headerRow) {
      // Drop an error column of an earlier round: the new one replaces it.
      staleErrors = r.cells.findIndex(
        (c) => normaliseHeader(String(displayValue(c) ?? '')) === 'importerrors',
      );
      const cells = r.cells.map((c, i) => (i === staleErrors ? null : c));
      width = cells.length;
      columnOfHeader = new Map(cells.map((c, i) => [String(displayValue(c) ?? ''), i]));
      const row = ws.addRow([...cells.map(writable), ERROR_COLUMN]);
      row.font = HEADER_FONT;
      row.fill = HEADER_FILL;
      row.commit();
      ws.getColumn(width + 1).width = 60;
      continue;
    }
    if (only && !only.has(r.row)) continue;
    const issues = byRow.get(r.row) ?? [];
    const messages = issues.map((i) => i.message);
    const more = extra.get(r.row);
    if (more) messages.push(more);
    const values: ExcelJS.CellValue[] = [];
    for (let i = 0; i < width; i++) values.push(i === staleErrors ? null : writable(r.cells[i]));
    values.push(messages.join('; ') || null);
    const row = ws.addRow(values);
    for (const issue of issues) {
      const col = issue.column === null ? undefined : columnOfHeader.get(issue.column);
      if (col !== undefined) row.getCell(col + 1).fill = ERROR_FILL;
    }
    values.forEach((v, i) => {
      if (v instanceof Date) row.getCell(i + 1).numFmt = DATE_FORMAT;
    });
    if (messages.length) row.getCell(width + 1).font = { color: { argb: 'FFC00000' } };
    row.commit();
  }
  ws.commit();
  await wb.commit();
  await rename(tmp, input.target);
}
