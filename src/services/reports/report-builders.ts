/**
 * The report builders: daily, weekly, monthly and sales-and-stock reports as ReportDocuments.
 * Every figure comes from the analytics services (the same queries the API answers); the parts they
 * share are in report-parts.ts, the sales-and-stock report in sales-stock-report.ts.
 */
import { formatDay, isoWeekKey, parseDay, shiftYears, weekday } from '../../lib/calendar.ts';
import type { SalesAnswer } from '../../models/analytics.ts';
import {
  barChart,
  type Column,
  DEFAULT_TOP,
  dimTable,
  documentFacts,
  FULL_LIST,
  kpiItems,
  longDate,
  MONTHS,
  type ReportBuilderDeps,
  type ReportRequest,
  revenueTrendChart,
  salesQuery,
  scopeOf,
  shortDate,
  weekdayShort,
} from './report-parts.ts';
import type { ChartSection, KpiSection, ReportDocument } from './report-types.ts';
import { salesStockReport } from './sales-stock-report.ts';

export type { ReportFilters, ReportRequest } from './report-parts.ts';

export function reportBuildersFactory(deps: ReportBuilderDeps) {
  const { sales, today, display } = deps;
  const query = (q: Record<string, unknown>, f: ReportRequest['filters']) => salesQuery(sales, q, f);

  async function daily(request: ReportRequest): Promise<ReportDocument> {
    const d = request.date ? parseDay(request.date)! : today() - 1;
    const date = formatDay(d);
    const f = request.filters;
    const top = request.top ?? DEFAULT_TOP;
    const day = { from: date, to: date, compare: 'rolling_7d' };
    const [vs7, vs4w, month, stores, categories, brands, products] = await Promise.all([
      query(day, f),
      query({ ...day, compare: 'same_weekday_4w' }, f),
      query({ from: formatDay(d - 29), to: date, compare: 'none' }, f),
      query({ ...day, groupBy: 'store', limit: FULL_LIST }, f),
      query({ ...day, groupBy: 'category', limit: FULL_LIST }, f),
      query({ ...day, groupBy: 'brand', limit: FULL_LIST }, f),
      query({ ...day, groupBy: 'product', limit: FULL_LIST }, f),
    ]);
    const kpis: KpiSection = {
      kind: 'kpis',
      title: 'Headline figures',
      sheet: 'Headline',
      against: ['vs 7-day average', 'vs same weekday, last 4 weeks'],
      items: kpiItems(vs7.kpis, [vs7.kpis.previous!, vs4w.kpis.previous!]),
    };
    const common = { previousTitle: '7-day avg', pdfRows: top };
    const storeTable = dimTable('store', stores, { ...common, title: 'Sales by store', sheet: 'Stores' });
    return {
      type: 'daily',
      title: 'Daily sales report',
      periodLabel: longDate(d),
      period: { from: date, to: date },
      scope: scopeOf(f, stores),
      ...documentFacts(
        request,
        display,
        [vs7, vs4w, month, stores, categories, brands, products].map((a) => a.meta),
      ),
      sections: [
        kpis,
        revenueTrendChart(
          'Revenue, last 30 days, with its 7-day average',
          'Chart revenue 30 days',
          month,
          true,
        ),
        barChart('Revenue by store', 'Chart revenue by store', storeTable),
        storeTable,
        dimTable('category', categories, { ...common, title: 'Sales by category', sheet: 'Categories' }),
        dimTable('brand', brands, { ...common, title: 'Sales by brand', sheet: 'Brands' }),
        dimTable('product', products, { ...common, title: 'Sales by product', sheet: 'Products' }),
      ],
    };
  }

  /** The week's daily revenue over the previous week's, day by day (Monday to Sunday). */
  function weekOverWeekChart(week: SalesAnswer, previous: SalesAnswer): ChartSection {
    const points = (a: SalesAnswer) =>
      a.trend.map((t) => ({ x: weekdayShort(parseDay(t.date)!), y: t.revenue }));
    return {
      kind: 'chart',
      title: 'Daily revenue, against the previous week',
      sheet: 'Chart daily revenue',
      chart: 'line',
      xTitle: 'Day',
      yTitle: 'Revenue',
      yType: 'money',
      series: [
        { name: 'This week', points: points(week) },
        { name: 'Previous week', points: points(previous) },
      ],
    };
  }

  async function weekly(request: ReportRequest): Promise<ReportDocument> {
    const ref = request.date ? parseDay(request.date)! : today() - 1;
    const monday = ref - ((weekday(ref) + 6) % 7) - 7; // the ISO week before the one containing ref
    const [from, to] = [formatDay(monday), formatDay(monday + 6)];
    const f = request.filters;
    const extra: Column[] = [
      { key: 'sharePct', title: 'Contribution', type: 'pct' },
      { key: 'marginPct', title: 'Margin', type: 'pct' },
    ];
    const list = { from, to, limit: FULL_LIST };
    const [week, previousWeek, twoBefore, stores, categories, brands, products] = await Promise.all([
      query({ from, to, compare: 'previous_period' }, f),
      query({ from: formatDay(monday - 7), to: formatDay(monday - 1), compare: 'none' }, f),
      query({ from: formatDay(monday - 14), to: formatDay(monday - 1), compare: 'none' }, f),
      query({ ...list, groupBy: 'store' }, f),
      query({ ...list, groupBy: 'category' }, f),
      query({ ...list, groupBy: 'brand' }, f),
      query({ ...list, groupBy: 'product' }, f),
    ]);
    const half = (k: SalesAnswer['kpis']) => ({
      revenue: k.revenue / 2,
      units: k.units / 2,
      orders: k.orders / 2,
      profit: k.profit / 2,
    });
    const common = { previousTitle: 'Previous week', extra, pdfRows: request.top ?? DEFAULT_TOP };
    const answers = [week, previousWeek, twoBefore, stores, categories, brands, products];
    return {
      type: 'weekly',
      title: 'Weekly sales report',
      periodLabel: `Week ${isoWeekKey(monday)} (${shortDate(monday)} – ${shortDate(monday + 6)})`,
      period: { from, to },
      scope: scopeOf(f, stores),
      ...documentFacts(
        request,
        display,
        answers.map((a) => a.meta),
      ),
      sections: [
        {
          kind: 'kpis',
          title: 'Headline figures',
          sheet: 'Headline',
          against: ['vs previous week', 'vs mean of the 2 previous weeks'],
          items: kpiItems(week.kpis, [week.kpis.previous!, half(twoBefore.kpis)]),
        },
        weekOverWeekChart(week, previousWeek),
        dimTable('store', stores, { ...common, title: 'Sales by store', sheet: 'Stores' }),
        dimTable('category', categories, { ...common, title: 'Sales by category', sheet: 'Categories' }),
        dimTable('brand', brands, { ...common, title: 'Sales by brand', sheet: 'Brands' }),
        dimTable('product', products, { ...common, title: 'Sales by product', sheet: 'Products' }),
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
    const year = { from, to, compare: 'previous_year', limit: FULL_LIST };
    const [month, prevMonth, stores, regions, products, thirteen] = await Promise.all([
      query({ from, to, compare: 'previous_year' }, f),
      query({ from: formatDay(prevFirst), to: formatDay(first - 1), compare: 'none' }, f),
      query({ ...year, groupBy: 'store' }, f),
      query({ ...year, groupBy: 'region' }, f),
      query({ ...year, groupBy: 'product' }, f),
      query({ from: formatDay(shiftYears(first, -1)), to, groupBy: 'month', compare: 'none', limit: 13 }, f),
    ]);
    const d = new Date(first * 86_400_000);
    const common = { previousTitle: 'A year earlier', pdfRows: request.top ?? DEFAULT_TOP };
    const p = prevMonth.kpis;
    return {
      type: 'monthly',
      title: 'Monthly sales report',
      periodLabel: `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`,
      period: { from, to },
      scope: scopeOf(f, stores),
      ...documentFacts(
        request,
        display,
        [month, prevMonth, stores, regions, products, thirteen].map((a) => a.meta),
      ),
      sections: [
        {
          kind: 'kpis',
          title: 'Headline figures',
          sheet: 'Headline',
          against: ['vs previous month', 'vs same month a year earlier'],
          items: kpiItems(month.kpis, [
            { revenue: p.revenue, units: p.units, orders: p.orders, profit: p.profit },
            month.kpis.previous!,
          ]),
        },
        {
          kind: 'chart',
          title: 'Revenue, last 13 months',
          sheet: 'Chart revenue 13 months',
          chart: 'bar',
          xTitle: 'Month',
          yTitle: 'Revenue',
          yType: 'money',
          // month rows come in time order (the default sort of a time grouping)
          series: [
            { name: 'Revenue', points: thirteen.rows.map((r) => ({ x: r.keys.month ?? '', y: r.revenue })) },
          ],
        },
        dimTable('region', regions, { ...common, title: 'Sales by region', sheet: 'Regions' }),
        dimTable('store', stores, {
          ...common,
          title: 'Sales and revenue per employee by store',
          sheet: 'Stores',
          extra: [{ key: 'revenuePerEmployee', title: 'Per employee', type: 'money' }],
        }),
        dimTable('product', products, {
          ...common,
          title: 'Monthly product sales',
          sheet: 'Products',
          extra: [{ key: 'marginPct', title: 'Margin', type: 'pct' }],
        }),
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
          return salesStockReport(deps, request);
      }
    },
  };
}

export type ReportBuilders = ReturnType<typeof reportBuildersFactory>;
