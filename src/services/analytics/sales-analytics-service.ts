/**
 * Sales analytics: KPIs, breakdowns by up to two dimensions, comparisons and the daily trend,
 * computed from day partitions only, and cached per (query, data version). What an answer reads
 * (masks, days, data version, plans) is in sales-data.ts.
 */
import type { Cache } from '../../clients/cache/cache-types.ts';
import type { Config } from '../../config.ts';
import { formatDay } from '../../lib/calendar.ts';
import { SalesAnswer, type SalesQuery } from '../../models/analytics.ts';
import { elapsedMs, restamp, type ServedAnswer, serializeAnswer } from '../result-cache.ts';
import {
  type AggregateSpec,
  aggregate,
  type DayInput,
  type Dim,
  type Groups,
  TIME_DIMS,
} from './aggregate-fns.ts';
import type { CatalogSnapshotService, FullAttributes } from './catalog-snapshot.ts';
import {
  avgOrderValue,
  growthPct,
  MONEY_SCALE,
  marginPct,
  revenuePerEmployee,
  roundMoney,
  roundPct,
  roundUnits,
  scaledToCents,
  share,
} from './kpi-fns.ts';
import type { PartitionStore } from './partition-store.ts';
import { type SalesFilters, type SalesPlan, salesDataFactory } from './sales-data.ts';
import { comparisonFor, range, resolveWindow, timeBuckets, timeKeyOf } from './sales-window-fns.ts';

export type { SalesFilters };

export { resolveWindow };

export interface SalesAnalyticsDeps {
  partitions: PartitionStore;
  catalog: CatalogSnapshotService;
  cache: Cache;
  config: Pick<Config, 'analytics' | 'display'>;
}

export type SeriesDim = Exclude<Dim, 'day' | 'week' | 'month'>;

export interface DailySeries {
  keys: Record<string, string>;
  labels: Record<string, string>;
  /** one value per day of the window: revenue in currency units, or units, or orders */
  values: number[];
  /** the group's revenue over the window (scaled), which orders the groups */
  revenueScaled: number;
}

