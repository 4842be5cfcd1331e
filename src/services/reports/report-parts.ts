/**
 * What every report builder is made of: the request, dates as words, headline KPI cards, a table per
 * dimension, scope and freshness lines, and the common charts. Figures come from analytics answers;
 * the only arithmetic here applies kpi-fns to figures those answers hold.
 */
import { MONTH_NAMES, weekday } from '../../lib/calendar.ts';
import { type SalesAnswer, SalesQuery } from '../../models/analytics.ts';
import { avgOrderValue, growthPct, marginPct, roundMoney, roundPct, toScaled } from '../analytics/kpi-fns.ts';
import type { SalesAnalyticsService } from '../analytics/sales-analytics-service.ts';
import type { StockAnalyticsService } from '../analytics/stock-analytics-service.ts';
import type {
  CellValue,
  ChartSection,
  Column,
  KpiItem,
  ReportDocument,
  TableSection,
} from './report-types.ts';

export interface ReportFilters {
  storeId?: string[] | undefined;
  region?: string[] | undefined;
  category?: string[] | undefined;
  brand?: string[] | undefined;
  productId?: string[] | undefined;
}

/** Rows of a long list (products, brands, reorder) the PDF shows when the request does not say. */
export const DEFAULT_TOP = 50;
/** The most rows a long list holds in a workbook. */
export const FULL_LIST = 5000;

export interface ReportRequest {
  type: 'daily' | 'weekly' | 'monthly' | 'sales_stock';
  /** daily: the day (default yesterday); weekly / monthly: a day of the week / month after the one reported */
  date?: string | undefined;
  /** sales_stock: the window (default the 30 days ending yesterday) */
  from?: string | undefined;
  to?: string | undefined;
  filters?: ReportFilters | undefined;
  /** rows of the long lists in the PDF (DEFAULT_TOP); the workbook has them all */
  top?: number | undefined;
  /** ISO: when the report was asked for (the job's record), printed as "Produced" */
  producedAt?: string | undefined;
}

export interface ReportBuilderDeps {
  sales: Pick<SalesAnalyticsService, 'sales'>;
  stock: Pick<StockAnalyticsService, 'stock'>;
  today: () => number;
  display: { currency: string; locale: string };
}

