/**
 * The PDF renderer on hand-built report documents, read back with pdf.js: what a person sees on each
 * page (title, warnings, every row's figures, repeated table headers, page numbers) and that the same
 * document always gives the same bytes.
 *
 * Set REPORT_PDF_OUT=<directory> to keep the rendered PDFs for a look (e.g. with pdftoppm).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { mulberry32 } from '../sample-upstream/generator.ts';
import { formatCell } from '../src/services/reports/pdf/format.ts';
import { renderPdf } from '../src/services/reports/pdf/pdf-renderer.ts';
import type { Column, KpiItem, ReportDocument, TableSection } from '../src/services/reports/report-types.ts';

const cents = (x: number) => Math.round(x * 100) / 100;

const CITIES = [
  'Paris',
  'Lyon',
  'Marseille',
  'Toulouse',
  'Nice',
  'Nantes',
  'Strasbourg',
  'Montpellier',
  'Bordeaux',
  'Lille',
];
const SITES = ['Centre', 'Gare', 'Rivoli', 'Part-Dieu', 'Les Halles'];
const CATEGORIES = [
  'Coffee',
  'Tea',
  'Chocolate',
  'Biscuits',
  'Breakfast cereals',
  'Jams and spreads',
  'Soft drinks',
  'Juices',
  'Water',
  'Snacks',
  'Kitchenware',
  'Gift boxes',
];
const BRANDS = ['Lavazza', 'Illy', 'Twinings', 'Lindt', 'Bonne Maman', 'Kusmi', 'Évian', 'Carte Noire'];
const ADJECTIVES = ['Organic', 'Classic', 'Intense', 'Smooth', 'Dark', 'Family-size', 'Fair-trade'];
const NOUNS = ['espresso beans', 'green tea', 'milk chocolate', 'shortbread', 'granola', 'apricot jam'];

function dimColumns(name: string, withId: boolean): Column[] {
  return [
    { key: 'name', title: name, type: 'text' },
    ...(withId ? [{ key: 'id', title: 'Product id', type: 'text' as const }] : []),
    { key: 'revenue', title: 'Revenue', type: 'money' },
    { key: 'units', title: 'Units', type: 'number' },
    { key: 'orders', title: 'Orders', type: 'number' },
    { key: 'avgOrderValue', title: 'Avg order', type: 'money' },
    { key: 'previousRevenue', title: '7-day avg', type: 'money' },
    { key: 'growth', title: 'Growth', type: 'growth' },
  ];
}

function dimTable(
  title: string,
  dimTitle: string,
  names: string[],
  scale: number,
  seed: number,
  options: { withId?: boolean; note?: string } = {},
): TableSection {
  const random = mulberry32(seed);
  const rows = names
    .map((name, i) => {
      const revenue = cents(scale * (0.2 + random()) * (1 + 4 / (i + 1)));
      const orders = Math.max(1, Math.round(revenue / (28 + 20 * random())));
      const units = orders + Math.round(orders * 1.7 * random());
      const previousRevenue = i % 17 === 5 ? null : cents(revenue * (0.8 + 0.4 * random()));
      const growth = previousRevenue === null ? null : cents((revenue / previousRevenue - 1) * 100);
      return {
        name,
        id: `P-${String(10_000 + i * 37).padStart(6, '0')}`,
        revenue,
        units,
        orders,
        avgOrderValue: cents(revenue / orders),
        previousRevenue,
        growth,
      };
    })
    .sort((a, b) => b.revenue - a.revenue);
  const sum = (k: 'revenue' | 'units' | 'orders') => rows.reduce((s, r) => s + r[k], 0);
  const revenue = cents(sum('revenue'));
  const previous = cents(rows.reduce((s, r) => s + (r.previousRevenue ?? r.revenue), 0));
  return {
    kind: 'table',
    title,
    ...(options.note ? { note: options.note } : {}),
    columns: dimColumns(dimTitle, options.withId ?? false),
    rows,
    totals: {
      name: 'Total',
      revenue,
      units: sum('units'),
      orders: sum('orders'),
      avgOrderValue: cents(revenue / sum('orders')),
      previousRevenue: previous,
      growth: cents((revenue / previous - 1) * 100),
    },
  };
}

function kpi(label: string, type: KpiItem['type'], value: number, previous: (number | null)[]): KpiItem {
  return {
    label,
    type,
    value,
    previous,
    growth: previous.map((p) => (p === null || p === 0 ? null : cents((value / p - 1) * 100))),
  };
}

function dailyReport(producedAt = '2026-11-17T05:42:10.000Z'): ReportDocument {
  const stores = CITIES.flatMap((c) => SITES.map((s) => `${c} ${s}`));
  const brands = Array.from({ length: 50 }, (_, i) =>
    `${BRANDS[i % BRANDS.length]} ${i < 8 ? '' : i}`.trim(),
  );
  const products = Array.from(
    { length: 120 },
    (_, i) => `${ADJECTIVES[i % ADJECTIVES.length]} ${NOUNS[i % NOUNS.length]} ${250 + (i % 5) * 250} g`,
  );
  const storeTable = dimTable('Sales by store', 'Store', stores, 1800, 1);
  const random = mulberry32(7);
  const days = Array.from({ length: 30 }, (_, i) => {
    const date = new Date(Date.UTC(2026, 9, 18 + i)).toISOString().slice(0, 10);
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
    return { date, revenue: cents(95_000 + (weekday === 6 ? 40_000 : 0) + 25_000 * random()) };
  });
  const rolling = days.map((_, i) => {
    const window = days.slice(Math.max(0, i - 6), i + 1);
    return cents(window.reduce((s, d) => s + d.revenue, 0) / window.length);
  });
  return {
    type: 'daily',
    title: 'Daily sales report',
    periodLabel: 'Monday 16 November 2026',
    period: { from: '2026-11-16', to: '2026-11-16' },
    scope: 'All stores',
    dataAsOf: '2026-11-17T05:40:02.000Z',
    complete: true,
    producedAt,
    sections: [
      {
        kind: 'kpis',
        title: 'Headline figures',
        against: ['vs 7-day average', 'vs same weekday, last 4 weeks'],
        items: [
          kpi('Revenue', 'money', 118_432.57, [112_020.4, 121_977.12]),
          kpi('Units', 'number', 9_871, [9_540.286, 10_112.5]),
          kpi('Orders', 'number', 3_412, [3_301, 3_412]),
          kpi('Average order value', 'money', 34.71, [33.94, 35.75]),
          kpi('Margin', 'pct', 41.37, [40.92, null]),
        ],
      },
      {
        kind: 'chart',
        title: 'Revenue, last 30 days, with its 7-day average',
        chart: 'line',
        xTitle: 'Day',
        yTitle: 'Revenue',
        yType: 'money',
        series: [
          { name: 'Revenue', points: days.map((d) => ({ x: d.date, y: d.revenue })) },
          { name: '7-day average', points: days.map((d, i) => ({ x: d.date, y: rolling[i]! })) },
        ],
      },
      {
        kind: 'chart',
        title: 'Revenue by store',
        chart: 'bar',
        xTitle: 'Store',
        yTitle: 'Revenue',
        yType: 'money',
        series: [
          {
            name: 'Revenue',
            points: storeTable.rows.map((r) => ({ x: String(r.name), y: Number(r.revenue) })),
          },
        ],
      },
      storeTable,
      dimTable('Sales by category', 'Category', CATEGORIES, 9000, 2),
      dimTable('Sales by brand', 'Brand', brands, 1500, 3, { note: 'Top 50 of 73 by revenue' }),
      dimTable('Sales by product', 'Product', products, 400, 4, {
        withId: true,
        note: 'Top 120 of 2,431 by revenue',
      }),
    ],
  };
}

function incompleteReport(): ReportDocument {
  return {
    type: 'daily',
    title: 'Daily sales report',
    periodLabel: 'Tuesday 17 November 2026',
    period: { from: '2026-11-17', to: '2026-11-17' },
    scope: 'Store: Paris Rivoli',
    dataAsOf: '2026-11-17T14:03:00.000Z',
    complete: false,
    producedAt: '2026-11-17T14:05:00.000Z',
    sections: [
      {
        kind: 'kpis',
        title: 'Headline figures',
        against: ['vs 7-day average'],
        items: [
          kpi('Revenue', 'money', 4_210.5, [6_020.75]),
          kpi('Orders', 'number', 131, [182]),
          kpi('Margin', 'pct', 39.02, [41.5]),
        ],
      },
      dimTable('Sales by category', 'Category', CATEGORIES.slice(0, 5), 600, 9),
    ],
  };
}

/** Each page's text, whitespace (including the no-break spaces between figures and units) folded. */
async function pageTexts(pdf: Buffer): Promise<string[]> {
  const loaded = await getDocument({ data: new Uint8Array(pdf), verbosity: 0, isEvalSupported: false })
    .promise;
  try {
    const pages: string[] = [];
    for (let n = 1; n <= loaded.numPages; n++) {
      const content = await (await loaded.getPage(n)).getTextContent();
      const text = content.items.map((item) => ('str' in item ? item.str : '')).join(' ');
      pages.push(text.replace(/\s+/g, ' '));
    }
    return pages;
  } finally {
    await loaded.destroy();
  }
}

