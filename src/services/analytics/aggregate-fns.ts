/**
 * The aggregation engine: groups day partitions by up to two dimensions over typed arrays.
 * Pure functions; the sales analytics service decides which days, with which time buckets.
 *
 * Speed comes from three things: ids are dense integers (a group slot is an array index, not a Map
 * lookup), per-day rollups by store and by product are computed once per decoded partition, and
 * distinct orders are counted from the cheapest exact source (cells, per-store counts, or baskets).
 */
import { DIMENSIONS } from '../../models/analytics.ts';
import type { PartitionData } from './partition.ts';

export { DIMENSIONS };
export type Dim = (typeof DIMENSIONS)[number];
export const TIME_DIMS: readonly Dim[] = ['day', 'week', 'month'];
const STORE_DIMS: readonly Dim[] = ['store', 'region'];
const PRODUCT_DIMS: readonly Dim[] = ['product', 'category', 'brand'];

/** Process-local dictionaries: store and product ids → dense integers, growing as ids appear. */
export class IdDictionary {
  readonly ids: string[] = [];
  private readonly index = new Map<string, number>();
  intern(id: string): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.index.set(id, i);
      this.ids.push(id);
    }
    return i;
  }
  get(id: string): number | undefined {
    return this.index.get(id);
  }
  get size(): number {
    return this.ids.length;
  }
}

/** Catalog attributes per global id, for the dictionaries' current size. */
export interface Attributes {
  /** changes with the catalog (costs, categories...) */
  version: string;
  regionOfStore: Int32Array;
  categoryOfProduct: Int32Array;
  brandOfProduct: Int32Array;
  /** product cost, scaled; 0 when unknown */
  costOfProduct: Float64Array;
  regions: string[];
  categories: string[];
  brands: string[];
  storeCount: number;
  productCount: number;
}

/** One day's figures summed per store or per product (money scaled), for the common queries. */
interface Rollup {
  attributesVersion: string;
  /** the store or product index of each entry */
  id: Int32Array;
  revenue: Float64Array;
  units: Float64Array;
  lines: Float64Array;
  cost: Float64Array;
  orders: Float64Array;
}

/** A decoded partition with its ids mapped to the process dictionaries, and lazy rollups. */
export interface DayView {
  data: PartitionData;
  cellStore: Int32Array;
  cellProduct: Int32Array;
  /** distinct orders per store that day (an order normally belongs to one store) */
  storeOrders: Map<number, number>;
  storeRollup?: Rollup;
  productRollup?: Rollup;
}

export function createDayView(data: PartitionData, stores: IdDictionary, products: IdDictionary): DayView {
  const storeMap = data.storeIds.map((id) => stores.intern(id));
  const productMap = data.productIds.map((id) => products.intern(id));
  const n = data.cellStore.length;
  const cellStore = new Int32Array(n);
  const cellProduct = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    cellStore[c] = storeMap[data.cellStore[c]!]!;
    cellProduct[c] = productMap[data.cellProduct[c]!]!;
  }
  const storeOrders = new Map<number, number>();
  const { basketStart, basketCell } = data;
  const orderCount = basketStart.length - 1;
  for (let o = 0; o < orderCount; o++) {
    const from = basketStart[o]!;
    const to = basketStart[o + 1]!;
    const first = cellStore[basketCell[from]!]!;
    storeOrders.set(first, (storeOrders.get(first) ?? 0) + 1);
    // An order spanning stores (rare, but possible upstream) counts once in each of its stores.
    for (let k = from + 1; k < to; k++) {
      const s = cellStore[basketCell[k]!]!;
      let seen = s === first;
      for (let j = from + 1; j < k && !seen; j++) seen = cellStore[basketCell[j]!]! === s;
      if (!seen) storeOrders.set(s, (storeOrders.get(s) ?? 0) + 1);
    }
  }
  return { data, cellStore, cellProduct, storeOrders };
}

function cellCost(view: DayView, c: number, attrs: Attributes): number {
  const d = view.data;
  const noCost = d.unitsNoCost[c]!;
  return noCost === 0
    ? d.costKnown[c]!
    : d.costKnown[c]! + Math.round(noCost * attrs.costOfProduct[view.cellProduct[c]!]!);
}

