/**
 * A report document as an Excel workbook (exceljs): a Summary sheet, then a sheet per section.
 *
 * Every section sheet has the same layout so people and macros find their way: a short sheet name,
 * the section's full title in row 1, its note in row 2, the column headers in row 3 (frozen,
 * repeated on printed pages, with an autofilter over the data rows), the rows, then the totals row
 * (bold, outside the filter so sorting leaves it last). KPI sections become a table (indicator,
 * value, then previous figure and change per comparison); charts become a data sheet named for the
 * chart, with nothing next to its block (row 2 stays empty): select a cell of it, insert a chart.
 * Days and months are real dates; long lists have every row (the PDF only the top ones).
 *
 * Cells are typed and formatted as cell-format.ts says; growth cells also get a green / red fill by
 * conditional formatting. The output is byte-for-byte deterministic: dates come from `producedAt`,
 * the ZIP entries' times too.
 */
import ExcelJS from 'exceljs';
import type {
  CellType,
  CellValue,
  ChartSection,
  KpiSection,
  ReportDocument,
  Section,
  TableSection,
} from '../report-types.ts';
import {
  columnLetter,
  columnWidth,
  createSheetNamer,
  DATE_FORMATS,
  displayText,
  isNumericType,
  isoDayToDate,
  MAX_COLUMN_WIDTH,
  moneyFormat,
  NUMBER_FORMATS,
  numFmtFor,
  storedNumber,
  textWidth,
  xlsxText,
} from './cell-format.ts';
import { setZipEntryTimes } from './zip.ts';

const CREATOR = 'SalesFlow Analytics';
const TITLE_ROW = 1;
const NOTE_ROW = 2;
const HEADER_ROW = 3;
const FIRST_DATA_ROW = HEADER_ROW + 1;

