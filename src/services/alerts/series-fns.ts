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
 * Scatters one day into dense arrays. Orders are only counted when `withOrders` (category and brand
 * orders need a pass over the day's baskets: an order counts once per category it touches).
 */
export function buildDenseDay(view: DayView, layout: Layout, withOrders: boolean): DenseDay {
  const { stores: S, products: P } = layout;
  const mk = (n: number): MetricArrays => ({
    revenue: new Float64Array(n),
    units: new Float64Array(n),
    orders: withOrders ? new Float64Array(n) : EMPTY,
  });
  const series: Record<SeriesKey, MetricArrays> = {
    store: mk(S),
    region: mk(layout.regions),
    category: mk(layout.categories),
    brand: mk(layout.brands),
    product: mk(P),
    storeProduct: mk(S * P),
  };
  const storeOpen = new Uint8Array(S);
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
  rollUp(series, layout, storeOpen);
  if (withOrders) countOrders(view, layout, series);
  return { day: d.day, closed: d.lineCount === 0, storeOpen, series };
}

/** Store, region, product, category and brand sums from the (store, product) arrays. */
function rollUp(series: Record<SeriesKey, MetricArrays>, layout: Layout, storeOpen: Uint8Array): void {
  const { stores: S, products: P, regionOfStore, categoryOfProduct, brandOfProduct } = layout;
  const sp = series.storeProduct;
  for (const m of ['revenue', 'units'] as const) {
    const src = sp[m];
    const st = series.store[m];
    const pr = series.product[m];
    for (let s = 0; s < S; s++) {
      if (!storeOpen[s]) continue;
      let sum = 0;
      const base = s * P;
      for (let p = 0; p < P; p++) {
        const v = src[base + p]!;
        if (v !== 0) {
          sum += v;
          pr[p]! += v;
        }
      }
      st[s] = sum;
      series.region[m][regionOfStore[s]!]! += sum;
    }
    for (let p = 0; p < P; p++) {
      const v = pr[p]!;
      if (v === 0) continue;
      series.category[m][categoryOfProduct[p]!]! += v;
      series.brand[m][brandOfProduct[p]!]! += v;
    }
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
  const sp = series.storeProduct.orders;
  for (let s = 0; s < S; s++)
    for (let p = 0; p < P; p++) {
      const v = sp[s * P + p]!;
      if (v !== 0) series.product.orders[p]! += v;
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
