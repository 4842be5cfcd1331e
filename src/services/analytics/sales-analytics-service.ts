/**
 * Sales analytics: KPIs, breakdowns by up to two dimensions, comparisons and the daily trend,
 * computed from day partitions only, and cached per (query, data version).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Cache } from '../../clients/cache/cache-types.ts';
import type { Config } from '../../config.ts';
import { formatDay } from '../../lib/calendar.ts';
import { SalesAnswer, type SalesQuery } from '../../models/analytics.ts';
import { elapsedMs, requestKey, restamp, type ServedAnswer, serializeAnswer } from '../result-cache.ts';
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
import type { HeldDay, HeldMark, PartitionStore } from './partition-store.ts';
import { comparisonFor, range, resolveWindow, timeBuckets, timeKeyOf } from './sales-window-fns.ts';

export { resolveWindow };

export interface SalesAnalyticsDeps {
  partitions: PartitionStore;
  catalog: CatalogSnapshotService;
  cache: Cache;
  config: Pick<Config, 'analytics' | 'display'>;
}

export type SalesFilters = Partial<
  Pick<SalesQuery, 'storeId' | 'region' | 'category' | 'brand' | 'productId'>
>;
export type SeriesDim = Exclude<Dim, 'day' | 'week' | 'month'>;

/** A query resolved against a day: its window, the days it reads, its cache key but the data version. */
interface SalesPlan {
  today: number;
  from: number;
  to: number;
  /** every day the answer reads, ascending */
  days: number[];
  key: string;
  /** the data version of `days` when last read, valid while the mark is current and attrs unchanged */
  known?: { dataVersion: string; mark: HeldMark; attrs: FullAttributes };
}

/** Plans remembered per (today, query): a repeated query skips resolving its window and hashing it. */
const PLANS_HELD = 1_000;

export interface DailySeries {
  keys: Record<string, string>;
  labels: Record<string, string>;
  /** one value per day of the window: revenue in currency units, or units, or orders */
  values: number[];
  /** the group's revenue over the window (scaled), which orders the groups */
  revenueScaled: number;
}

