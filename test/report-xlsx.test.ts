/** Excel and CSV renderers: report workbooks read back with exceljs, the streamed sales-lines export. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { wallClockFormatter } from '../src/lib/calendar.ts';
import type { UpstreamSaleLine } from '../src/models/upstream.ts';
import type { ReportDocument, TableSection } from '../src/services/reports/report-types.ts';
import { createSheetNamer, NUMBER_FORMATS } from '../src/services/reports/xlsx/cell-format.ts';
import {
  type SalesLineLabels,
  writeSalesLinesCsv,
  writeSalesLinesXlsx,
} from '../src/services/reports/xlsx/sales-lines.ts';
import { INCOMPLETE_LABEL, renderXlsx } from '../src/services/reports/xlsx/xlsx-renderer.ts';
import { dosDateTime, zipEntryTimes } from '../src/services/reports/xlsx/zip.ts';

const INJECTIONS = ['=1+1', '+33 6', '-5', '@SUM(A1)', '\tx', '\rx'];
/** what an XLSX string cell holds for each (line breaks are stored as \n) */
const INJECTIONS_READ = ['=1+1', '+33 6', '-5', '@SUM(A1)', '\tx', '\nx'];

const storesTable: TableSection = {
  kind: 'table',
  title: 'Revenue by store',
  note: 'All 3 stores',
  columns: [
    { key: 'store', title: 'Store', type: 'text' },
    { key: 'revenue', title: 'Revenue', type: 'money' },
    { key: 'orders', title: 'Orders', type: 'int' },
    { key: 'margin', title: 'Margin', type: 'pct' },
    { key: 'growth', title: 'Growth', type: 'growth' },
    { key: 'share', title: 'Share', type: 'pct' },
  ],
  rows: [
    { store: 'Paris Rivoli', revenue: 12345.67, orders: 321, margin: 43.21, growth: 4.5, share: 51.23 },
    { store: 'Lyon Part-Dieu', revenue: 8000, orders: 200, margin: 38.5, growth: -12.25, share: 33.21 },
    {
      store: 'Bordeaux Sainte-Catherine, the store with the longest name of the whole network by far',
      revenue: 3752.1,
      orders: 97,
      margin: null,
      growth: 0,
      share: 15.56,
    },
  ],
  totals: { store: 'Total', revenue: 24097.77, orders: 618, margin: 41.02, growth: -1.5, share: 100 },
};

const productsTable: TableSection = {
  kind: 'table',
  title: 'Top products by revenue, all categories [yesterday]',
  note: 'Top 2 of 40 products by revenue',
  columns: [
    { key: 'sku', title: 'SKU', type: 'text' },
    { key: 'name', title: 'Product', type: 'text' },
    { key: 'qty', title: 'Quantity', type: 'number' },
    { key: 'revenue', title: 'Revenue', type: 'money' },
  ],
  rows: [
    { sku: 'SKU-1', name: 'Café crème 250 g', qty: 12.5, revenue: 150.25 },
    { sku: 'SKU-2', name: 'Thé vert', qty: 3, revenue: 21 },
  ],
};

const categoriesTable: TableSection = {
  kind: 'table',
  title: 'Revenue by store',
  columns: [
    { key: 'category', title: 'Category', type: 'text' },
    { key: 'revenue', title: 'Revenue', type: 'money' },
  ],
  rows: [{ category: 'Drinks', revenue: 171.25 }],
};