/** The warning shown on the Summary sheet when `complete` is false. */
export const INCOMPLETE_LABEL = 'Incomplete data';
const INCOMPLETE_TEXT =
  'A day of this period is still open, could not be re-read, or the catalog is stale: figures may change.';

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE7E6E6' } };
const THIN: Partial<ExcelJS.Border> = { style: 'thin' };
// Excel's own "Good" and "Bad" colours; a DXF fill shows its bgColor, other readers its fgColor
const UP_STYLE: Partial<ExcelJS.Style> = {
  font: { color: { argb: 'FF006100' } },
  fill: { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFC6EFCE' }, bgColor: { argb: 'FFC6EFCE' } },
};
const DOWN_STYLE: Partial<ExcelJS.Style> = {
  font: { color: { argb: 'FF9C0006' } },
  fill: { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFC7CE' }, bgColor: { argb: 'FFFFC7CE' } },
};

interface GridCell {
  value: CellValue;
  /** month: a `YYYY-MM` key, written as the first of the month */
  type: CellType | 'month';
}

/** A section flattened to a table: what every section sheet is drawn from. */
interface Grid {
  title: string;
  note?: string;
  headers: string[];
  rows: GridCell[][];
  totals?: GridCell[];
}

function tableGrid(s: TableSection): Grid {
  const cells = (row: Record<string, CellValue>) =>
    s.columns.map((c) => ({ value: row[c.key] ?? null, type: c.type }));
  return {
    title: s.title,
    note: s.note,
    headers: s.columns.map((c) => c.title),
    rows: s.rows.map(cells),
    totals: s.totals ? cells(s.totals) : undefined,
  };
}

function kpiGrid(s: KpiSection): Grid {
  return {
    title: s.title,
    headers: ['Indicator', 'Value', ...s.against.flatMap((a) => [`Previous (${a})`, `Change (${a})`])],
    rows: s.items.map((item) => [
      { value: item.label, type: 'text' },
      { value: item.value, type: item.type },
      ...s.against.flatMap((_, i): GridCell[] => [
        { value: item.previous[i] ?? null, type: item.type },
        { value: item.growth[i] ?? null, type: item.changeUnit === 'pt' ? 'points' : 'growth' },
      ]),
    ]),
  };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_MONTH = /^\d{4}-\d{2}$/;

function chartGrid(s: ChartSection): Grid {
  const xs: string[] = [];
  const seen = new Set<string>();
  for (const series of s.series) {
    for (const p of series.points) {
      if (!seen.has(p.x)) {
        seen.add(p.x);
        xs.push(p.x);
      }
    }
  }
  // series of a temporal chart may each miss days; the union is put back in date order
  const days = xs.every((x) => ISO_DATE.test(x));
  const months = xs.every((x) => ISO_MONTH.test(x));
  if (days || months) xs.sort();
  const xType: GridCell['type'] = days ? 'date' : months ? 'month' : 'text';
  const bySeries = s.series.map((series) => new Map(series.points.map((p) => [p.x, p.y])));
  return {
    title: `${s.title} (chart data: ${s.yTitle} by ${s.xTitle})`,
    headers: [s.xTitle, ...s.series.map((series) => series.name)],
    rows: xs.map((x) => [
      { value: x, type: xType },
      ...bySeries.map((points): GridCell => ({ value: points.get(x) ?? null, type: s.yType })),
    ]),
  };
}

function gridOf(section: Section): Grid {
  switch (section.kind) {
    case 'table':
      return tableGrid(section);
    case 'kpis':
      return kpiGrid(section);
    case 'chart':
      return chartGrid(section);
  }
}

/** `money`: the money format of the workbook (with the document's currency). */
function setCell(cell: ExcelJS.Cell, { value, type }: GridCell, money: string = NUMBER_FORMATS.money): void {
  if (value === null || (typeof value === 'number' && !Number.isFinite(value))) return;
  const day =
    typeof value === 'string' && (type === 'date' || type === 'month')
      ? isoDayToDate(type === 'month' ? `${value}-01` : value)
      : undefined;
  if (day) {
    cell.value = day;
    cell.numFmt = type === 'month' ? DATE_FORMATS.month : NUMBER_FORMATS.date;
  } else if (typeof value === 'number' && type !== 'text' && type !== 'date' && type !== 'month') {
    cell.value = storedNumber(type, value);
    cell.numFmt = type === 'money' ? money : numFmtFor(type, value);
  } else {
    // always a plain string, never a formula object: see cell-format.ts on formula injection
    cell.value = xlsxText(String(value));
    cell.numFmt = NUMBER_FORMATS.text;
  }
}

function writeGrid(ws: ExcelJS.Worksheet, grid: Grid, money: string): void {
  const width = grid.headers.length;
  ws.getCell(TITLE_ROW, 1).value = xlsxText(grid.title);
  ws.getCell(TITLE_ROW, 1).font = { bold: true, size: 13 };
  if (grid.note) {
    ws.getCell(NOTE_ROW, 1).value = xlsxText(grid.note);
    ws.getCell(NOTE_ROW, 1).font = { italic: true, color: { argb: 'FF595959' } };
  }

  const numericColumn = grid.headers.map((_, i) =>
    [...grid.rows, ...(grid.totals ? [grid.totals] : [])].every((row) => {
      const c = row[i];
      return !c || c.value === null || (c.type !== 'month' && isNumericType(c.type));
    }),
  );
  grid.headers.forEach((title, i) => {
    const cell = ws.getCell(HEADER_ROW, i + 1);
    cell.value = xlsxText(title);
    cell.font = { bold: true };
    cell.fill = HEADER_FILL;
    cell.border = { bottom: THIN };
    if (numericColumn[i]) cell.alignment = { horizontal: 'right' };
  });

  grid.rows.forEach((row, r) => {
    row.forEach((c, i) => {
      setCell(ws.getCell(FIRST_DATA_ROW + r, i + 1), c, money);
    });
  });
  const lastDataRow = HEADER_ROW + grid.rows.length;
  let lastRow = lastDataRow;
  if (grid.totals) {
    lastRow++;
    grid.totals.forEach((c, i) => {
      const cell = ws.getCell(lastRow, i + 1);
      setCell(cell, c, money);
      cell.font = { bold: true };
      cell.border = { top: THIN };
    });
  }

  ws.autoFilter = { from: { row: HEADER_ROW, column: 1 }, to: { row: lastDataRow, column: width } };

  let priority = 1;
  for (let i = 0; i < width; i++) {
    const growth = [...grid.rows, ...(grid.totals ? [grid.totals] : [])].some(
      (row) => row[i]?.type === 'growth' || row[i]?.type === 'points',
    );
    if (!growth || lastRow < FIRST_DATA_ROW) continue;
    const letter = columnLetter(i + 1);
    ws.addConditionalFormatting({
      ref: `${letter}${FIRST_DATA_ROW}:${letter}${lastRow}`,
      rules: [
        { type: 'cellIs', operator: 'greaterThan', formulae: [0], priority: priority++, style: UP_STYLE },
        { type: 'cellIs', operator: 'lessThan', formulae: [0], priority: priority++, style: DOWN_STYLE },
      ],
    });
  }

  grid.headers.forEach((title, i) => {
    const texts = [...grid.rows, ...(grid.totals ? [grid.totals] : [])].map((row) => {
      const c = row[i];
      return c ? displayText(c.value, c.type === 'month' ? 'date' : c.type) : '';
    });
    ws.getColumn(i + 1).width = columnWidth(title, texts);
  });
}

function addSheet(wb: ExcelJS.Workbook, name: string, frozenRows: number): ExcelJS.Worksheet {
  return wb.addWorksheet(name, {
    views: frozenRows > 0 ? [{ state: 'frozen', ySplit: frozenRows, xSplit: 0 }] : [{ state: 'normal' }],
    pageSetup: {
      orientation: 'landscape',
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      ...(frozenRows > 0 ? { printTitlesRow: `${frozenRows}:${frozenRows}` } : {}),
    },
  });
}

function writeSummary(ws: ExcelJS.Worksheet, doc: ReportDocument, contents: [string, string][]): void {
  ws.getCell('A1').value = xlsxText(doc.title);
  ws.getCell('A1').font = { bold: true, size: 14 };
  if (!doc.complete) {
    const label = ws.getCell('A2');
    label.value = INCOMPLETE_LABEL;
    label.font = { bold: true, color: { argb: 'FF9C0006' } };
    label.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFC7CE' } };
    const text = ws.getCell('B2');
    text.value = INCOMPLETE_TEXT;
    text.font = { bold: true, color: { argb: 'FF9C0006' } };
  }
  const facts: [string, string, 'text' | 'date' | 'dateTime'][] = [
    ['Report', doc.type, 'text'],
    ['Period', doc.periodLabel, 'text'],
    ['From', doc.period.from, 'date'],
    ['To', doc.period.to, 'date'],
    ['Scope', doc.scope, 'text'],
    ['Currency', doc.currency ?? 'EUR', 'text'],
    ['Data as of (UTC)', doc.dataAsOf ?? 'unknown', 'dateTime'],
    ['Produced at (UTC)', doc.producedAt, 'dateTime'],
    ['Data complete', doc.complete ? 'yes' : 'no', 'text'],
  ];
  let r = 4;
  for (const [label, value, kind] of facts) {
    ws.getCell(r, 1).value = label;
    ws.getCell(r, 1).font = { bold: true };
    const when = kind === 'text' ? undefined : new Date(value);
    if (when && Number.isFinite(when.getTime())) {
      ws.getCell(r, 2).value = when;
      ws.getCell(r, 2).numFmt = kind === 'date' ? NUMBER_FORMATS.date : DATE_FORMATS.dateTime;
      ws.getCell(r, 2).alignment = { horizontal: 'left' };
    } else setCell(ws.getCell(r, 2), { value, type: 'text' });
    r++;
  }
  r++;
  ws.getCell(r, 1).value = 'Sheet';
  ws.getCell(r, 2).value = 'Section';
  for (const c of [1, 2]) {
    ws.getCell(r, c).font = { bold: true };
    ws.getCell(r, c).fill = HEADER_FILL;
    ws.getCell(r, c).border = { bottom: THIN };
  }
  for (const [sheet, title] of contents) {
    r++;
    setCell(ws.getCell(r, 1), { value: sheet, type: 'text' });
    setCell(ws.getCell(r, 2), { value: title, type: 'text' });
  }
  const labels = [...facts.map(([l]) => l), INCOMPLETE_LABEL, ...contents.map(([s]) => s)];
  ws.getColumn(1).width = Math.min(MAX_COLUMN_WIDTH, Math.max(...labels.map(textWidth)) + 2);
  ws.getColumn(2).width = columnWidth('', [
    ...facts.map(([, v, kind]) => (kind === 'text' ? v : '2026-01-01 00:00:00')),
    ...contents.map(([, v]) => v),
  ]);
}

/** A report document as a workbook: a sheet per section (charts become a data sheet). */
export async function renderXlsx(doc: ReportDocument): Promise<Buffer> {
  const producedAt = new Date(doc.producedAt);
  const wb = new ExcelJS.Workbook();
  wb.creator = CREATOR;
  wb.lastModifiedBy = CREATOR;
  wb.title = doc.title;
  wb.created = producedAt;
  wb.modified = producedAt;

  const money = moneyFormat(doc.currency ?? 'EUR', doc.locale ?? 'en-GB');
  const name = createSheetNamer();
  const summary = addSheet(wb, name('Summary'), 0);
  const contents: [string, string][] = [];
  for (const section of doc.sections) {
    const sheetName = name(section.sheet ?? section.title);
    contents.push([sheetName, section.title]);
    writeGrid(addSheet(wb, sheetName, HEADER_ROW), gridOf(section), money);
  }
  writeSummary(summary, doc, contents);

  const written = await wb.xlsx.writeBuffer();
  const bytes = Buffer.isBuffer(written) ? written : Buffer.from(written as ArrayBuffer);
  // JSZip stamps entries with the clock: set them from the data, like the document dates
  return setZipEntryTimes(bytes, producedAt);
}