export function salesAnalyticsServiceFactory({ partitions, catalog, cache, config }: SalesAnalyticsDeps) {
  const { masks, loadDays, freshness, planOf, loadPlanDays, knownVersion } = salesDataFactory({
    partitions,
    catalog,
    currency: config.display.currency,
  });
  /**
   * Daily series of a target, whole or one per group (the top groups by revenue), from the same
   * partitions and engine as every other figure: forecasts use this, never a second aggregation.
   */
  async function dailySeries(request: {
    from: number;
    to: number;
    filters: SalesFilters;
    groupBy?: SeriesDim | undefined;
    top: number;
    target: 'revenue' | 'units' | 'orders';
  }) {
    const days = range(request.from, request.to);
    const { byDay, attrs, dataVersion } = await loadDays(days);
    const dims: Dim[] = request.groupBy ? [request.groupBy, 'day'] : ['day'];
    const groups = aggregate(
      days.map((d, i) => ({ view: byDay.get(d)!.view, buckets: { day: i } })),
      { dims, ...masks(request.filters, attrs) },
      attrs,
      { day: days.length },
    );
    const series = new Map<number, DailySeries>();
    groups.keys.forEach((key, g) => {
      const group = request.groupBy ? key[0]! : 0;
      const dayIndex = request.groupBy ? key[1]! : key[0]!;
      let s = series.get(group);
      if (!s) {
        const keys: Record<string, string> = {};
        const labels: Record<string, string> = {};
        if (request.groupBy) {
          keys[request.groupBy] = keyValueOf(request.groupBy, group, attrs);
          labels[request.groupBy] = labelOf(request.groupBy, group, attrs);
        }
        s = { keys, labels, values: new Array<number>(days.length).fill(0), revenueScaled: 0 };
        series.set(group, s);
      }
      const value =
        request.target === 'revenue'
          ? groups.revenue[g]! / MONEY_SCALE
          : request.target === 'units'
            ? groups.units[g]!
            : groups.orders[g]!;
      s.values[dayIndex] = value;
      s.revenueScaled += groups.revenue[g]!;
    });
    const ordered = [...series.values()].sort(
      (x, y) =>
        y.revenueScaled - x.revenueScaled || JSON.stringify(x.keys).localeCompare(JSON.stringify(y.keys)),
    );
    if (!request.groupBy && ordered.length === 0) {
      ordered.push({
        keys: {},
        labels: {},
        values: new Array<number>(days.length).fill(0),
        revenueScaled: 0,
      });
    }
    return {
      days,
      series: ordered.slice(0, request.top),
      dataVersion,
      ...freshness(days, byDay, partitions.today(), attrs),
    };
  }

  function keyValueOf(dim: Exclude<Dim, 'day' | 'week' | 'month'>, k: number, attrs: FullAttributes): string {
    switch (dim) {
      case 'store':
        return partitions.stores.ids[k]!;
      case 'product':
        return partitions.products.ids[k]!;
      case 'region':
        return attrs.regions[k]!;
      case 'category':
        return attrs.categories[k]!;
      case 'brand':
        return attrs.brands[k]!;
    }
  }

  function labelOf(dim: SeriesDim, k: number, attrs: FullAttributes): string {
    return dim === 'store'
      ? attrs.storeName(k)
      : dim === 'product'
        ? attrs.productName(k)
        : keyValueOf(dim, k, attrs);
  }

  /**
   * The answer to a query as it is sent: a cached answer's stored bytes (only meta.cached and
   * meta.computeMs restamped), else computed, checked against its schema, serialised and stored.
   * A hit costs a few map lookups: the window and key of a repeated query are remembered, and so
   * is the version of its days while the partitions under it have not changed.
   */
  async function serve(query: SalesQuery): Promise<{ served: ServedAnswer; computed?: SalesAnswer }> {
    const started = performance.now();
    const today = partitions.today();
    const plan = planOf(query, today);
    let loaded: Awaited<ReturnType<typeof loadDays>> | undefined;
    let dataVersion = knownVersion(plan);
    if (dataVersion === undefined) {
      loaded = await loadPlanDays(plan);
      dataVersion = loaded.dataVersion;
    }
    const hit = await cache.get<Uint8Array>(`${plan.key}:${dataVersion}`).catch(() => undefined);
    if (hit && hit.value instanceof Uint8Array) return { served: restamp(hit.value, started) };

    loaded ??= await loadPlanDays(plan);
    const computed = compute(query, today, plan, loaded, started);
    const body = serializeAnswer(SalesAnswer, computed);
    await cache
      .set(`${plan.key}:${loaded.dataVersion}`, body, { ttlMs: config.analytics.resultCacheTtlMs })
      .catch(() => {});
    return { served: { body, cached: false, stale: computed.meta.stale }, computed };
  }

  function compute(
    query: SalesQuery,
    today: number,
    plan: SalesPlan,
    { byDay, attrs }: Awaited<ReturnType<typeof loadDays>>,
    started: number,
  ): SalesAnswer {
    const { from, to } = plan;
    const periodDays = range(from, to);
    const comparison = comparisonFor(query.compare, from, to);
    const trendFrom = from - 6;

    const spec: AggregateSpec = { dims: query.groupBy, ...masks(query, attrs) };
    const timeDims = spec.dims.filter((d) => TIME_DIMS.includes(d));

    // Time buckets of the period, in order (e.g. the ISO weeks it touches).
    const buckets = timeBuckets(periodDays, timeDims);
    const timeCardinality = Object.fromEntries(timeDims.map((d) => [d, buckets[d]!.keys.length]));
    const input = (day: number, mappedTo: number): DayInput => ({
      view: byDay.get(day)!.view,
      buckets: Object.fromEntries(
        timeDims.map((dim) => [dim, buckets[dim]!.index.get(timeKeyOf[dim]!(mappedTo)) ?? 0]),
      ),
    });

    const current = aggregate(
      periodDays.map((d) => input(d, d)),
      spec,
      attrs,
      timeCardinality,
    );

    // Previous figures per row, on the current rows' keys.
    let previous: Groups | null = null;
    let previousWeight = 1;
    let baselinePerDay: Groups | null = null;
    if (comparison?.baseline) {
      const nonTime: AggregateSpec = { ...spec, dims: spec.dims.filter((d) => !TIME_DIMS.includes(d)) };
      baselinePerDay = aggregate(
        comparison.baseline.map((d) => ({ view: byDay.get(d)!.view, buckets: {} })),
        nonTime,
        attrs,
        {},
      );
    } else if (comparison) {
      const inputs: DayInput[] = [];
      for (const shift of comparison.shifts) for (const d of periodDays) inputs.push(input(shift(d), d));
      previous = aggregate(inputs, spec, attrs, timeCardinality);
      previousWeight = 1 / comparison.shifts.length;
    }

    // Trend over [from − 6, to] for the 7-day average; the KPIs are its sums over the period.
    const trendDays = range(trendFrom, to);
    const trendGroups = aggregate(
      trendDays.map((d) => ({ view: byDay.get(d)!.view, buckets: { day: d - trendFrom } })),
      { ...spec, dims: ['day'] },
      attrs,
      { day: trendDays.length },
    );
    const perDay = (i: number, field: 'revenue' | 'units' | 'orders' | 'lines' | 'cost') => {
      const g = trendGroups.slotOf([i]);
      return g === undefined ? 0 : trendGroups[field][g]!;
    };
    const totals = { revenue: 0, units: 0, orders: 0, lines: 0, cost: 0 };
    for (let i = 6; i < trendDays.length; i++) {
      for (const f of ['revenue', 'units', 'orders', 'lines', 'cost'] as const) totals[f] += perDay(i, f);
    }
    const trend = [];
    for (let i = 6; i < trendDays.length; i++) {
      let sum7 = 0;
      for (let k = i - 6; k <= i; k++) sum7 += perDay(k, 'revenue');
      trend.push({
        date: formatDay(trendDays[i]!),
        revenue: scaledToCents(perDay(i, 'revenue')),
        units: roundUnits(perDay(i, 'units')),
        orders: perDay(i, 'orders'),
        rolling7dAvgRevenue: scaledToCents(sum7 / 7),
      });
    }

    // Previous KPIs: the comparison windows' totals (rolling_7d: the baseline's daily mean × days).
    let prevKpis: { revenue: number; units: number; orders: number; cost: number } | null = null;
    if (comparison) {
      const totalSpec: AggregateSpec = { ...spec, dims: [] };
      if (comparison.baseline) {
        const g = aggregate(
          comparison.baseline.map((d) => ({ view: byDay.get(d)!.view, buckets: {} })),
          totalSpec,
          attrs,
          {},
        );
        const scale = periodDays.length / 7;
        prevKpis = {
          revenue: (g.revenue[0] ?? 0) * scale,
          units: (g.units[0] ?? 0) * scale,
          orders: (g.orders[0] ?? 0) * scale,
          cost: (g.cost[0] ?? 0) * scale,
        };
      } else {
        const inputs: DayInput[] = [];
        for (const shift of comparison.shifts)
          for (const d of periodDays) inputs.push({ view: byDay.get(shift(d))!.view, buckets: {} });
        const g = aggregate(inputs, totalSpec, attrs, {});
        const w = 1 / comparison.shifts.length;
        prevKpis = {
          revenue: (g.revenue[0] ?? 0) * w,
          units: (g.units[0] ?? 0) * w,
          orders: (g.orders[0] ?? 0) * w,
          cost: (g.cost[0] ?? 0) * w,
        };
      }
    }

    // Rows: the union of current and previous keys (a store that sold only before shows −100 %).
    const keyLists: number[][] = [...current.keys];
    if (previous) for (const k of previous.keys) if (current.slotOf(k) === undefined) keyLists.push(k);
    if (baselinePerDay && timeDims.length === 0) {
      for (const k of baselinePerDay.keys) if (current.slotOf(k) === undefined) keyLists.push(k);
    }
    const nonTimeIdx = spec.dims.map((d, i) => (TIME_DIMS.includes(d) ? -1 : i)).filter((i) => i >= 0);
    const rows = keyLists.map((key) => {
      const g = current.slotOf(key);
      const revenue = g === undefined ? 0 : current.revenue[g]!;
      const cost = g === undefined ? 0 : current.cost[g]!;
      const orders = g === undefined ? 0 : current.orders[g]!;
      let prevRevenue: number | null = null;
      if (previous) {
        const pg = previous.slotOf(key);
        prevRevenue = pg === undefined ? 0 : previous.revenue[pg]! * previousWeight;
      } else if (baselinePerDay) {
        const pg = baselinePerDay.slotOf(nonTimeIdx.map((i) => key[i]!));
        let bucketDays = periodDays.length;
        for (const dim of timeDims) bucketDays = buckets[dim]!.days[key[spec.dims.indexOf(dim)]!] ?? 0;
        prevRevenue = ((pg === undefined ? 0 : baselinePerDay.revenue[pg]!) / 7) * bucketDays;
      }
      return {
        key,
        revenue,
        cost,
        orders,
        units: g === undefined ? 0 : current.units[g]!,
        lines: g === undefined ? 0 : current.lines[g]!,
        prevRevenue,
      };
    });

    const growthOf = (r: (typeof rows)[number]) => growthPct(r.revenue, r.prevRevenue);
    const sortValue: Record<
      Exclude<NonNullable<SalesQuery['sort']>, 'key'>,
      (r: (typeof rows)[number]) => number
    > = {
      revenue: (r) => r.revenue,
      units: (r) => r.units,
      orders: (r) => r.orders,
      profit: (r) => r.revenue - r.cost,
      growth: (r) => growthOf(r) ?? Number.NEGATIVE_INFINITY,
    };
    // the key order puts time first: sort=key lists a time grouping in time order
    const keyOrder = spec.dims
      .map((dim, i) => ({ i, time: TIME_DIMS.includes(dim) }))
      .sort((a, b) => Number(b.time) - Number(a.time))
      .map(({ i }) => i);
    const keyText = (key: number[]) => keyOrder.map((i) => keyValue(spec.dims[i]!, key[i]!)).join('\u0000');
    const keyValue = (dim: Dim, k: number): string =>
      TIME_DIMS.includes(dim) ? buckets[dim]!.keys[k]! : keyValueOf(dim as SeriesDim, k, attrs);
    const labelValue = (dim: Dim, k: number): string =>
      TIME_DIMS.includes(dim) ? keyValue(dim, k) : labelOf(dim as SeriesDim, k, attrs);
    const sort = query.sort ?? (timeDims.length > 0 ? 'key' : 'revenue');
    const by = sort === 'key' ? () => 0 : sortValue[sort];
    const keyTexts = new Map(rows.map((r) => [r, keyText(r.key)]));
    rows.sort(
      (x, y) =>
        by(y) - by(x) ||
        (keyTexts.get(x)! < keyTexts.get(y)! ? -1 : keyTexts.get(x)! > keyTexts.get(y)! ? 1 : 0),
    );
    const cut = spec.dims.flatMap((dim, i) => (dim === 'week' || dim === 'month' ? [{ dim, i }] : []));

    const storeDim = spec.dims.indexOf('store');
    const answerRows = rows.slice(0, query.limit).map((r) => {
      const keys: Record<string, string> = {};
      const labels: Record<string, string> = {};
      spec.dims.forEach((dim, i) => {
        keys[dim] = keyValue(dim, r.key[i]!);
        labels[dim] = labelValue(dim, r.key[i]!);
      });
      return {
        keys,
        labels,
        revenue: scaledToCents(r.revenue),
        units: roundUnits(r.units),
        lines: r.lines,
        orders: r.orders,
        avgOrderValue: roundMoney(avgOrderValue(r.revenue, r.orders)),
        profit: scaledToCents(r.revenue - r.cost),
        marginPct: roundPct(marginPct(r.revenue, r.cost)),
        sharePct: roundPct(share(r.revenue, totals.revenue) * 100),
        share: Math.round(share(r.revenue, totals.revenue) * 1e6) / 1e6,
        previousRevenue: r.prevRevenue === null ? null : scaledToCents(r.prevRevenue),
        revenueGrowthPct: roundPct(growthOf(r)),
        ...(cut.length > 0 ? { partial: cut.some(({ dim, i }) => buckets[dim]!.partial[r.key[i]!]!) } : {}),
        ...(storeDim >= 0
          ? {
              revenuePerEmployee: (() => {
                const v = revenuePerEmployee(r.revenue, attrs.employeesOfStore[r.key[storeDim]!] ?? 0);
                return v === null ? null : roundMoney(v);
              })(),
            }
          : {}),
      };
    });

    const { dataAsOf, complete, stale } = freshness(periodDays, byDay, today, attrs);

    const answer: SalesAnswer = {
      period: { from: formatDay(from), to: formatDay(to), days: periodDays.length },
      comparison: comparison
        ? { mode: comparison.mode, from: formatDay(comparison.from), to: formatDay(comparison.to) }
        : null,
      kpis: {
        revenue: scaledToCents(totals.revenue),
        units: roundUnits(totals.units),
        lines: totals.lines,
        orders: totals.orders,
        avgOrderValue: roundMoney(avgOrderValue(totals.revenue, totals.orders)),
        cost: scaledToCents(totals.cost),
        profit: scaledToCents(totals.revenue - totals.cost),
        marginPct: roundPct(marginPct(totals.revenue, totals.cost)),
        previous: prevKpis
          ? {
              revenue: scaledToCents(prevKpis.revenue),
              units: roundUnits(prevKpis.units),
              orders: Math.round(prevKpis.orders * 100) / 100,
              profit: scaledToCents(prevKpis.revenue - prevKpis.cost),
            }
          : null,
        revenueGrowthPct: roundPct(prevKpis ? growthPct(totals.revenue, prevKpis.revenue) : null),
        unitsGrowthPct: roundPct(prevKpis ? growthPct(totals.units, prevKpis.units) : null),
        ordersGrowthPct: roundPct(prevKpis ? growthPct(totals.orders, prevKpis.orders) : null),
      },
      rows: answerRows,
      totalRows: rows.length,
      trend,
      meta: {
        dataAsOf,
        complete,
        stale,
        cached: false,
        computeMs: elapsedMs(started),
        currency: config.display.currency,
      },
    };
    return answer;
  }

  /** The version of the data of a window (syncing what is missing): equal versions, equal figures. */
  async function dataVersionOf(from: number, to: number): Promise<string> {
    return (await loadDays(range(from, to))).dataVersion;
  }

  return {
    /** The answer as data (reports): a cached one is parsed from its stored bytes. */
    async sales(query: SalesQuery): Promise<SalesAnswer> {
      const { served, computed } = await serve(query);
      return computed ?? (JSON.parse(served.body.toString('utf8')) as SalesAnswer);
    },
    /** The answer as the API sends it: JSON bytes, and whether they came from the cache or are stale. */
    salesJson: async (query: SalesQuery): Promise<ServedAnswer> => (await serve(query)).served,
    dailySeries,
    dataVersionOf,
  };
}

export type SalesAnalyticsService = ReturnType<typeof salesAnalyticsServiceFactory>;
