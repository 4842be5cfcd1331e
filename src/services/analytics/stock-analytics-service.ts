/**
 * Stock analytics: statuses, days of cover and stock value per (store, product), with the sales
 * side (units over the last 28 business days) read from the same day partitions as sales analytics.
 */
import type { Cache } from '../../clients/cache/cache-types.ts';
import type { UpstreamClient } from '../../clients/upstream-client.ts';
import type { Config } from '../../config.ts';
import type { StockAnswer, StockQuery } from '../../models/analytics.ts';
import type { UpstreamStockItem } from '../../models/upstream.ts';
import { aggregate } from './aggregate-fns.ts';
import { type CatalogSnapshotService, UNKNOWN } from './catalog-snapshot.ts';
import {
  COVER_BUCKETS,
  type CoverBucket,
  coverBucket,
  daysOfCover,
  needsReorder,
  revenueAtStakeScaled,
  roundUnits,
  type StockStatus,
  scaledToCents,
  stockStatus,
  stockValueScaled,
} from './kpi-fns.ts';
import type { PartitionStore } from './partition-store.ts';

export const COVER_WINDOW_DAYS = 28;
const STOCK_KEY = 'stock:v1';
const STOCK_TTL_MS = 60_000;

export interface StockAnalyticsDeps {
  upstream: Pick<UpstreamClient, 'getStock'>;
  partitions: PartitionStore;
  catalog: CatalogSnapshotService;
  cache: Cache;
  config: Pick<Config, 'cache' | 'display'>;
}

/** A row of the answer, with the scaled figures the totals are summed from. */
type StockItem = Omit<StockAnswer['rows'][number], 'stockValue' | 'revenueAtStake'> & {
  valueScaled: number;
  atStakeScaled: number;
  bucket: CoverBucket;
};

function publicRow({
  valueScaled,
  atStakeScaled,
  bucket: _bucket,
  ...row
}: StockItem): StockAnswer['rows'][number] {
  return { ...row, stockValue: scaledToCents(valueScaled), revenueAtStake: scaledToCents(atStakeScaled) };
}

/** The counts of a set of items (the whole answer, or a category). */
function countsOf(items: StockItem[]) {
  const c = {
    storeProducts: items.length,
    products: new Set(items.map((r) => r.productId)).size,
    units: 0,
    valueScaled: 0,
    negativeStockCount: 0,
    outOfStockCount: 0,
    lowStockCount: 0,
  };
  for (const r of items) {
    c.units += Math.max(r.quantity, 0);
    c.valueScaled += r.valueScaled;
    if (r.status === 'negative') c.negativeStockCount++;
    if (r.status === 'out') c.outOfStockCount++;
    if (r.status === 'low') c.lowStockCount++;
  }
  return c;
}

function publicCounts<T extends ReturnType<typeof countsOf>>({ valueScaled, units, ...rest }: T) {
  return { ...rest, units: roundUnits(units), stockValue: scaledToCents(valueScaled) };
}

/** How the rows are ordered, as indexes into `rows`. */
function sortOrder(rows: StockItem[], sort: StockQuery['sort']): (x: number, y: number) => number {
  // negative stock first (it needs checking), then by cover, items without sales last
  const coverKey = (r: StockItem) =>
    r.status === 'negative' ? Number.NEGATIVE_INFINITY : (r.daysOfCover ?? Number.POSITIVE_INFINITY);
  const byCover = (x: number, y: number) => {
    const a = coverKey(rows[x]!);
    const b = coverKey(rows[y]!);
    return a === b ? 0 : a < b ? -1 : 1;
  };
  switch (sort) {
    case 'urgency':
      return (x, y) =>
        Number(rows[y]!.reorderNow) - Number(rows[x]!.reorderNow) ||
        rows[y]!.atStakeScaled - rows[x]!.atStakeScaled ||
        byCover(x, y);
    case 'daysOfCover':
      return byCover;
    case 'quantity':
      return (x, y) => rows[x]!.quantity - rows[y]!.quantity;
    case 'stockValue':
      return (x, y) => rows[y]!.valueScaled - rows[x]!.valueScaled;
  }
}