function dailyDoc(overrides: Partial<ReportDocument> = {}): ReportDocument {
  return {
    type: 'daily',
    title: 'Daily report',
    periodLabel: 'Monday 16 November 2026',
    period: { from: '2026-11-16', to: '2026-11-16' },
    scope: 'All stores',
    dataAsOf: '2026-11-17T02:00:00.000Z',
    complete: true,
    producedAt: '2026-11-17T02:00:00.000Z',
    sections: [
      {
        kind: 'kpis',
        title: 'Key figures',
        against: ['vs 7-day average', 'vs same weekday, 4 weeks'],
        items: [
          {
            label: 'Revenue',
            value: 24097.77,
            type: 'money',
            previous: [23000, 25000.5],
            growth: [4.77, -3.61],
          },
          { label: 'Orders', value: 618, type: 'int', previous: [600, null], growth: [3, null] },
          { label: 'Margin', value: 41.02, type: 'pct', previous: [40, 42], growth: [2.55, -2.33] },
        ],
      },
      storesTable,
      productsTable,
      categoriesTable,
      {
        kind: 'chart',
        title: 'Revenue, last 7 days',
        chart: 'line',
        xTitle: 'Day',
        yTitle: 'Revenue',
        yType: 'money',
        series: [
          {
            name: 'This week',
            points: [
              { x: '2026-11-15', y: 20000 },
              { x: '2026-11-16', y: 24097.77 },
            ],
          },
          {
            name: 'Last week',
            points: [
              { x: '2026-11-14', y: 19000.5 },
              { x: '2026-11-16', y: 23000 },
            ],
          },
        ],
      },
    ],
    ...overrides,
  };
}

async function load(bytes: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ExcelJS.Buffer);
  return wb;
}

function sheet(wb: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const ws = wb.getWorksheet(name);
  assert.ok(ws, `sheet ${name}`);
  return ws;
}

