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
  daysOfCover,
  roundUnits,
  type StockStatus,
  scaledToCents,
  stockStatus,
  stockValueScaled,
} from './kpi-fns.ts';
import type { PartitionStore } from './partition-store.ts';

export const COVER_WINDOW_DAYS = 28;
export const URGENT_COVER_DAYS = 7;
const STOCK_KEY = 'stock:v1';
const STOCK_TTL_MS = 60_000;

export interface StockAnalyticsDeps {
  upstream: Pick<UpstreamClient, 'getStock'>;
  partitions: PartitionStore;
  catalog: CatalogSnapshotService;
  cache: Cache;
  config: Pick<Config, 'cache'>;
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

  async function stock(query: StockQuery): Promise<StockAnswer> {
    const started = performance.now();
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

    const rows: StockAnswer['rows'] = [];
    const values: number[] = [];
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
      const cover = daysOfCover(item.quantity, avgDailyUnits);
      rows.push({
        storeId: item.storeId,
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
      });
      values.push(stockValueScaled(item.quantity, product?.price ?? 0));
    }

    const kpis = {
      skus: rows.length,
      units: 0,
      stockValue: 0,
      lowStockCount: 0,
      outOfStockCount: 0,
      urgentReorderCount: 0,
    };
    const byCategory = new Map<string, StockAnswer['byCategory'][number] & { valueScaled: number }>();
    rows.forEach((r, i) => {
      const value = values[i]!;
      kpis.units += Math.max(r.quantity, 0);
      kpis.stockValue += value;
      if (r.status === 'low') kpis.lowStockCount++;
      if (r.status === 'out') kpis.outOfStockCount++;
      if (r.daysOfCover !== null && r.daysOfCover < URGENT_COVER_DAYS) kpis.urgentReorderCount++;
      let c = byCategory.get(r.category);
      if (!c) {
        c = {
          category: r.category,
          skus: 0,
          units: 0,
          stockValue: 0,
          lowStockCount: 0,
          outOfStockCount: 0,
          valueScaled: 0,
        };
        byCategory.set(r.category, c);
      }
      c.skus++;
      c.units += Math.max(r.quantity, 0);
      c.valueScaled += value;
      if (r.status === 'low') c.lowStockCount++;
      if (r.status === 'out') c.outOfStockCount++;
    });

    const order: Record<StockQuery['sort'], (x: number, y: number) => number> = {
      daysOfCover: (x, y) =>
        (rows[x]!.daysOfCover ?? Number.POSITIVE_INFINITY) -
        (rows[y]!.daysOfCover ?? Number.POSITIVE_INFINITY),
      quantity: (x, y) => rows[x]!.quantity - rows[y]!.quantity,
      stockValue: (x, y) => values[y]! - values[x]!,
    };
    const idx = rows.map((_, i) => i);
    idx.sort(
      (x, y) =>
        order[query.sort](x, y) ||
        rows[x]!.storeId.localeCompare(rows[y]!.storeId) ||
        rows[x]!.productId.localeCompare(rows[y]!.productId),
    );

    const complete = held.every((h) => h.view.data.closed && !h.stale) && stockResult.status !== 'stale';
    return {
      kpis: { ...kpis, units: roundUnits(kpis.units), stockValue: scaledToCents(kpis.stockValue) },
      rows: idx.slice(0, query.limit).map((i) => rows[i]!),
      totalRows: rows.length,
      byCategory: [...byCategory.values()]
        .sort((x, y) => y.valueScaled - x.valueScaled || x.category.localeCompare(y.category))
        .map(({ valueScaled, ...c }) => ({
          ...c,
          units: roundUnits(c.units),
          stockValue: scaledToCents(valueScaled),
        })),
      meta: {
        dataAsOf: new Date(Date.now() - stockResult.ageMs).toISOString(),
        complete,
        stale: stockResult.status === 'stale' || held.some((h) => h.stale) || attrs.snapshot.stale,
        cached: stockResult.status !== 'miss',
        computeMs: Math.round((performance.now() - started) * 10) / 10,
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