export function stockAnalyticsServiceFactory({
  upstream,
  partitions,
  catalog,
  cache,
  config,
}: StockAnalyticsDeps) {
  /** The current stock of the system of record, through the cache (a minute fresh). */
  function currentStock() {
    return cache.getOrLoad<UpstreamStockItem[]>(STOCK_KEY, () => upstream.getStock(), {
      ttlMs: STOCK_TTL_MS,
      staleTtlMs: config.cache.staleTtlMs,
    });
  }

  /** Figures per (store, product) of the stock book that pass the query's filters. */
  async function items(query: StockQuery) {
    const today = partitions.today();
    const stockResult = await currentStock();
    const days = Array.from({ length: COVER_WINDOW_DAYS }, (_, i) => today - COVER_WINDOW_DAYS + i);
    const held = await partitions.getDays(days);
    const attrs = await catalog.attributes();
    const sold = aggregate(
      held.map((h) => ({ view: h.view, buckets: {} })),
      { dims: ['store', 'product'], storeMask: null, productMask: null },
      attrs,
      {},
    );

    const storeIds = query.storeId ? new Set(query.storeId) : null;
    const categories = query.category ? new Set(query.category) : null;
    const brands = query.brand ? new Set(query.brand) : null;
    const statuses = query.status ? new Set<string>(query.status) : null;
    const lead = query.leadTimeDays;

    const rows: StockItem[] = [];
    for (const item of stockResult.value) {
      const product = attrs.snapshot.productById.get(item.productId);
      const category = product?.category ?? UNKNOWN;
      const brand = product?.brand ?? UNKNOWN;
      if (storeIds && !storeIds.has(item.storeId)) continue;
      if (categories && !categories.has(category)) continue;
      if (brands && !brands.has(brand)) continue;
      const status: StockStatus = stockStatus(item.quantity, item.reorderLevel);
      if (statuses && !statuses.has(status)) continue;
      const s = partitions.stores.get(item.storeId);
      const p = partitions.products.get(item.productId);
      const g = s === undefined || p === undefined ? undefined : sold.slotOf([s, p]);
      const avgDailyUnits = (g === undefined ? 0 : sold.units[g]!) / COVER_WINDOW_DAYS;
      const reorderNow = needsReorder(item.quantity, avgDailyUnits, lead);
      if (query.reorderNow !== undefined && query.reorderNow !== reorderNow) continue;
      const cover = daysOfCover(item.quantity, avgDailyUnits);
      const price = product?.price ?? 0;
      rows.push({
        storeId: item.storeId,
        storeName: attrs.snapshot.storeById.get(item.storeId)?.name ?? UNKNOWN,
        productId: item.productId,
        sku: product?.sku ?? null,
        name: product?.name ?? UNKNOWN,
        category,
        brand,
        quantity: item.quantity,
        reorderLevel: item.reorderLevel,
        avgDailyUnits: roundUnits(avgDailyUnits),
        daysOfCover: cover === null ? null : Math.round(cover * 10) / 10,
        status,
        valueScaled: stockValueScaled(item.quantity, price),
        reorderNow,
        atStakeScaled: reorderNow ? revenueAtStakeScaled(item.quantity, avgDailyUnits, price, lead) : 0,
        bucket: coverBucket(item.quantity, cover),
      });
    }
    const complete = held.every((h) => h.view.data.closed && !h.stale) && stockResult.status !== 'stale';
    const stale = stockResult.status === 'stale' || held.some((h) => h.stale) || attrs.snapshot.stale;
    return { rows, complete, stale, stockResult };
  }

  async function stock(query: StockQuery): Promise<StockAnswer> {
    const started = performance.now();
    const { rows, complete, stale, stockResult } = await items(query);
    const kpis = { ...countsOf(rows), reorderNowCount: 0, atStakeScaled: 0 };
    const byCategory = new Map<string, StockItem[]>();
    const byBucket = new Map<string, StockItem[]>();
    for (const r of rows) {
      if (r.reorderNow) kpis.reorderNowCount++;
      kpis.atStakeScaled += r.atStakeScaled;
      for (const [map, key] of [
        [byCategory, r.category],
        [byBucket, r.bucket],
      ] as const) {
        const list = map.get(key);
        if (list) list.push(r);
        else map.set(key, [r]);
      }
    }
    const idx = rows.map((_, i) => i);
    const order = sortOrder(rows, query.sort);
    idx.sort(
      (x, y) =>
        order(x, y) ||
        rows[x]!.storeId.localeCompare(rows[y]!.storeId) ||
        rows[x]!.productId.localeCompare(rows[y]!.productId),
    );
    const { atStakeScaled, ...counts } = kpis;
    return {
      kpis: {
        ...publicCounts(counts),
        revenueAtStake: scaledToCents(atStakeScaled),
        leadTimeDays: query.leadTimeDays,
      },
      rows: idx.slice(0, query.limit).map((i) => publicRow(rows[i]!)),
      totalRows: rows.length,
      byCategory: [...byCategory.entries()]
        .map(([category, items]) => ({ category, counts: countsOf(items) }))
        .sort((x, y) => y.counts.valueScaled - x.counts.valueScaled || x.category.localeCompare(y.category))
        .map(({ category, counts }) => ({ category, ...publicCounts(counts) })),
      coverDistribution: COVER_BUCKETS.map((b) => {
        const items = byBucket.get(b.key) ?? [];
        return {
          bucket: b.key,
          label: b.label,
          storeProducts: items.length,
          stockValue: scaledToCents(items.reduce((sum, r) => sum + r.valueScaled, 0)),
        };
      }),
      meta: {
        dataAsOf: new Date(Date.now() - stockResult.ageMs).toISOString(),
        complete,
        stale,
        cached: stockResult.status !== 'miss',
        computeMs: Math.round((performance.now() - started) * 10) / 10,
        currency: config.display.currency,
      },
    };
  }

  /** After a stock import: the next answer reads the system of record again. */
  async function invalidate(): Promise<void> {
    await cache.delete(STOCK_KEY);
  }

  return { stock, currentStock, invalidate };
}

export type StockAnalyticsService = ReturnType<typeof stockAnalyticsServiceFactory>;