export const MONTHS = MONTH_NAMES;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function longDate(day: number): string {
  const d = new Date(day * 86_400_000);
  return `${WEEKDAYS[weekday(day)]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

export function shortDate(day: number): string {
  const d = new Date(day * 86_400_000);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** "Mon", "Tue"…: the x of charts that lay one week over another. */
export function weekdayShort(day: number): string {
  return WEEKDAYS[weekday(day)]!.slice(0, 3);
}

export type Dimension = 'store' | 'region' | 'category' | 'brand' | 'product';
const DIM_TITLES: Record<Dimension, string> = {
  store: 'Store',
  region: 'Region',
  category: 'Category',
  brand: 'Brand',
  product: 'Product',
};

export function salesQuery(
  sales: ReportBuilderDeps['sales'],
  q: Record<string, unknown>,
  filters: ReportFilters | undefined,
) {
  return sales.sales(SalesQuery.parse({ ...q, ...filters }));
}

type Previous = { revenue: number; units: number; orders: number; profit: number };

/**
 * KPI items for the headline figures against one or more previous figures. Changes are relative
 * (%), except the margin's: a percentage against a percentage changes by percentage points.
 */
export function kpiItems(current: SalesAnswer['kpis'], previous: Previous[]): KpiItem[] {
  const aov = (p: Previous) => roundMoney(avgOrderValue(toScaled(p.revenue), p.orders));
  const margin = (p: Previous) => roundPct(marginPct(toScaled(p.revenue), toScaled(p.revenue - p.profit)));
  const item = (
    label: string,
    type: KpiItem['type'],
    value: number | null,
    prev: (p: Previous) => number | null,
    change: 'pct' | 'pt' = 'pct',
  ): KpiItem => ({
    label,
    type,
    value,
    previous: previous.map(prev),
    changeUnit: change,
    growth: previous.map((p) => {
      const v = prev(p);
      if (value === null || v === null) return null;
      return change === 'pt' ? roundPct(value - v) : roundPct(growthPct(value, v));
    }),
  });
  return [
    item('Revenue', 'money', current.revenue, (p) => p.revenue),
    item('Units', 'number', current.units, (p) => p.units),
    item('Orders', 'number', current.orders, (p) => p.orders),
    item('Average order value', 'money', current.avgOrderValue, aov),
    item('Margin', 'pct', current.marginPct, margin, 'pt'),
  ];
}

export interface DimTableOptions {
  title: string;
  /** short sheet name in the workbook */
  sheet: string;
  previousTitle: string;
  extra?: Column[];
  /** rows the PDF shows (the workbook shows every row of the answer) */
  pdfRows?: number;
}

export function dimTable(dim: Dimension, answer: SalesAnswer, options: DimTableOptions): TableSection {
  const columns: Column[] = [
    { key: 'name', title: DIM_TITLES[dim], type: 'text' },
    ...(dim === 'product' ? [{ key: 'id', title: 'Product id', type: 'text' as const }] : []),
    { key: 'revenue', title: 'Revenue', type: 'money' },
    { key: 'units', title: 'Units', type: 'number' },
    { key: 'orders', title: 'Orders', type: 'int' },
    { key: 'avgOrderValue', title: 'Avg order', type: 'money' },
    ...(options.extra ?? []),
    { key: 'previousRevenue', title: options.previousTitle, type: 'money' },
    { key: 'growth', title: 'Growth', type: 'growth' },
  ];
  const rows = answer.rows.map(
    (r): Record<string, CellValue> => ({
      name: r.labels[dim] ?? r.keys[dim] ?? '',
      id: r.keys[dim] ?? '',
      revenue: r.revenue,
      units: r.units,
      orders: r.orders,
      avgOrderValue: r.avgOrderValue,
      sharePct: r.sharePct,
      marginPct: r.marginPct,
      revenuePerEmployee: r.revenuePerEmployee ?? null,
      previousRevenue: r.previousRevenue,
      growth: r.revenueGrowthPct,
    }),
  );
  const noun = `${DIM_TITLES[dim].toLowerCase()}${dim === 'category' ? '' : 's'}`.replace(/ys$/, 'ies');
  return {
    kind: 'table',
    title: options.title,
    sheet: options.sheet,
    ...(answer.totalRows > answer.rows.length
      ? { note: `Top ${answer.rows.length} of ${answer.totalRows} ${noun} by revenue` }
      : {}),
    ...(options.pdfRows !== undefined && options.pdfRows < rows.length
      ? {
          pdfRows: options.pdfRows,
          pdfNote:
            `Top ${options.pdfRows} of ${answer.totalRows} ${noun} by revenue; the XLSX has ` +
            (rows.length === answer.totalRows ? 'them all' : `the top ${rows.length}`),
        }
      : {}),
    columns,
    rows,
    totals: {
      name: 'Total',
      revenue: answer.kpis.revenue,
      units: answer.kpis.units,
      orders: answer.kpis.orders,
      avgOrderValue: answer.kpis.avgOrderValue,
      sharePct: 100,
      marginPct: answer.kpis.marginPct,
      previousRevenue: answer.kpis.previous?.revenue ?? null,
      growth: answer.kpis.revenueGrowthPct,
    },
  };
}

export function scopeOf(filters: ReportFilters | undefined, answer: SalesAnswer): string {
  const parts: string[] = [];
  if (filters?.storeId?.length) {
    const names = filters.storeId.map(
      (id) => answer.rows.find((r) => r.keys.store === id)?.labels.store ?? id,
    );
    parts.push(`Store: ${names.join(', ')}`);
  }
  if (filters?.region?.length) parts.push(`Region: ${filters.region.join(', ')}`);
  if (filters?.category?.length) parts.push(`Category: ${filters.category.join(', ')}`);
  if (filters?.brand?.length) parts.push(`Brand: ${filters.brand.join(', ')}`);
  if (filters?.productId?.length) parts.push(`Product: ${filters.productId.join(', ')}`);
  return parts.length ? parts.join(' · ') : 'All stores';
}

/**
 * The facts every document states: freshness (the oldest data used, complete only if every part
 * is), when it was produced (from the request, never the clock: the same request over the same data
 * gives the same bytes; without one, the newest data time), and the currency and locale.
 */
export function documentFacts(
  request: ReportRequest,
  display: ReportBuilderDeps['display'],
  metas: { dataAsOf: string | null; complete: boolean }[],
): Pick<ReportDocument, 'dataAsOf' | 'complete' | 'producedAt' | 'currency' | 'locale'> {
  const dates = metas
    .map((m) => m.dataAsOf)
    .filter((d): d is string => d !== null)
    .sort();
  return {
    dataAsOf: dates[0] ?? null,
    complete: metas.every((m) => m.complete),
    producedAt: request.producedAt ?? dates[dates.length - 1] ?? '1970-01-01T00:00:00.000Z',
    currency: display.currency,
    locale: display.locale,
  };
}

export function revenueTrendChart(
  title: string,
  sheet: string,
  answer: SalesAnswer,
  withAverage: boolean,
): ChartSection {
  return {
    kind: 'chart',
    title,
    sheet,
    chart: 'line',
    xTitle: 'Day',
    yTitle: 'Revenue',
    yType: 'money',
    series: [
      { name: 'Revenue', points: answer.trend.map((t) => ({ x: t.date, y: t.revenue })) },
      ...(withAverage
        ? [
            {
              name: '7-day average',
              points: answer.trend.map((t) => ({ x: t.date, y: t.rolling7dAvgRevenue })),
            },
          ]
        : []),
    ],
  };
}

export function barChart(title: string, sheet: string, table: TableSection): ChartSection {
  return {
    kind: 'chart',
    title,
    sheet,
    chart: 'bar',
    xTitle: table.columns[0]?.title ?? '',
    yTitle: 'Revenue',
    yType: 'money',
    series: [
      { name: 'Revenue', points: table.rows.map((r) => ({ x: String(r.name), y: Number(r.revenue) })) },
    ],
  };
}
export type { Column } from './report-types.ts';