/** The values of a row from column 1, holes as undefined, trailing blanks dropped. */
function rowValues(ws: ExcelJS.Worksheet, r: number): unknown[] {
  const values = ws.getRow(r).values as unknown[];
  return Array.from({ length: Math.max(0, values.length - 1) }, (_, c) => values[c + 1]);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function allCells(wb: ExcelJS.Workbook): ExcelJS.Cell[] {
  const cells: ExcelJS.Cell[] = [];
  for (const ws of wb.worksheets) {
    ws.eachRow({ includeEmpty: false }, (row) => {
      row.eachCell({ includeEmpty: false }, (cell) => {
        cells.push(cell);
      });
    });
  }
  return cells;
}

/** Conditional formats as exceljs reads them (missing from its type declarations). */
function conditionalFormats(ws: ExcelJS.Worksheet): ExcelJS.ConditionalFormattingOptions[] {
  return (ws as unknown as { conditionalFormattings: ExcelJS.ConditionalFormattingOptions[] })
    .conditionalFormattings;
}

function findCell(ws: ExcelJS.Worksheet, value: string): ExcelJS.Cell | undefined {
  let found: ExcelJS.Cell | undefined;
  ws.eachRow((row) => {
    row.eachCell((cell) => {
      if (!found && cell.value === value) found = cell;
    });
  });
  return found;
}

test('sheet names: at most 31 characters, none of []:*?/\\, unique ignoring case, not History', () => {
  const name = createSheetNamer();
  assert.equal(name('Summary'), 'Summary');
  assert.equal(name('summary'), 'summary (2)');
  assert.equal(name('Top: a/b [c]*?\\'), 'Top a b c');
  const long = name('A title much longer than thirty-one characters');
  assert.equal(long, 'A title much longer than thirty');
  const again = name('A title much longer than thirty-one characters, again');
  assert.equal(again, 'A title much longer than th (2)');
  assert.ok(again.length <= 31);
  assert.equal(name("'quoted'"), 'quoted');
  assert.equal(name('History'), 'History (2)');
  assert.equal(name(' *? '), 'Sheet');
});

test('report workbook: Summary then a sheet per section, frozen header, autofilter, widths', async () => {
  const wb = await load(await renderXlsx(dailyDoc()));
  assert.deepEqual(
    wb.worksheets.map((ws) => ws.name),
    [
      'Summary',
      'Key figures',
      'Revenue by store',
      'Top products by revenue, all ca',
      'Revenue by store (2)',
      'Revenue, last 7 days',
    ],
  );
  assert.equal(wb.creator, 'SalesFlow Analytics');
  assert.equal(wb.created.toISOString(), '2026-11-17T02:00:00.000Z');

  const summary = sheet(wb, 'Summary');
  assert.equal(summary.getCell('A1').value, 'Daily report');
  assert.equal(findCell(summary, INCOMPLETE_LABEL), undefined, 'no warning when complete');
  const facts = new Map<string, unknown>();
  summary.eachRow((row) => {
    facts.set(String(row.getCell(1).value), row.getCell(2).value);
  });
  assert.equal(facts.get('Period'), 'Monday 16 November 2026');
  assert.equal(facts.get('Scope'), 'All stores');
  // dates and times are real dates (Excel serials with a date format), not text
  assert.equal((facts.get('Data as of (UTC)') as Date).toISOString(), '2026-11-17T02:00:00.000Z');
  assert.equal((facts.get('Produced at (UTC)') as Date).toISOString(), '2026-11-17T02:00:00.000Z');
  assert.equal((facts.get('From') as Date).toISOString(), '2026-11-16T00:00:00.000Z');
  assert.equal(facts.get('Currency'), 'EUR');
  assert.equal(facts.get('Top products by revenue, all ca'), productsTable.title);

  for (const ws of wb.worksheets.slice(1)) {
    const view = ws.views[0] as Partial<ExcelJS.WorksheetViewFrozen> | undefined;
    assert.equal(view?.state, 'frozen', `${ws.name} frozen`);
    assert.equal(view?.ySplit, 3, `${ws.name}: rows down to the header stay in view`);
  }

  const stores = sheet(wb, 'Revenue by store');
  assert.equal(stores.getCell('A1').value, 'Revenue by store');
  assert.equal(stores.getCell('A2').value, 'All 3 stores');
  assert.deepEqual(
    rowValues(stores, 3),
    storesTable.columns.map((c) => c.title),
  );
  // the filter covers the header and the rows, not the totals
  assert.equal(stores.autoFilter, 'A3:F6');
  assert.equal(sheet(wb, 'Top products by revenue, all ca').autoFilter, 'A3:D5');
  assert.equal(sheet(wb, 'Revenue, last 7 days').autoFilter, 'A3:C6');

  const width = (ws: ExcelJS.Worksheet, col: number) => ws.getColumn(col).width ?? 0;
  assert.equal(width(stores, 1), 60, 'a very long name is capped');
  assert.ok(
    width(stores, 2) >= '24,097.77'.length + 2 && width(stores, 2) < 20,
    `money width ${width(stores, 2)}`,
  );
  const products = sheet(wb, 'Top products by revenue, all ca');
  assert.ok(width(products, 2) >= 'Café crème 250 g'.length + 2 && width(products, 2) < 30);
});

test('report workbook: every value of every table, typed, with its number format', async () => {
  const doc = dailyDoc();
  const wb = await load(await renderXlsx(doc));
  const tables: [string, TableSection][] = [
    ['Revenue by store', storesTable],
    ['Top products by revenue, all ca', productsTable],
    ['Revenue by store (2)', categoriesTable],
  ];
  for (const [name, table] of tables) {
    const ws = sheet(wb, name);
    const rows = [...table.rows, ...(table.totals ? [table.totals] : [])];
    rows.forEach((row, r) => {
      table.columns.forEach((col, c) => {
        const cell = ws.getCell(4 + r, c + 1);
        const value = row[col.key] ?? null;
        // one percent convention: percentages are stored as the fractions they stand for
        const percent = col.type === 'pct' || col.type === 'growth';
        const expected = typeof value === 'number' && percent ? Math.round(value * 1e4) / 1e6 : value;
        assert.equal(cell.value, expected, `${name} ${cell.address}`);
        if (expected === null) return;
        assert.equal(
          cell.type,
          typeof expected === 'number' ? ExcelJS.ValueType.Number : ExcelJS.ValueType.String,
        );
        const fmt =
          col.type === 'money'
            ? '"€"#,##0.00'
            : col.type === 'number' && Number.isInteger(expected)
              ? NUMBER_FORMATS.int
              : NUMBER_FORMATS[col.type];
        assert.equal(cell.numFmt, fmt, `${name} ${cell.address} format`);
      });
    });
    assert.equal(ws.rowCount, 3 + rows.length, `${name}: nothing after the table`);
  }

  const stores = sheet(wb, 'Revenue by store');
  assert.equal(stores.getCell('B4').numFmt, '"€"#,##0.00', 'money in the currency (CURRENCY=EUR)');
  assert.equal(stores.getCell('C4').numFmt, '#,##0');
  assert.equal(stores.getCell('D4').numFmt, '0.00%');
  assert.equal(stores.getCell('D4').value, 0.4321, 'a percentage is stored as its fraction');
  assert.equal(stores.getCell('E4').numFmt, NUMBER_FORMATS.growth);
  assert.equal(stores.getCell('E4').value, 0.045);
  assert.match(NUMBER_FORMATS.growth, /▲.*%.*;.*▼.*%/, 'the direction is printed, not only coloured');
  assert.equal(stores.getCell('F4').numFmt, '0.00%');
  const products = sheet(wb, 'Top products by revenue, all ca');
  assert.equal(products.getCell('C4').numFmt, '#,##0.###');
  assert.equal(products.getCell('C5').numFmt, '#,##0', 'a whole quantity shows no trailing point');

  // totals row bold, data rows not
  for (let c = 1; c <= 6; c++) assert.equal(stores.getCell(7, c).font?.bold, true, `total ${c} bold`);
  assert.notEqual(stores.getCell(4, 1).font?.bold, true);
  assert.equal(stores.getCell(3, 1).font?.bold, true, 'header bold');

  // growth columns carry green / red conditional formatting
  const cf = conditionalFormats(stores);
  assert.equal(cf.length, 1);
  assert.equal(cf[0]?.ref, 'E4:E7');
  const rules = cf[0]?.rules ?? [];
  assert.deepEqual(
    rules.map((r) => (r.type === 'cellIs' ? [r.operator, r.formulae?.map(String)] : r.type)),
    [
      ['greaterThan', ['0']],
      ['lessThan', ['0']],
    ],
  );
  assert.equal(rules[0]?.style?.font?.color?.argb, 'FF006100');
  assert.equal(rules[1]?.style?.font?.color?.argb, 'FF9C0006');
  assert.equal(conditionalFormats(sheet(wb, 'Top products by revenue, all ca')).length, 0);

  // KPIs: label, value, then previous and growth per comparison
  const kpis = sheet(wb, 'Key figures');
  assert.deepEqual(rowValues(kpis, 3), [
    'Indicator',
    'Value',
    'Previous (vs 7-day average)',
    'Change (vs 7-day average)',
    'Previous (vs same weekday, 4 weeks)',
    'Change (vs same weekday, 4 weeks)',
  ]);
  assert.deepEqual(rowValues(kpis, 4), ['Revenue', 24097.77, 23000, 0.0477, 25000.5, -0.0361]);
  assert.deepEqual(rowValues(kpis, 5), ['Orders', 618, 600, 0.03]);
  assert.equal(kpis.getCell('B4').numFmt, '"€"#,##0.00');
  assert.equal(kpis.getCell('B5').numFmt, '#,##0');
  assert.equal(kpis.getCell('B6').numFmt, '0.00%');
  assert.equal(kpis.getCell('D4').numFmt, NUMBER_FORMATS.growth);
  assert.deepEqual(
    conditionalFormats(kpis).map((c) => c.ref),
    ['D4:D6', 'F4:F6'],
  );

  // a chart becomes its data: x, one column per series, days in order, gaps left blank
  const chart = sheet(wb, 'Revenue, last 7 days');
  assert.deepEqual(rowValues(chart, 3), ['Day', 'This week', 'Last week']);
  const day = (iso: string) => new Date(`${iso}T00:00:00.000Z`);
  assert.deepEqual(rowValues(chart, 4), [day('2026-11-14'), undefined, 19000.5]);
  assert.deepEqual(rowValues(chart, 5), [day('2026-11-15'), 20000]);
  assert.deepEqual(rowValues(chart, 6), [day('2026-11-16'), 24097.77, 23000]);
  assert.equal(chart.getCell('A4').numFmt, 'yyyy-mm-dd', 'days are real dates');
  assert.equal(chart.getCell('A2').value, null, 'nothing touches the chart block: it charts in one click');
  assert.equal(chart.getCell('B6').numFmt, '"€"#,##0.00');
});

test('report workbook: incomplete data is said on the Summary sheet', async () => {
  const wb = await load(await renderXlsx(dailyDoc({ complete: false })));
  const summary = sheet(wb, 'Summary');
  const warning = findCell(summary, INCOMPLETE_LABEL);
  assert.ok(warning, 'warning line');
  assert.equal(warning.row, 2, 'right under the title');
  assert.equal(warning.font?.bold, true);
  assert.match(String(summary.getCell(warning.row, 2).value), /may change/);
});

test('report workbook: text that looks like a formula stays a string, no cell is a formula', async () => {
  const doc = dailyDoc({
    scope: 'Store: =HYPERLINK("http://x")',
    sections: [
      {
        kind: 'table',
        title: '=cmd|calc',
        columns: [
          { key: 'store', title: '=Store', type: 'text' },
          { key: 'product', title: 'Product', type: 'text' },
          { key: 'revenue', title: 'Revenue', type: 'money' },
        ],
        rows: INJECTIONS.map((text, i) => ({ store: text, product: text, revenue: i })),
      },
    ],
  });
  const wb = await load(await renderXlsx(doc));
  const ws = sheet(wb, '=cmd|calc');
  INJECTIONS_READ.forEach((text, i) => {
    for (const col of [1, 2]) {
      const cell = ws.getCell(4 + i, col);
      assert.equal(cell.type, ExcelJS.ValueType.String, `${JSON.stringify(text)} is a string cell`);
      assert.equal(cell.value, text);
      assert.equal(cell.numFmt, '@', 'text format: editing the cell keeps it text');
    }
  });
  const cells = allCells(wb);
  assert.ok(cells.length > 20);
  for (const cell of cells) {
    assert.notEqual(cell.type, ExcelJS.ValueType.Formula, `${cell.worksheet.name}!${cell.address}`);
    assert.equal(cell.formula, undefined);
  }
});

test('report workbook: the same document gives the same bytes, whatever the clock says', async (t) => {
  const doc = dailyDoc({ complete: false });
  const first = await renderXlsx(doc);
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2031, 5, 7, 13, 37, 11) });
  const second = await renderXlsx(doc);
  t.mock.timers.reset();
  assert.equal(sha256(second), sha256(first));
  const { date, time } = dosDateTime(new Date(doc.producedAt));
  const entries = zipEntryTimes(first);
  assert.ok(entries.some((e) => e.name === 'xl/workbook.xml'));
  for (const e of entries) assert.deepEqual([e.name, e.date, e.time], [e.name, date, time]);
  assert.notEqual(sha256(await renderXlsx(dailyDoc({ complete: true }))), sha256(first));
});