export function salesAnalyticsServiceFactory({ partitions, catalog, cache, config }: SalesAnalyticsDeps) {
  function masks(
    query: SalesFilters,
    attrs: FullAttributes,
  ): Pick<AggregateSpec, 'storeMask' | 'productMask'> {
    let storeMask: Uint8Array | null = null;
    if (query.storeId?.length || query.region?.length) {
      storeMask = new Uint8Array(attrs.storeCount);
      const ids = query.storeId ? new Set(query.storeId) : null;
      const regions = query.region ? new Set(query.region) : null;
      for (let i = 0; i < attrs.storeCount; i++) {
        const okId = !ids || ids.has(partitions.stores.ids[i]!);
        const okRegion = !regions || regions.has(attrs.regions[attrs.regionOfStore[i]!]!);
        storeMask[i] = okId && okRegion ? 1 : 0;
      }
    }
    let productMask: Uint8Array | null = null;
    if (query.productId?.length || query.category?.length || query.brand?.length) {
      productMask = new Uint8Array(attrs.productCount);
      const ids = query.productId ? new Set(query.productId) : null;
      const cats = query.category ? new Set(query.category) : null;
      const brands = query.brand ? new Set(query.brand) : null;
      for (let i = 0; i < attrs.productCount; i++) {
        const ok =
          (!ids || ids.has(partitions.products.ids[i]!)) &&
          (!cats || cats.has(attrs.categories[attrs.categoryOfProduct[i]!]!)) &&
          (!brands || brands.has(attrs.brands[attrs.brandOfProduct[i]!]!));
        productMask[i] = ok ? 1 : 0;
      }
    }
    return { storeMask, productMask };
  }

  /** Loads the days (in order), the catalog attributes, and the version of that data. */
  async function loadDays(days: number[]) {
    const sorted = [...days].sort((x, y) => x - y);
    const held = await partitions.getDays(sorted);
    const byDay = new Map<number, HeldDay>(sorted.map((d, i) => [d, held[i]!]));
    const attrs = await catalog.attributes();
    // Every partition read and the catalog: any change makes a new version, hence a new cache key.
    const hash = createHash('sha1').update(`${attrs.version}${attrs.snapshot.stale ? ':s' : ''};`);
    for (const d of sorted) {
      const h = byDay.get(d)!;
      hash.update(`${d}:${h.view.data.version}:${h.stale ? 's' : ''};`);
    }
    return { byDay, attrs, dataVersion: hash.digest('base64url').slice(0, 20) };
  }

  /**
   * The oldest read among the days, and whether the figures are final: every day closed, read
   * after it ended, not served from an older copy after a failure, and the catalog fresh.
   */
  function freshness(days: number[], byDay: Map<number, HeldDay>, today: number, attrs: FullAttributes) {
    let oldest: number | null = null;
    let complete = !attrs.snapshot.stale;
    for (const d of days) {
      const h = byDay.get(d)!;
      if (d >= today || !h.view.data.closed || h.stale) complete = false;
      if (d < today || h.view.data.lineCount > 0) {
        oldest = oldest === null ? h.view.data.fetchedAt : Math.min(oldest, h.view.data.fetchedAt);
      }
    }
    // Stale: some data under the answer (any day read, or the catalog) is an older copy served
    // because the system of record failed or was too slow to answer within the request's budget.
    let stale = attrs.snapshot.stale;
    for (const h of byDay.values()) if (h.stale) stale = true;
    return { dataAsOf: oldest === null ? null : new Date(oldest).toISOString(), complete, stale };
  }

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

  const plans = new LRUCache<string, SalesPlan>({ max: PLANS_HELD });
  /** by query object: the API's validator hands out the same frozen object for the same query */
  const plansByQuery = new WeakMap<SalesQuery, SalesPlan>();

  function planOf(query: SalesQuery, today: number): SalesPlan {
    const same = plansByQuery.get(query);
    if (same?.today === today) return same;
    // zod writes a query's members in the schema's order: equal queries, equal text.
    const id = `${today};${JSON.stringify(query)}`;
    let plan = plans.get(id);
    if (!plan) {
      const { from, to } = resolveWindow(query, today);
      const periodDays = range(from, to);
      const comparison = comparisonFor(query.compare, from, to);
      // Every day the answer reads: the period, the trend's lead-in, the comparison windows.
      const needed = new Set<number>(range(from - 6, to));
      if (comparison) {
        for (const shift of comparison.shifts) for (const d of periodDays) needed.add(shift(d));
        for (const d of comparison.baseline ?? []) needed.add(d);
      }
      plan = {
        today,
        from,
        to,
        days: [...needed].sort((x, y) => x - y),
        key: requestKey('analytics:sales:v2', {
          ...query,
          from: formatDay(from),
          to: formatDay(to),
          currency: config.display.currency,
        }),
      };
      plans.set(id, plan);
    }
    // Only a frozen query cannot change under its plan.
    if (Object.isFrozen(query)) plansByQuery.set(query, plan);
    return plan;
  }

  /** Reads the plan's days and remembers their version until one of them changes or is due. */
  async function loadPlanDays(plan: SalesPlan) {
    const generation = partitions.generation();
    const loaded = await loadDays(plan.days);
    plan.known = {
      dataVersion: loaded.dataVersion,
      attrs: loaded.attrs,
      mark: partitions.markHeld(plan.days, generation),
    };
    return loaded;
  }

  /**
   * The version of the plan's days without reading them, when nothing changed since the last read:
   * no day loaded, dropped or due, and the catalog attributes the same (re-read every few seconds:
   * then the days are read again, which re-reads the catalog).
   */
  function knownVersion(plan: SalesPlan): string | undefined {
    const known = plan.known;
    if (!known || !partitions.isCurrent(known.mark)) return undefined;
    return catalog.attributesIfCurrent() === known.attrs ? known.dataVersion : undefined;
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