function rollup(view: DayView, attrs: Attributes, by: 'store' | 'product'): Rollup {
  const held = by === 'store' ? view.storeRollup : view.productRollup;
  if (held?.attributesVersion === attrs.version) return held;
  const keyOf = by === 'store' ? view.cellStore : view.cellProduct;
  const slot = new Map<number, number>();
  const acc: number[][] = [[], [], [], [], []];
  const ids: number[] = [];
  const d = view.data;
  for (let c = 0; c < keyOf.length; c++) {
    const k = keyOf[c]!;
    let i = slot.get(k);
    if (i === undefined) {
      i = ids.length;
      slot.set(k, i);
      ids.push(k);
      for (const a of acc) a.push(0);
    }
    acc[0]![i]! += d.revenue[c]!;
    acc[1]![i]! += d.units[c]!;
    acc[2]![i]! += d.lines[c]!;
    acc[3]![i]! += cellCost(view, c, attrs);
    // Orders belong to one store, so orders containing p = Σ over stores of the cell counts.
    if (by === 'product') acc[4]![i]! += d.orders[c]!;
  }
  if (by === 'store') {
    for (const [s, count] of view.storeOrders) {
      const i = slot.get(s);
      if (i !== undefined) acc[4]![i] = count;
    }
  }
  const [revenue, units, lines, cost, orders] = acc.map((a) => Float64Array.from(a)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const result: Rollup = {
    attributesVersion: attrs.version,
    id: Int32Array.from(ids),
    revenue,
    units,
    lines,
    cost,
    orders,
  };
  if (by === 'store') view.storeRollup = result;
  else view.productRollup = result;
  return result;
}

export interface AggregateSpec {
  dims: Dim[];
  /** 1 = included; null = all stores */
  storeMask: Uint8Array | null;
  /** 1 = included; null = all products */
  productMask: Uint8Array | null;
}

export interface DayInput {
  view: DayView;
  /** bucket index of this day for each time dimension in the spec (e.g. { day: 3, week: 0 }) */
  buckets: Partial<Record<Dim, number>>;
}

/** Sums per group; money scaled. `keys[g]` holds the group's dimension values (indexes). */
export interface Groups {
  dims: Dim[];
  keys: number[][];
  revenue: number[];
  units: number[];
  lines: number[];
  cost: number[];
  orders: number[];
  slotOf(key: number[]): number | undefined;
}

function cardinality(dim: Dim, attrs: Attributes, timeCardinality: Partial<Record<Dim, number>>): number {
  switch (dim) {
    case 'store':
      return attrs.storeCount;
    case 'product':
      return attrs.productCount;
    case 'region':
      return attrs.regions.length;
    case 'category':
      return attrs.categories.length;
    case 'brand':
      return attrs.brands.length;
    default:
      return Math.max(1, timeCardinality[dim] ?? 1);
  }
}

const DENSE_LIMIT = 1 << 22;

export function aggregate(
  days: DayInput[],
  spec: AggregateSpec,
  attrs: Attributes,
  timeCardinality: Partial<Record<Dim, number>>,
): Groups {
  const { dims, storeMask, productMask } = spec;
  const [d1, d2] = dims;
  const card1 = d1 ? cardinality(d1, attrs, timeCardinality) : 1;
  const card2 = d2 ? cardinality(d2, attrs, timeCardinality) : 1;
  const space = card1 * card2;
  const dense = space <= DENSE_LIMIT ? new Int32Array(space).fill(-1) : null;
  const sparse = dense ? null : new Map<number, number>();

  const groups: Groups = {
    dims,
    keys: [],
    revenue: [],
    units: [],
    lines: [],
    cost: [],
    orders: [],
    slotOf(key) {
      const composite = (key[0] ?? 0) * card2 + (key[1] ?? 0);
      const slot = dense ? dense[composite] : sparse?.get(composite);
      return slot === undefined || slot < 0 ? undefined : slot;
    },
  };
  const slot = (k1: number, k2: number): number => {
    const composite = k1 * card2 + k2;
    let g = dense ? dense[composite]! : (sparse!.get(composite) ?? -1);
    if (g < 0) {
      g = groups.keys.length;
      if (dense) dense[composite] = g;
      else sparse!.set(composite, g);
      groups.keys.push(d2 ? [k1, k2] : d1 ? [k1] : []);
      groups.revenue.push(0);
      groups.units.push(0);
      groups.lines.push(0);
      groups.cost.push(0);
      groups.orders.push(0);
    }
    return g;
  };

  // How each dimension's value is found: from the store, from the product, or constant for the day.
  type Source = { from: 'store' | 'product' | 'time'; map: Int32Array | null; dim: Dim };
  const sourceOf = (dim: Dim): Source => {
    if (dim === 'store') return { from: 'store', map: null, dim };
    if (dim === 'region') return { from: 'store', map: attrs.regionOfStore, dim };
    if (dim === 'product') return { from: 'product', map: null, dim };
    if (dim === 'category') return { from: 'product', map: attrs.categoryOfProduct, dim };
    if (dim === 'brand') return { from: 'product', map: attrs.brandOfProduct, dim };
    return { from: 'time', map: null, dim };
  };
  const s1 = d1 ? sourceOf(d1) : null;
  const s2 = d2 ? sourceOf(d2) : null;
  const keyOf = (src: Source | null, s: number, p: number, day: DayInput): number => {
    if (!src) return 0;
    if (src.from === 'store') return src.map ? src.map[s]! : s;
    if (src.from === 'product') return src.map ? src.map[p]! : p;
    return day.buckets[src.dim] ?? 0;
  };

  const storeLevelOnly = dims.every((d) => STORE_DIMS.includes(d) || TIME_DIMS.includes(d)) && !productMask;
  const productLevelOnly = dims.every((d) => PRODUCT_DIMS.includes(d) || TIME_DIMS.includes(d)) && !storeMask;
  const hasProductDim = dims.includes('product');
  const needsBaskets = !hasProductDim && !storeLevelOnly;

  for (const day of days) {
    const view = day.view;
    if (storeLevelOnly) {
      // Metrics and (exact) orders from the per-store rollup of the day.
      const r = rollup(view, attrs, 'store');
      for (let i = 0; i < r.id.length; i++) {
        const s = r.id[i]!;
        if (storeMask && !storeMask[s]) continue;
        const g = slot(keyOf(s1, s, 0, day), keyOf(s2, s, 0, day));
        groups.revenue[g]! += r.revenue[i]!;
        groups.units[g]! += r.units[i]!;
        groups.lines[g]! += r.lines[i]!;
        groups.cost[g]! += r.cost[i]!;
        groups.orders[g]! += r.orders[i]!;
      }
      continue;
    }
    if (productLevelOnly) {
      const r = rollup(view, attrs, 'product');
      for (let i = 0; i < r.id.length; i++) {
        const p = r.id[i]!;
        if (productMask && !productMask[p]) continue;
        const g = slot(keyOf(s1, 0, p, day), keyOf(s2, 0, p, day));
        groups.revenue[g]! += r.revenue[i]!;
        groups.units[g]! += r.units[i]!;
        groups.lines[g]! += r.lines[i]!;
        groups.cost[g]! += r.cost[i]!;
        if (hasProductDim) groups.orders[g]! += r.orders[i]!;
      }
    } else {
      const d = view.data;
      const n = view.cellStore.length;
      for (let c = 0; c < n; c++) {
        const s = view.cellStore[c]!;
        if (storeMask && !storeMask[s]) continue;
        const p = view.cellProduct[c]!;
        if (productMask && !productMask[p]) continue;
        const g = slot(keyOf(s1, s, p, day), keyOf(s2, s, p, day));
        groups.revenue[g]! += d.revenue[c]!;
        groups.units[g]! += d.units[c]!;
        groups.lines[g]! += d.lines[c]!;
        groups.cost[g]! += cellCost(view, c, attrs);
        if (hasProductDim) groups.orders[g]! += d.orders[c]!;
      }
    }
    if (needsBaskets) countBasketOrders(day, groups, slot, s1, s2, keyOf, storeMask, productMask);
  }
  return groups;
}

/** Distinct orders per group from the day's baskets: an order counts once per group it touches. */
function countBasketOrders<S>(
  day: DayInput,
  groups: Groups,
  slot: (k1: number, k2: number) => number,
  s1: S,
  s2: S,
  keyOf: (src: S, s: number, p: number, day: DayInput) => number,
  storeMask: Uint8Array | null,
  productMask: Uint8Array | null,
): void {
  const view = day.view;
  const { basketStart, basketCell } = view.data;
  const orderCount = basketStart.length - 1;
  const touched: number[] = [];
  for (let o = 0; o < orderCount; o++) {
    touched.length = 0;
    for (let k = basketStart[o]!; k < basketStart[o + 1]!; k++) {
      const c = basketCell[k]!;
      const s = view.cellStore[c]!;
      if (storeMask && !storeMask[s]) continue;
      const p = view.cellProduct[c]!;
      if (productMask && !productMask[p]) continue;
      const g = slot(keyOf(s1, s, p, day), keyOf(s2, s, p, day));
      if (!touched.includes(g)) {
        touched.push(g);
        groups.orders[g]!++;
      }
    }
  }
}
