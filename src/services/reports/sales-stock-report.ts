/**
 * The sales-and-stock report: what a store manager acts on. Sales against the previous period; the
 * stock's counts; where the stock value sits (by category) and how long it lasts (cover
 * distribution); the items to reorder now, most revenue at stake first (the PDF shows the top ones,
 * the workbook all); and negative stock, flagged to be checked.
 */
import { formatDay, parseDay } from '../../lib/calendar.ts';
import { DEFAULT_LEAD_TIME_DAYS, type StockAnswer, StockQuery } from '../../models/analytics.ts';
import {
  DEFAULT_TOP,
  documentFacts,
  FULL_LIST,
  kpiItems,
  type ReportBuilderDeps,
  type ReportRequest,
  salesQuery,
  scopeOf,
  shortDate,
} from './report-parts.ts';
import type { CellValue, Column, KpiItem, ReportDocument, Section, TableSection } from './report-types.ts';

const ITEM_COLUMNS: Column[] = [
  { key: 'store', title: 'Store', type: 'text' },
  { key: 'sku', title: 'SKU', type: 'text' },
  { key: 'name', title: 'Product', type: 'text' },
  { key: 'quantity', title: 'Stock', type: 'number' },
  { key: 'avgDailyUnits', title: 'Units/day', type: 'number' },
  { key: 'daysOfCover', title: 'Days of cover', type: 'number' },
];

function itemRow(r: StockAnswer['rows'][number]): Record<string, CellValue> {
  return {
    store: r.storeName,
    sku: r.sku ?? r.productId,
    name: r.name,
    category: r.category,
    quantity: r.quantity,
    reorderLevel: r.reorderLevel,
    avgDailyUnits: r.avgDailyUnits,
    daysOfCover: r.daysOfCover,
    revenueAtStake: r.revenueAtStake,
  };
}

function stockKpis(k: StockAnswer['kpis']): KpiItem[] {
  const item = (label: string, type: KpiItem['type'], value: number): KpiItem => ({
    label,
    type,
    value,
    growth: [],
    previous: [],
  });
  return [
    item('Stock value', 'money', k.stockValue),
    item('Units in stock', 'number', k.units),
    item('Products', 'int', k.products),
    item('Store × product items', 'int', k.storeProducts),
    item('Reorder now', 'int', k.reorderNowCount),
    item('Revenue at stake', 'money', k.revenueAtStake),
    item('Low stock', 'int', k.lowStockCount),
    item('Out of stock', 'int', k.outOfStockCount),
    item('Negative stock', 'int', k.negativeStockCount),
  ];
}

function byCategory(stock: StockAnswer): TableSection {
  const k = stock.kpis;
  return {
    kind: 'table',
    title: 'Stock value by category',
    sheet: 'Stock by category',
    columns: [
      { key: 'category', title: 'Category', type: 'text' },
      { key: 'products', title: 'Products', type: 'int' },
      { key: 'storeProducts', title: 'Items', type: 'int' },
      { key: 'units', title: 'Units', type: 'number' },
      { key: 'stockValue', title: 'Value', type: 'money' },
      { key: 'lowStockCount', title: 'Low', type: 'int' },
      { key: 'outOfStockCount', title: 'Out', type: 'int' },
      { key: 'negativeStockCount', title: 'Negative', type: 'int' },
    ],
    rows: stock.byCategory.map((c) => ({ ...c })),
    totals: {
      category: 'Total',
      products: k.products,
      storeProducts: k.storeProducts,
      units: k.units,
      stockValue: k.stockValue,
      lowStockCount: k.lowStockCount,
      outOfStockCount: k.outOfStockCount,
      negativeStockCount: k.negativeStockCount,
    },
  };
}