async function info(pdf: Buffer): Promise<Record<string, unknown>> {
  const loaded = await getDocument({ data: new Uint8Array(pdf), verbosity: 0 }).promise;
  try {
    return (await loaded.getMetadata()).info as Record<string, unknown>;
  } finally {
    await loaded.destroy();
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const shown = (value: string | number | null, type: Column['type']) =>
  formatCell(value, type).text.replace(/\s+/g, ' ');

function keep(name: string, pdf: Buffer): void {
  const dir = process.env.REPORT_PDF_OUT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), pdf);
}

test('a daily report: first page, every row, repeated headers, page numbers', async () => {
  const doc = dailyReport();
  const pdf = await renderPdf(doc);
  keep('daily.pdf', pdf);
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  const pages = await pageTexts(pdf);
  assert.ok(pages.length >= 5, `only ${pages.length} pages`);
  const first = pages[0]!;
  assert.match(first, /Daily sales report/);
  assert.match(first, /Monday 16 November 2026/);
  assert.match(first, /All stores/);
  assert.match(first, /Data as of 17 Nov 2026, 05:40 UTC/);
  assert.match(first, /Produced 17 Nov 2026, 05:42 UTC/);
  assert.doesNotMatch(pages.join(' '), /Incomplete data/);

  pages.forEach((text, i) => {
    assert.ok(text.includes(`Page ${i + 1} of ${pages.length}`), `page ${i + 1} has no page number`);
    assert.ok(text.includes('Daily sales report'), `page ${i + 1} has no header`);
  });

  const all = pages.join(' ');
  // Headline figures with both comparisons and their arrows.
  assert.ok(all.includes('118,432.57'));
  assert.ok(all.includes('112,020.40'));
  assert.ok(all.includes('▲ 5.72 %'), 'a rise shows an up arrow');
  assert.ok(all.includes('▼ 2.91 %'), 'a fall shows a down arrow');
  assert.ok(all.includes('41.37 %'));

  const tables = doc.sections.filter((s): s is TableSection => s.kind === 'table');
  for (const table of tables) {
    for (const row of table.rows) {
      const revenue = shown(row.revenue ?? null, 'money');
      const growth = shown(row.growth ?? null, 'growth');
      assert.ok(all.includes(`${revenue} `), `${table.title}: ${row.name} revenue ${revenue}`);
      assert.ok(all.includes(growth), `${table.title}: ${row.name} growth ${growth}`);
    }
    assert.ok(all.includes(shown(table.totals!.revenue ?? null, 'money')), `${table.title}: totals`);
  }

  // The 120-row product table spans pages; each of them repeats its title and column headers.
  const products = tables.find((t) => t.title === 'Sales by product')!;
  const spanned = pages
    .map((text, i) => ({ text, page: i + 1 }))
    .filter(({ text }) => products.rows.some((r) => text.includes(String(r.id))));
  assert.ok(spanned.length >= 2, `the product table should paginate, spans ${spanned.length}`);
  for (const { text, page } of spanned) {
    assert.ok(text.includes('Sales by product'), `page ${page}: table title`);
    assert.ok(text.includes('Product id'), `page ${page}: column header`);
    assert.ok(text.includes('Avg order'), `page ${page}: column header`);
  }
  for (const row of products.rows) assert.ok(all.includes(String(row.id)), `product ${row.id}`);

  const meta = await info(pdf);
  assert.equal(meta.CreationDate, 'D:20261117054210Z');
  assert.equal(meta.ModDate, 'D:20261117054210Z');
});

