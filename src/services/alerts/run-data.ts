/**
 * The data of one detection run: the day views of the window (warm partitions), the entity layout
 * and labels from the catalog, and, when the last day is the latest closed one, the current stock
 * with the units and revenue of the cover window.
 */
import type { DayView } from '../analytics/aggregate-fns.ts';
import type { CatalogSnapshotService } from '../analytics/catalog-snapshot.ts';
import { MONEY_SCALE } from '../analytics/kpi-fns.ts';
import type { PartitionStore } from '../analytics/partition-store.ts';
import { COVER_WINDOW_DAYS, type StockAnalyticsService } from '../analytics/stock-analytics-service.ts';
import type { Labels, StockIndex } from './day-context.ts';
import type { Layout } from './series-fns.ts';

export interface Run {
  views: Map<number, DayView>;
  layout: Layout;
  labels: Labels;
  complete: boolean;
  stock: StockIndex | undefined;
  stockDay: number | undefined;
}

export async function loadRun(
  deps: { partitions: PartitionStore; catalog: CatalogSnapshotService },
  from: number,
  to: number,
): Promise<Run> {
  const { partitions, catalog } = deps;
  const days: number[] = [];
  for (let d = from; d <= to; d++) days.push(d);
  const held = await partitions.getDays(days);
  // After loading: the days may have added ids to the dictionaries the layout is sized to.
  const attrs = await catalog.attributes();
  const views = new Map<number, DayView>();
  days.forEach((d, i) => {
    views.set(d, held[i]!.view);
  });
  const layout: Layout = {
    stores: attrs.storeCount,
    products: attrs.productCount,
    regions: attrs.regions.length,
    categories: attrs.categories.length,
    brands: attrs.brands.length,
    regionOfStore: attrs.regionOfStore,
    categoryOfProduct: attrs.categoryOfProduct,
    brandOfProduct: attrs.brandOfProduct,
  };
  const labels: Labels = {
    storeId: (s) => partitions.stores.ids[s]!,
    storeName: attrs.storeName,
    productId: (p) => partitions.products.ids[p]!,
    productName: attrs.productName,
    regions: attrs.regions,
    categories: attrs.categories,
    brands: attrs.brands,
  };
  const complete = held.every((h) => h.view.data.closed && !h.stale) && !attrs.snapshot.stale;
  return { views, layout, labels, complete, stock: undefined, stockDay: undefined };
}

/** The last stock index built: the same stock answer over the same days is not indexed again. */
export interface StockCache {
  key?: string;
  stock?: unknown;
  index?: StockIndex;
}

/** Current stock by (store, product) index, with sales over the cover window ending on `day`. */
export async function stockIndex(
  run: Run,
  deps: { partitions: PartitionStore; stock: Pick<StockAnalyticsService, 'currentStock'> },
  day: number,
  cache: StockCache = {},
): Promise<void> {
  const { layout } = run;
  const P = layout.products;
  const result = await deps.stock.currentStock();
  const missing: number[] = [];
  for (let d = day - COVER_WINDOW_DAYS + 1; d <= day; d++) if (!run.views.has(d)) missing.push(d);
  const extra = await deps.partitions.getDays(missing);
  missing.forEach((d, i) => {
    run.views.set(d, extra[i]!.view);
  });
  const versions: string[] = [];
  for (let d = day - COVER_WINDOW_DAYS + 1; d <= day; d++) versions.push(run.views.get(d)!.data.version);
  const key = `${day}:${layout.stores}:${layout.products}:${versions.join(',')}`;
  if (cache.key === key && cache.stock === result.value && cache.index) {
    run.stock = cache.index;
    run.stockDay = day;
    return;
  }
  const items: StockIndex['items'] = new Map();
  for (const item of result.value) {
    const s = deps.partitions.stores.get(item.storeId);
    const p = deps.partitions.products.get(item.productId);
    if (s === undefined || p === undefined || s >= layout.stores || p >= P) continue;
    items.set(s * P + p, { quantity: item.quantity, reorderLevel: item.reorderLevel });
  }
  const coverUnits = new Float64Array(layout.stores * P);
  const coverRevenue = new Float64Array(layout.stores * P);
  for (let d = day - COVER_WINDOW_DAYS + 1; d <= day; d++) {
    const view = run.views.get(d)!;
    const { cellStore, cellProduct, data } = view;
    for (let c = 0; c < cellStore.length; c++) {
      const s = cellStore[c]!;
      const p = cellProduct[c]!;
      if (s >= layout.stores || p >= P) continue;
      coverUnits[s * P + p]! += data.units[c]!;
      coverRevenue[s * P + p]! += data.revenue[c]! / MONEY_SCALE;
    }
  }
  run.stock = { items, coverUnits, coverRevenue, coverDays: COVER_WINDOW_DAYS };
  run.stockDay = day;
  Object.assign(cache, { key, stock: result.value, index: run.stock });
}