// ---------------------------------------------------------------------------------------------
// sales lines

const stores: Record<string, { name: string; region: string }> = {
  s1: { name: 'Paris "Rivoli"; Châtelet', region: 'Île-de-France' },
  s2: { name: '=1+1', region: '@SUM(A1)' },
  s3: { name: 'Lyon, Part-Dieu\nniveau 2', region: '-5' },
};
const products: Record<string, { sku: string; name: string; category: string; brand: string }> = {
  p1: { sku: 'SKU-1', name: 'Café crème', category: 'Drinks', brand: '+33 6' },
  p2: { sku: 'SKU-2', name: '\tx', category: '\rx', brand: 'Brand' },
};
const labels: SalesLineLabels = {
  store: (id) => stores[id],
  product: (id) => products[id],
  businessDay: (soldAt) => soldAt.slice(0, 10),
  wallClock: wallClockFormatter('Europe/Paris'),
};

function line(n: number, over: Partial<UpstreamSaleLine> = {}): UpstreamSaleLine {
  return {
    id: `L${n}`,
    orderId: `O${Math.floor(n / 2)}`,
    soldAt: `2026-11-${String(10 + (n % 5)).padStart(2, '0')}T09:${String(n % 60).padStart(2, '0')}:00+01:00`,
    storeId: ['s1', 's2', 's3'][n % 3]!,
    productId: ['p1', 'p2'][n % 2]!,
    quantity: n % 4 === 0 ? 1.25 : n,
    unitPrice: 2.5,
    amount: 2.5 * (n % 4 === 0 ? 1.25 : n),
    unitCost: n % 3 === 0 ? null : 1.1,
    ...over,
  };
}