function charts(stock: StockAnswer): Section[] {
  return [
    {
      kind: 'chart',
      title: 'Stock value by category',
      sheet: 'Chart stock value',
      chart: 'bar',
      xTitle: 'Category',
      yTitle: 'Stock value',
      yType: 'money',
      series: [
        { name: 'Stock value', points: stock.byCategory.map((c) => ({ x: c.category, y: c.stockValue })) },
      ],
    },
    {
      kind: 'chart',
      title: 'Days of cover: store × product items',
      sheet: 'Chart cover',
      chart: 'bar',
      xTitle: 'Days of cover (units on hand / units sold a day over the last 28 days)',
      yTitle: 'Items',
      yType: 'int',
      keepOrder: true,
      series: [
        { name: 'Items', points: stock.coverDistribution.map((b) => ({ x: b.label, y: b.storeProducts })) },
      ],
    },
  ];
}

function reorderTable(reorder: StockAnswer, top: number, lead: number): TableSection {
  const total = reorder.totalRows;
  return {
    kind: 'table',
    title: 'Reorder now',
    sheet: 'Reorder now',
    note:
      `Items that sell and whose stock lasts less than the ${lead}-day lead time, most revenue at stake ` +
      'first (units the lead time needs beyond the stock, at the price).',
    ...(top < reorder.rows.length
      ? {
          pdfRows: top,
          pdfNote: `The ${top} most urgent of ${total} items to reorder; the XLSX lists them all.`,
        }
      : {}),
    columns: [
      ...ITEM_COLUMNS,
      { key: 'reorderLevel', title: 'Reorder level', type: 'number' },
      { key: 'revenueAtStake', title: 'At stake', type: 'money' },
    ],
    rows: reorder.rows.map(itemRow),
  };
}

function negativeTable(negative: StockAnswer, top: number): TableSection {
  return {
    kind: 'table',
    title: 'Negative stock: to check',
    sheet: 'Negative stock',
    note: 'Below zero, which no shelf can hold: sold before it was booked in, or an error in the stock book.',
    ...(top < negative.rows.length
      ? { pdfRows: top, pdfNote: `${top} of ${negative.totalRows} items; the XLSX lists them all.` }
      : {}),
    columns: ITEM_COLUMNS.filter((c) => c.key !== 'daysOfCover'),
    rows: negative.rows.map(itemRow),
  };
}

export async function salesStockReport(
  deps: ReportBuilderDeps,
  request: ReportRequest,
): Promise<ReportDocument> {
  const to = request.to ? parseDay(request.to)! : deps.today() - 1;
  const from = request.from ? parseDay(request.from)! : to - 29;
  const f = request.filters;
  const top = request.top ?? DEFAULT_TOP;
  const lead = DEFAULT_LEAD_TIME_DAYS;
  const stockFilters = { storeId: f?.storeId, category: f?.category, brand: f?.brand, leadTimeDays: lead };
  const [period, stockAll, reorder, negative] = await Promise.all([
    salesQuery(deps.sales, { from: formatDay(from), to: formatDay(to), compare: 'previous_period' }, f),
    deps.stock.stock(StockQuery.parse({ ...stockFilters, limit: 1 })),
    deps.stock.stock(
      StockQuery.parse({ ...stockFilters, reorderNow: 'true', sort: 'urgency', limit: FULL_LIST }),
    ),
    deps.stock.stock(StockQuery.parse({ ...stockFilters, status: 'negative', limit: FULL_LIST })),
  ]);
  return {
    type: 'sales_stock',
    title: 'Sales and stock report',
    periodLabel: `${shortDate(from)} – ${shortDate(to)}`,
    period: { from: formatDay(from), to: formatDay(to) },
    scope: scopeOf(f, period),
    ...documentFacts(request, deps.display, [period.meta, stockAll.meta, reorder.meta, negative.meta]),
    sections: [
      {
        kind: 'kpis',
        title: 'Sales',
        sheet: 'Sales',
        against: ['vs previous period'],
        items: kpiItems(period.kpis, [period.kpis.previous!]),
      },
      { kind: 'kpis', title: 'Stock now', sheet: 'Stock', against: [], items: stockKpis(stockAll.kpis) },
      ...charts(stockAll),
      byCategory(stockAll),
      reorderTable(reorder, top, lead),
      negativeTable(negative, top),
    ],
  };
}
