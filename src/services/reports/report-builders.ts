/**
 * The report builders: daily, weekly, monthly and sales-and-stock reports as ReportDocuments.
 * Every figure comes from the analytics services (the same queries the API answers); the only
 * arithmetic here applies kpi-fns to figures those services returned.
 */
import { formatDay, isoWeekKey, parseDay, shiftYears, weekday } from '../../lib/calendar.ts';
import { type SalesAnswer, SalesQuery, type StockAnswer, StockQuery } from '../../models/analytics.ts';
import { avgOrderValue, growthPct, marginPct, roundMoney, roundPct, toScaled } from '../analytics/kpi-fns.ts';
import type { SalesAnalyticsService } from '../analytics/sales-analytics-service.ts';
import type { StockAnalyticsService } from '../analytics/stock-analytics-service.ts';
import type {
  CellValue,
  Column,
  KpiItem,
  KpiSection,
  ReportDocument,
  Section,
  TableSection,
} from './report-types.ts';

export interface ReportFilters {
  storeId?: string[] | undefined;
  region?: string[] | undefined;
  category?: string[] | undefined;
  brand?: string[] | undefined;
  productId?: string[] | undefined;
}

export interface ReportRequest {
  type: 'daily' | 'weekly' | 'monthly' | 'sales_stock';
  /** daily: the day (default yesterday); weekly / monthly: a day of the week / month after the one reported */
  date?: string | undefined;
  /** sales_stock: the window (default the 30 days ending yesterday) */
  from?: string | undefined;
  to?: string | undefined;
  filters?: ReportFilters | undefined;
}