const PAGES: UpstreamSaleLine[][] = [
  [line(1), line(2), line(3), line(4)],
  [],
  [line(5), line(6, { productId: 'unknown', storeId: 'gone' }), line(7)],
  [line(8), line(9), line(10), line(11), line(12, { unitCost: undefined })],
];
const ALL_LINES = PAGES.flat();

async function* pagesOf(pages: UpstreamSaleLine[][]): AsyncGenerator<UpstreamSaleLine[]> {
  for (const page of pages) {
    await new Promise((resolve) => setImmediate(resolve));
    yield page;
  }
}

/** A writable keeping what it gets; `slow` makes it take each chunk a turn later, with a tiny buffer. */
function sink(slow = false): { out: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    highWaterMark: slow ? 64 : 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      if (slow) setImmediate(cb);
      else cb();
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

const META = {
  title: 'Sales lines',
  from: '2026-11-10',
  to: '2026-11-14',
  producedAt: '2026-11-15T00:00:00.000Z',
  businessTz: 'Europe/Paris',
};

function expectedRow(l: UpstreamSaleLine): unknown[] {
  const s = stores[l.storeId];
  const p = products[l.productId];
  const text = (v: string | undefined) => (v ? v.replace(/\r/g, '\n') : undefined);
  return [
    l.soldAt.slice(0, 10),
    l.soldAt,
    l.orderId,
    l.id,
    l.storeId,
    text(s?.name),
    text(s?.region),
    l.productId,
    text(p?.sku),
    text(p?.name),
    text(p?.category),
    text(p?.brand),
    l.quantity,
    l.unitPrice,
    l.amount,
    l.unitCost ?? undefined,
  ];
}

test('sales lines XLSX: rows in order with their labels, typed, frozen and filterable', async () => {
  const { out, bytes } = sink();
  const result = await writeSalesLinesXlsx(pagesOf(PAGES), labels, out, META);
  assert.equal(result.rows, ALL_LINES.length);
  assert.ok(out.writableFinished, 'the output is ended');
  const wb = await load(bytes());
  assert.deepEqual(
    wb.worksheets.map((ws) => ws.name),
    ['Summary', 'Sales lines'],
  );

  const ws = sheet(wb, 'Sales lines');
  assert.deepEqual(rowValues(ws, 1), [
    'Business day',
    'Sold at',
    'Order id',
    'Line id',
    'Store id',
    'Store',
    'Region',
    'Product id',
    'SKU',
    'Product',
    'Category',
    'Brand',
    'Quantity',
    'Unit price',
    'Amount',
    'Unit cost',
  ]);
  assert.equal(ws.getCell('A1').font?.bold, true);
  const view = ws.views[0] as Partial<ExcelJS.WorksheetViewFrozen> | undefined;
  assert.equal(view?.state, 'frozen');
  assert.equal(view?.ySplit, 1);
  assert.equal(ws.autoFilter, `A1:P${ALL_LINES.length + 1}`);
  assert.equal(ws.rowCount, ALL_LINES.length + 1);
  ALL_LINES.forEach((l, i) => {
    const values = rowValues(ws, i + 2);
    while (values.length < 16) values.push(undefined);
    // business day and sold at are real dates: a date, and the wall-clock time in Europe/Paris
    // (the lines' +01:00 is Paris time in November)
    const expected = expectedRow(l);
    expected[0] = new Date(`${l.soldAt.slice(0, 10)}T00:00:00.000Z`);
    expected[1] = new Date(`${l.soldAt.slice(0, 19)}.000Z`);
    assert.deepEqual(values, expected, `row of line ${l.id}`);
  });

  // types and formats
  assert.equal(ws.getCell('A2').numFmt, 'yyyy-mm-dd');
  assert.equal(ws.getCell('B2').numFmt, 'yyyy-mm-dd hh:mm:ss');
  assert.equal(ws.pageSetup.orientation, 'landscape', 'printed landscape');
  assert.equal(ws.pageSetup.fitToWidth, 1, 'one page wide');
  for (let c = 3; c <= 12; c++) {
    const cell = ws.getCell(2, c);
    assert.equal(cell.type, ExcelJS.ValueType.String);
    assert.equal(cell.numFmt, '@');
  }
  assert.equal(ws.getCell('M2').numFmt, '#,##0', 'whole quantity');
  assert.equal(ws.getCell('M5').numFmt, '#,##0.###', 'quantity with decimals');
  for (const col of ['N', 'O', 'P']) assert.equal(ws.getCell(`${col}2`).numFmt, '#,##0.00');
  assert.equal(ws.getCell('P4').value, null, 'unit cost blank when absent');
  for (const cell of allCells(wb)) assert.notEqual(cell.type, ExcelJS.ValueType.Formula);

  const widths = ws.columns.map((c) => c.width ?? 0);
  assert.equal(widths.length, 16);
  assert.ok(widths.every((w) => w >= 8 && w <= 60));
  assert.ok((widths[1] ?? 0) >= '2026-11-11T09:01:00+01:00'.length + 2, 'sold at fits');

  const summary = sheet(wb, 'Summary');
  assert.equal(summary.getCell('A1').value, 'Sales lines');
  const facts = new Map<string, unknown>();
  summary.eachRow((row) => {
    facts.set(String(row.getCell(1).value), row.getCell(2).value);
  });
  assert.equal(facts.get('Lines'), ALL_LINES.length);
  assert.equal(facts.get('Business time zone'), 'Europe/Paris');
  assert.equal((facts.get('Produced at (UTC)') as Date).toISOString(), META.producedAt);
  assert.equal((facts.get('From') as Date).toISOString(), '2026-11-10T00:00:00.000Z', 'a real date');
  assert.equal(wb.created.toISOString(), META.producedAt);
});

test('sales lines XLSX: deterministic bytes, sheets split at the row limit, empty export, slow output', async () => {
  const write = async (
    pages: UpstreamSaleLine[][],
    max?: number,
    slow = false,
    sharedStringsLimit?: number,
  ) => {
    const { out, bytes } = sink(slow);
    const { rows } = await writeSalesLinesXlsx(pagesOf(pages), labels, out, META, {
      maxRowsPerSheet: max,
      sharedStringsLimit,
    });
    return { rows, bytes: bytes() };
  };
  const a = await write(PAGES);
  const b = await write(PAGES, undefined, true);
  assert.equal(sha256(b.bytes), sha256(a.bytes), 'same lines, same bytes, even through a slow output');
  const { date, time } = dosDateTime(new Date(META.producedAt));
  for (const e of zipEntryTimes(a.bytes)) assert.deepEqual([e.date, e.time], [date, time], e.name);

  const split = await load((await write(PAGES, 5)).bytes);
  assert.deepEqual(
    split.worksheets.map((ws) => ws.name),
    ['Summary', 'Sales lines', 'Sales lines (2)', 'Sales lines (3)'],
  );
  const ids = split.worksheets.slice(1).flatMap((ws) => {
    assert.equal(ws.getCell('A1').value, 'Business day', `${ws.name} has the header`);
    assert.equal(ws.autoFilter, `A1:P${ws.rowCount}`);
    const out: unknown[] = [];
    for (let r = 2; r <= ws.rowCount; r++) out.push(ws.getCell(r, 4).value);
    return out;
  });
  assert.deepEqual(
    ids,
    ALL_LINES.map((l) => l.id),
  );

  // past the shared strings limit, labels are written inline: the same values read back
  const cells = async (bytes: Buffer) => {
    const ws = sheet(await load(bytes), 'Sales lines');
    return Array.from({ length: ws.rowCount }, (_, r) => rowValues(ws, r + 1));
  };
  const inline = await write(PAGES, undefined, false, 3);
  assert.notEqual(sha256(inline.bytes), sha256(a.bytes));
  assert.deepEqual(await cells(inline.bytes), await cells(a.bytes));

  const empty = await write([[], []]);
  assert.equal(empty.rows, 0);
  const wb = await load(empty.bytes);
  assert.equal(sheet(wb, 'Sales lines').rowCount, 1);
  assert.equal(sheet(wb, 'Sales lines').autoFilter, 'A1:P1');
});

test('sales lines: a failing page source rejects the export', async () => {
  async function* failing(): AsyncGenerator<UpstreamSaleLine[]> {
    yield [line(1)];
    throw new Error('upstream went away');
  }
  await assert.rejects(writeSalesLinesXlsx(failing(), labels, sink().out, META), /upstream went away/);
  await assert.rejects(writeSalesLinesCsv(failing(), labels, sink().out), /upstream went away/);
});

test('sales lines: an output that fails (a client gone) rejects the export instead of hanging', async () => {
  const broken = () => {
    let n = 0;
    return new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, cb) {
        if (++n > 2) cb(new Error('client went away'));
        else setImmediate(cb);
      },
    });
  };
  const many = Array.from({ length: 20 }, (_, p) => Array.from({ length: 50 }, (_, i) => line(p * 50 + i)));
  await assert.rejects(writeSalesLinesXlsx(pagesOf(many), labels, broken(), META), /client went away|closed/);
  await assert.rejects(writeSalesLinesCsv(pagesOf(many), labels, broken()), /client went away|closed/);
});