test('an incomplete report says so on its first page', async () => {
  const pdf = await renderPdf(incompleteReport());
  keep('incomplete.pdf', pdf);
  const pages = await pageTexts(pdf);
  assert.equal(pages.length, 1);
  const first = pages[0]!;
  assert.match(first, /Incomplete data The period includes a day that is still open/);
  assert.match(first, /Tuesday 17 November 2026/);
  assert.match(first, /Store: Paris Rivoli/);
  assert.match(first, /Page 1 of 1/);
  assert.ok(first.includes('▼ 30.07 %'));
});

test('the same document gives the same bytes; another producedAt, other bytes', async () => {
  const a = await renderPdf(dailyReport());
  const b = await renderPdf(dailyReport());
  assert.equal(sha256(a), sha256(b));
  const c = await renderPdf(dailyReport('2026-11-17T06:00:00.000Z'));
  assert.notEqual(sha256(a), sha256(c));
  const timings: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await renderPdf(dailyReport());
    timings.push(performance.now() - t0);
  }
  timings.sort((x, y) => x - y);
  // Generous bound for a loaded CI machine; the median here is well under a second.
  assert.ok(timings[2]! < 3000, `median render ${timings[2]} ms`);
});

test('a table too wide for an upright page turns the report landscape; empty sections say so', async () => {
  const stores = dimTable('Sales by store', 'Store', ['Paris Rivoli', 'Lyon Part-Dieu', 'Nice Gare'], 900, 5);
  const extra = ['Share', 'Margin', 'Profit', 'Returns', 'Discounts', 'Staff cost', 'Per employee'];
  const wide: TableSection = {
    ...stores,
    columns: [
      ...stores.columns,
      ...extra.map((title, i): Column => ({ key: `x${i}`, title, type: i < 2 ? 'pct' : 'money' })),
    ],
    rows: stores.rows.map((r) => ({
      ...r,
      ...Object.fromEntries(extra.map((_, i) => [`x${i}`, 1_234_567.89 * (i + 1)])),
    })),
  };
  const doc: ReportDocument = {
    ...incompleteReport(),
    complete: true,
    sections: [
      wide,
      { kind: 'table', title: 'Low stock', columns: wide.columns.slice(0, 3), rows: [] },
      {
        kind: 'chart',
        title: 'Revenue by week',
        chart: 'line',
        xTitle: 'Week',
        yTitle: 'Revenue',
        yType: 'money',
        series: [],
      },
    ],
  };
  const pdf = await renderPdf(doc);
  keep('landscape.pdf', pdf);
  const loaded = await getDocument({ data: new Uint8Array(pdf), verbosity: 0 }).promise;
  try {
    const [, , width, height] = (await loaded.getPage(1)).view;
    assert.ok(width! > height!, `page 1 is ${width} x ${height}`);
  } finally {
    await loaded.destroy();
  }
  const all = (await pageTexts(pdf)).join(' ');
  assert.ok(all.includes('Per employee'));
  assert.ok(all.includes('8,641,975.23'), 'the last column is on the page');
  assert.ok(all.includes('No rows for this period.'));
  assert.ok(all.includes('No data to chart for this period.'));
});
