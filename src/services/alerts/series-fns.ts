/**
 * Per-day, per-entity arrays for detection: one day partition scattered once into dense typed
 * arrays for every level (store, region, category, brand, product over all stores, product in a
 * store), so checking 100,000 series is a loop over arrays, and a backtest reuses each day's
 * arrays for every later day whose baseline needs it.
 */
import type { AlertLevel, SalesMetric } from '../../models/alerts.ts';
import type { DayView } from '../analytics/aggregate-fns.ts';
import { MONEY_SCALE } from '../analytics/kpi-fns.ts';

export type SeriesKey = 'store' | 'region' | 'category' | 'brand' | 'product' | 'storeProduct';

export function seriesKeyOf(level: AlertLevel, perStore: boolean): SeriesKey {
  return level === 'product' && perStore ? 'storeProduct' : level;
}

/** Entity counts and the attributes that roll cells up; sized to the dictionaries of the run. */
export interface Layout {
  stores: number;
  products: number;
  regions: number;
  categories: number;
  brands: number;
  regionOfStore: Int32Array;
  categoryOfProduct: Int32Array;
  brandOfProduct: Int32Array;
}

export function entityCount(layout: Layout, key: SeriesKey): number {
  switch (key) {
    case 'store':
      return layout.stores;
    case 'region':
      return layout.regions;
    case 'category':
      return layout.categories;
    case 'brand':
      return layout.brands;
    case 'product':
      return layout.products;
    case 'storeProduct':
      return layout.stores * layout.products;
  }
}

export type MetricArrays = Record<SalesMetric, Float64Array>;

export interface DenseDay {
  day: number;
  /** the whole business sold nothing: closed, not a drop */
  closed: boolean;
  /** 1 when the store sold anything that day; a store that sold nothing was closed */
  storeOpen: Uint8Array;
  /** revenue in currency units (exact to 1/10,000), units, distinct orders (when asked) */
  series: Record<SeriesKey, MetricArrays>;
}

const EMPTY = new Float64Array(0);

/**
 * Recycles the arrays of dense days: a backtest drops a day from its ring every step and a daily
 * check runs every day, and allocating ~2.4 MB of fresh typed arrays per day of 100,000 series
 * costs more in garbage collection than filling them. Arrays are reused only for the same sizes.
 */
export function createDenseDayPool(max = 32) {
  const free: DenseDay[] = [];
  let shape = '';
  return {
    acquire(layout: Layout, withOrders: boolean): DenseDay | undefined {
      const key = `${layout.stores}:${layout.products}:${layout.regions}:${layout.categories}:${layout.brands}:${withOrders}`;
      if (key !== shape) {
        free.length = 0;
        shape = key;
        return undefined;
      }
      const d = free.pop();
      if (!d) return undefined;
      d.storeOpen.fill(0);
      for (const m of Object.values(d.series)) {
        m.revenue.fill(0);
        m.units.fill(0);
        m.orders.fill(0);
      }
      return d;
    },
    release(d: DenseDay): void {
      if (free.length < max) free.push(d);
    },
  };
}
export type DenseDayPool = ReturnType<typeof createDenseDayPool>;

/**
 * Scatters one day into dense arrays. Orders are only counted when `withOrders` (category and brand
 * orders need a pass over the day's baskets: an order counts once per category it touches).
 */
export function buildDenseDay(
  view: DayView,
  layout: Layout,
  withOrders: boolean,
  pool?: DenseDayPool,
): DenseDay {
  const { stores: S, products: P } = layout;
  const mk = (n: number): MetricArrays => ({
    revenue: new Float64Array(n),
    units: new Float64Array(n),
    orders: withOrders ? new Float64Array(n) : EMPTY,
  });
  const reused = pool?.acquire(layout, withOrders);
  const series: Record<SeriesKey, MetricArrays> = reused?.series ?? {
    store: mk(S),
    region: mk(layout.regions),
    category: mk(layout.categories),
    brand: mk(layout.brands),
    product: mk(P),
    storeProduct: mk(S * P),
  };
  const storeOpen = reused?.storeOpen ?? new Uint8Array(S);
  const d = view.data;
  const { cellStore, cellProduct } = view;
  const sp = series.storeProduct;
  for (let c = 0; c < cellStore.length; c++) {
    const s = cellStore[c]!;
    const p = cellProduct[c]!;
    if (s >= S || p >= P) continue; // ids the layout was not sized for (cannot happen after load)
    const e = s * P + p;
    const revenue = d.revenue[c]! / MONEY_SCALE;
    sp.revenue[e]! += revenue;
    sp.units[e]! += d.units[c]!;
    if (withOrders) sp.orders[e]! += d.orders[c]!;
    storeOpen[s] = 1;
  }
  rollUp(view, series, layout, storeOpen);
  if (withOrders) countOrders(view, layout, series);
  const out = reused ?? ({ day: 0, closed: false, storeOpen, series } as DenseDay);
  out.day = d.day;
  out.closed = d.lineCount === 0;
  return out;
}

/** Store, region, product, category and brand sums, from the day's cells (sparse). */
function rollUp(
  view: DayView,
  series: Record<SeriesKey, MetricArrays>,
  layout: Layout,
  storeOpen: Uint8Array,
): void {
  const { stores: S, products: P, regionOfStore, categoryOfProduct, brandOfProduct } = layout;
  const d = view.data;
  const { cellStore, cellProduct } = view;
  const { store, region, product, category, brand } = series;
  for (let c = 0; c < cellStore.length; c++) {
    const s = cellStore[c]!;
    const p = cellProduct[c]!;
    if (s >= S || p >= P || !storeOpen[s]) continue;
    const revenue = d.revenue[c]! / MONEY_SCALE;
    const units = d.units[c]!;
    const r = regionOfStore[s]!;
    const cat = categoryOfProduct[p]!;
    const b = brandOfProduct[p]!;
    store.revenue[s]! += revenue;
    store.units[s]! += units;
    region.revenue[r]! += revenue;
    region.units[r]! += units;
    product.revenue[p]! += revenue;
    product.units[p]! += units;
    category.revenue[cat]! += revenue;
    category.units[cat]! += units;
    brand.revenue[b]! += revenue;
    brand.units[b]! += units;
  }
}

function countOrders(view: DayView, layout: Layout, series: Record<SeriesKey, MetricArrays>): void {
  const { stores: S, products: P } = layout;
  for (const [s, n] of view.storeOrders) {
    if (s >= S) continue;
    series.store.orders[s] = n;
    series.region.orders[layout.regionOfStore[s]!]! += n;
  }
  // Orders belong to one store: orders containing p = Σ over stores of the cell counts.
  for (let c = 0; c < view.cellStore.length; c++) {
    const p = view.cellProduct[c]!;
    if (view.cellStore[c]! < S && p < P) series.product.orders[p]! += view.data.orders[c]!;
  }
  const { basketStart, basketCell } = view.data;
  const catSeen = new Int32Array(layout.categories).fill(-1);
  const brandSeen = new Int32Array(layout.brands).fill(-1);
  for (let o = 0; o + 1 < basketStart.length; o++) {
    for (let k = basketStart[o]!; k < basketStart[o + 1]!; k++) {
      const p = view.cellProduct[basketCell[k]!]!;
      if (p >= P) continue;
      const cat = layout.categoryOfProduct[p]!;
      if (catSeen[cat] !== o) {
        catSeen[cat] = o;
        series.category.orders[cat]!++;
      }
      const brand = layout.brandOfProduct[p]!;
      if (brandSeen[brand] !== o) {
        brandSeen[brand] = o;
        series.brand.orders[brand]!++;
      }
    }
  }
}