export interface ReportBuilderDeps {
  sales: Pick<SalesAnalyticsService, 'sales'>;
  stock: Pick<StockAnalyticsService, 'stock'>;
  today: () => number;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function longDate(day: number): string {
  const d = new Date(day * 86_400_000);
  return `${WEEKDAYS[weekday(day)]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

function shortDate(day: number): string {
  const d = new Date(day * 86_400_000);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

type Dimension = 'store' | 'region' | 'category' | 'brand' | 'product';
const DIM_TITLES: Record<Dimension, string> = {
  store: 'Store',
  region: 'Region',
  category: 'Category',
  brand: 'Brand',
  product: 'Product',
};

export function reportBuildersFactory({ sales, stock, today }: ReportBuilderDeps) {
  function query(q: Record<string, unknown>, filters: ReportFilters | undefined) {
    return sales.sales(SalesQuery.parse({ ...q, ...filters }));
  }

  /** KPI items for the headline figures against one or more previous figures. */
  function kpiItems(
    current: SalesAnswer['kpis'],
    previous: { revenue: number; units: number; orders: number; profit: number }[],
  ): KpiItem[] {
    const aov = (p: { revenue: number; orders: number }) =>
      roundMoney(avgOrderValue(toScaled(p.revenue), p.orders));
    const margin = (p: { revenue: number; profit: number }) =>
      roundPct(marginPct(toScaled(p.revenue), toScaled(p.revenue - p.profit)));
    const item = (
      label: string,
      type: KpiItem['type'],
      value: number | null,
      prev: (p: (typeof previous)[number]) => number | null,
    ): KpiItem => ({
      label,
      type,
      value,
      previous: previous.map(prev),
      growth: previous.map((p) => {
        const v = prev(p);
        return value === null || v === null ? null : roundPct(growthPct(value, v));
      }),
    });
    return [
      item('Revenue', 'money', current.revenue, (p) => p.revenue),
      item('Units', 'number', current.units, (p) => p.units),
      item('Orders', 'number', current.orders, (p) => p.orders),
      item('Average order value', 'money', current.avgOrderValue, aov),
      item('Margin', 'pct', current.marginPct, margin),
    ];
  }

  function dimTable(
    dim: Dimension,
    answer: SalesAnswer,
    options: { title: string; limit: number; previousTitle: string; extra?: Column[] },
  ): TableSection {
    const columns: Column[] = [
      { key: 'name', title: DIM_TITLES[dim], type: 'text' },
      ...(dim === 'product' ? [{ key: 'id', title: 'Product id', type: 'text' as const }] : []),
      { key: 'revenue', title: 'Revenue', type: 'money' },
      { key: 'units', title: 'Units', type: 'number' },
      { key: 'orders', title: 'Orders', type: 'number' },
      { key: 'avgOrderValue', title: 'Avg order', type: 'money' },
      ...(options.extra ?? []),
      { key: 'previousRevenue', title: options.previousTitle, type: 'money' },
      { key: 'growth', title: 'Growth', type: 'growth' },
    ];
    const rows = answer.rows.map((r) => {
      const row: Record<string, CellValue> = {
        name: r.labels[dim] ?? r.keys[dim] ?? '',
        id: r.keys[dim] ?? '',
        revenue: r.revenue,
        units: r.units,
        orders: r.orders,
        avgOrderValue: r.avgOrderValue,
        share: r.share,
        marginPct: r.marginPct,
        revenuePerEmployee: r.revenuePerEmployee ?? null,
        previousRevenue: r.previousRevenue,
        growth: r.revenueGrowthPct,
      };
      return row;
    });
    return {
      kind: 'table',
      title: options.title,
      ...(answer.totalRows > options.limit
        ? { note: `Top ${options.limit} of ${answer.totalRows} by revenue` }
        : {}),
      columns,
      rows,
      totals: {
        name: 'Total',
        revenue: answer.kpis.revenue,
        units: answer.kpis.units,
        orders: answer.kpis.orders,
        avgOrderValue: answer.kpis.avgOrderValue,
        share: 1,
        marginPct: answer.kpis.marginPct,
        previousRevenue: answer.kpis.previous?.revenue ?? null,
        growth: answer.kpis.revenueGrowthPct,
      },
    };
  }

  function scopeOf(filters: ReportFilters | undefined, answer: SalesAnswer): string {
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

  /** Freshness of the whole report: the oldest data used, complete only if every part is. */
  function freshness(metas: { dataAsOf: string | null; complete: boolean }[]) {
    const dates = metas
      .map((m) => m.dataAsOf)
      .filter((d): d is string => d !== null)
      .sort();
    return {
      dataAsOf: dates[0] ?? null,
      complete: metas.every((m) => m.complete),
      // Derived from the data, not the clock: the same request over the same data is byte-identical.
      producedAt: dates[dates.length - 1] ?? '1970-01-01T00:00:00.000Z',
    };
  }

  function revenueTrendChart(title: string, answer: SalesAnswer, withAverage: boolean): Section {
    return {
      kind: 'chart',
      title,
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

  function barChart(title: string, table: TableSection): Section {
    return {
      kind: 'chart',
      title,
      chart: 'bar',
      xTitle: table.columns[0]?.title ?? '',
      yTitle: 'Revenue',
      yType: 'money',
      series: [
        { name: 'Revenue', points: table.rows.map((r) => ({ x: String(r.name), y: Number(r.revenue) })) },
      ],
    };
  }

  async function daily(request: ReportRequest): Promise<ReportDocument> {
    const d = request.date ? parseDay(request.date)! : today() - 1;
    const date = formatDay(d);
    const f = request.filters;
    const [vs7, vs4w, month, stores, categories, brands, products] = await Promise.all([
      query({ from: date, to: date, compare: 'rolling_7d' }, f),
      query({ from: date, to: date, compare: 'same_weekday_4w' }, f),
      query({ from: formatDay(d - 29), to: date, compare: 'none' }, f),
      query({ from: date, to: date, compare: 'rolling_7d', groupBy: 'store', limit: 5000 }, f),
      query({ from: date, to: date, compare: 'rolling_7d', groupBy: 'category', limit: 5000 }, f),
      query({ from: date, to: date, compare: 'rolling_7d', groupBy: 'brand', limit: 50 }, f),
      query({ from: date, to: date, compare: 'rolling_7d', groupBy: 'product', limit: 100 }, f),
    ]);
    const kpis: KpiSection = {
      kind: 'kpis',
      title: 'Headline figures',
      against: ['vs 7-day average', 'vs same weekday, last 4 weeks'],
      items: kpiItems(vs7.kpis, [vs7.kpis.previous!, vs4w.kpis.previous!]),
    };
    const common = { previousTitle: '7-day avg' };
    const storeTable = dimTable('store', stores, { ...common, title: 'Sales by store', limit: 5000 });
    return {
      type: 'daily',
      title: 'Daily sales report',
      periodLabel: longDate(d),
      period: { from: date, to: date },
      scope: scopeOf(f, stores),
      ...freshness([
        vs7.meta,
        vs4w.meta,
        month.meta,
        stores.meta,
        categories.meta,
        brands.meta,
        products.meta,
      ]),
      sections: [
        kpis,
        revenueTrendChart('Revenue, last 30 days, with its 7-day average', month, true),
        barChart('Revenue by store', storeTable),
        storeTable,
        dimTable('category', categories, { ...common, title: 'Sales by category', limit: 5000 }),
        dimTable('brand', brands, { ...common, title: 'Sales by brand', limit: 50 }),
        dimTable('product', products, { ...common, title: 'Sales by product', limit: 100 }),
      ],
    };
  }

  async function weekly(request: ReportRequest): Promise<ReportDocument> {
    const ref = request.date ? parseDay(request.date)! : today() - 1;
    const monday = ref - ((weekday(ref) + 6) % 7) - 7; // the ISO week before the one containing ref
    const [from, to] = [formatDay(monday), formatDay(monday + 6)];
    const f = request.filters;
    const extra: Column[] = [
      { key: 'share', title: 'Contribution', type: 'share' },
      { key: 'marginPct', title: 'Margin', type: 'pct' },
    ];
    const [week, twoBefore, stores, categories, brands, products] = await Promise.all([
      query({ from, to, compare: 'previous_period' }, f),
      query({ from: formatDay(monday - 14), to: formatDay(monday - 1), compare: 'none' }, f),
      query({ from, to, groupBy: 'store', limit: 5000 }, f),
      query({ from, to, groupBy: 'category', limit: 5000 }, f),
      query({ from, to, groupBy: 'brand', limit: 50 }, f),
      query({ from, to, groupBy: 'product', limit: 100 }, f),
    ]);
    const half = (k: SalesAnswer['kpis']) => ({
      revenue: k.revenue / 2,
      units: k.units / 2,
      orders: k.orders / 2,
      profit: k.profit / 2,
    });
    const common = { previousTitle: 'Previous week', extra };
    return {
      type: 'weekly',
      title: 'Weekly sales report',
      periodLabel: `Week ${isoWeekKey(monday)} (${shortDate(monday)} – ${shortDate(monday + 6)})`,
      period: { from, to },
      scope: scopeOf(f, stores),
      ...freshness([week.meta, twoBefore.meta, stores.meta, categories.meta, brands.meta, products.meta]),
      sections: [
        {
          kind: 'kpis',
          title: 'Headline figures',
          against: ['vs previous week', 'vs mean of the 2 previous weeks'],
          items: kpiItems(week.kpis, [week.kpis.previous!, half(twoBefore.kpis)]),
        },
        revenueTrendChart('Daily revenue', week, false),
        dimTable('store', stores, { ...common, title: 'Sales by store', limit: 5000 }),
        dimTable('category', categories, { ...common, title: 'Sales by category', limit: 5000 }),
        dimTable('brand', brands, { ...common, title: 'Sales by brand', limit: 50 }),
        dimTable('product', products, { ...common, title: 'Sales by product', limit: 100 }),
      ],
    };
  }

  async function monthly(request: ReportRequest): Promise<ReportDocument> {
    const ref = new Date((request.date ? parseDay(request.date)! : today() - 1) * 86_400_000);
    const first = Date.UTC(ref.getUTCFullYear(), ref.getUTCMonth() - 1, 1) / 86_400_000;
    const last = Date.UTC(ref.getUTCFullYear(), ref.getUTCMonth(), 0) / 86_400_000;
    const prevFirst = Date.UTC(ref.getUTCFullYear(), ref.getUTCMonth() - 2, 1) / 86_400_000;
    const [from, to] = [formatDay(first), formatDay(last)];
    const f = request.filters;
    const [month, prevMonth, stores, regions, products, thirteen] = await Promise.all([
      query({ from, to, compare: 'previous_year' }, f),
      query({ from: formatDay(prevFirst), to: formatDay(first - 1), compare: 'none' }, f),
      query({ from, to, groupBy: 'store', compare: 'previous_year', limit: 5000 }, f),
      query({ from, to, groupBy: 'region', compare: 'previous_year', limit: 5000 }, f),
      query({ from, to, groupBy: 'product', compare: 'previous_year', limit: 100 }, f),
      query({ from: formatDay(shiftYears(first, -1)), to, groupBy: 'month', compare: 'none', limit: 13 }, f),
    ]);
    const d = new Date(first * 86_400_000);
    const common = { previousTitle: 'A year earlier' };
    const months = [...thirteen.rows].sort((x, y) => (x.keys.month ?? '').localeCompare(y.keys.month ?? ''));
    return {
      type: 'monthly',
      title: 'Monthly sales report',
      periodLabel: `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`,
      period: { from, to },
      scope: scopeOf(f, stores),
      ...freshness([month.meta, prevMonth.meta, stores.meta, regions.meta, products.meta, thirteen.meta]),
      sections: [
        {
          kind: 'kpis',
          title: 'Headline figures',
          against: ['vs previous month', 'vs same month a year earlier'],
          items: kpiItems(month.kpis, [
            {
              revenue: prevMonth.kpis.revenue,
              units: prevMonth.kpis.units,
              orders: prevMonth.kpis.orders,
              profit: prevMonth.kpis.profit,
            },
            month.kpis.previous!,
          ]),
        },
        {
          kind: 'chart',
          title: 'Revenue, last 13 months',
          chart: 'bar',
          xTitle: 'Month',
          yTitle: 'Revenue',
          yType: 'money',
          series: [{ name: 'Revenue', points: months.map((r) => ({ x: r.keys.month ?? '', y: r.revenue })) }],
        },
        dimTable('region', regions, { ...common, title: 'Sales by region', limit: 5000 }),
        dimTable('store', stores, {
          ...common,
          title: 'Sales and revenue per employee by store',
          limit: 5000,
          extra: [{ key: 'revenuePerEmployee', title: 'Per employee', type: 'money' }],
        }),
        dimTable('product', products, {
          ...common,
          title: 'Monthly product sales',
          limit: 100,
          extra: [{ key: 'marginPct', title: 'Margin', type: 'pct' }],
        }),
      ],
    };
  }

  async function salesStock(request: ReportRequest): Promise<ReportDocument> {
    const to = request.to ? parseDay(request.to)! : today() - 1;
    const from = request.from ? parseDay(request.from)! : to - 29;
    const f = request.filters;
    const stockFilters = { storeId: f?.storeId, category: f?.category, brand: f?.brand };
    const [period, stockAll, low, out] = await Promise.all([
      query({ from: formatDay(from), to: formatDay(to), compare: 'previous_period' }, f),
      stock.stock(StockQuery.parse({ ...stockFilters, limit: 1 })),
      stock.stock(StockQuery.parse({ ...stockFilters, status: 'low', limit: 5000 })),
      stock.stock(StockQuery.parse({ ...stockFilters, status: 'out', limit: 5000 })),
    ]);
    const stockColumns: Column[] = [
      { key: 'store', title: 'Store', type: 'text' },
      { key: 'sku', title: 'SKU', type: 'text' },
      { key: 'name', title: 'Product', type: 'text' },
      { key: 'category', title: 'Category', type: 'text' },
      { key: 'quantity', title: 'Quantity', type: 'number' },
      { key: 'reorderLevel', title: 'Reorder level', type: 'number' },
      { key: 'avgDailyUnits', title: 'Units/day', type: 'number' },
      { key: 'daysOfCover', title: 'Days of cover', type: 'number' },
    ];
    const stockRows = (a: StockAnswer) =>
      a.rows.map((r) => ({
        store: r.storeId,
        sku: r.sku ?? r.productId,
        name: r.name,
        category: r.category,
        quantity: r.quantity,
        reorderLevel: r.reorderLevel,
        avgDailyUnits: r.avgDailyUnits,
        daysOfCover: r.daysOfCover,
      }));
    const k = stockAll.kpis;
    return {
      type: 'sales_stock',
      title: 'Sales and stock report',
      periodLabel: `${shortDate(from)} – ${shortDate(to)}`,
      period: { from: formatDay(from), to: formatDay(to) },
      scope: scopeOf(f, period),
      ...freshness([period.meta, stockAll.meta, low.meta, out.meta]),
      sections: [
        {
          kind: 'kpis',
          title: 'Sales',
          against: ['vs previous period'],
          items: kpiItems(period.kpis, [period.kpis.previous!]),
        },
        {
          kind: 'table',
          title: 'Stock',
          columns: [
            { key: 'label', title: 'Figure', type: 'text' },
            { key: 'value', title: 'Value', type: 'number' },
          ],
          rows: [
            { label: 'Items (store × product)', value: k.skus },
            { label: 'Units in stock', value: k.units },
            { label: 'Stock value', value: k.stockValue },
            { label: 'Low stock', value: k.lowStockCount },
            { label: 'Out of stock', value: k.outOfStockCount },
            { label: 'Less than 7 days of cover', value: k.urgentReorderCount },
          ],
        },
        {
          kind: 'table',
          title: 'Stock value by category',
          columns: [
            { key: 'category', title: 'Category', type: 'text' },
            { key: 'skus', title: 'Items', type: 'int' },
            { key: 'units', title: 'Units', type: 'number' },
            { key: 'stockValue', title: 'Value', type: 'money' },
            { key: 'lowStockCount', title: 'Low', type: 'int' },
            { key: 'outOfStockCount', title: 'Out', type: 'int' },
          ],
          rows: stockAll.byCategory.map((c) => ({ ...c })),
        },
        { kind: 'table', title: 'Low stock', columns: stockColumns, rows: stockRows(low) },
        { kind: 'table', title: 'Out of stock', columns: stockColumns, rows: stockRows(out) },
      ],
    };
  }

  return {
    build(request: ReportRequest): Promise<ReportDocument> {
      switch (request.type) {
        case 'daily':
          return daily(request);
        case 'weekly':
          return weekly(request);
        case 'monthly':
          return monthly(request);
        case 'sales_stock':
          return salesStock(request);
      }
    },
  };
}

export type ReportBuilders = ReturnType<typeof reportBuildersFactory>;