test('sales lines CSV: BOM, RFC 4180 quoting, formula prefix, blanks, both delimiters', async () => {
  const { out, bytes } = sink();
  const result = await writeSalesLinesCsv(pagesOf(PAGES), labels, out);
  assert.equal(result.rows, ALL_LINES.length);
  const raw = bytes();
  assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte order mark');
  const text = raw.toString('utf8').slice(1);
  assert.ok(text.startsWith('Business day,Sold at,Order id,Line id,Store id,Store,Region,'));
  assert.ok(text.endsWith('\r\n'));
  // line 1: store s2 "=1+1" / "@SUM(A1)", product p2 "\tx" / "\rx"
  const first = text.split('\r\n')[1];
  assert.equal(
    first,
    `2026-11-11,2026-11-11T09:01:00+01:00,O0,L1,s2,'=1+1,'@SUM(A1),p2,SKU-2,'\tx,"'\rx",Brand,1,2.5,2.5,1.1`,
  );

  const records = parse(text, { relaxQuotes: false }) as string[][];
  assert.equal(records.length, ALL_LINES.length + 1);
  ALL_LINES.forEach((l, i) => {
    const s = stores[l.storeId];
    const p = products[l.productId];
    const safe = (v: string | undefined) => (v === undefined ? '' : /^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
    assert.deepEqual(
      records[i + 1],
      [
        l.soldAt.slice(0, 10),
        l.soldAt,
        l.orderId,
        l.id,
        l.storeId,
        safe(s?.name),
        safe(s?.region),
        l.productId,
        safe(p?.sku),
        safe(p?.name),
        safe(p?.category),
        safe(p?.brand),
        String(l.quantity),
        String(l.unitPrice),
        String(l.amount),
        l.unitCost == null ? '' : String(l.unitCost),
      ],
      `line ${l.id}`,
    );
  });
  assert.ok(text.includes('"Paris ""Rivoli""; Châtelet"'), 'quotes doubled inside a quoted field');
  assert.ok(text.includes('"Lyon, Part-Dieu\nniveau 2"'), 'a line break inside a quoted field');

  const semi = sink();
  await writeSalesLinesCsv(pagesOf(PAGES), labels, semi.out, { delimiter: ';' });
  const semiText = semi.bytes().toString('utf8').slice(1);
  const semiRecords = parse(semiText, { delimiter: ';' }) as string[][];
  assert.equal(semiRecords.length, ALL_LINES.length + 1);
  assert.equal(semiRecords[1]?.[6], "'@SUM(A1)");
  assert.equal(semiRecords[4]?.[12], '1,25', 'decimal comma with the ; delimiter');
  assert.equal(semiRecords[4]?.[13], '2,5');
  assert.ok(semiText.includes('"Paris ""Rivoli""; Châtelet"'), 'the ; delimiter is quoted');
  assert.ok(
    semiText.includes(';Lyon, Part-Dieu') === false && semiText.includes('"Lyon, Part-Dieu\nniveau 2"'),
  );
});
