/**
 * What detecting one day needs: the dense days (the checked day and its baseline days), the
 * holidays, labels for entities, and the current stock when the checked day is the latest one.
 */

import type { HolidayLookup } from '../../lib/holidays.ts';
import type { AlertEntity, AlertRule, SkipCounts } from '../../models/alerts.ts';
import { minHistory } from './detection-fns.ts';
import { type DenseDay, entityCount, type Layout, type SeriesKey, seriesKeyOf } from './series-fns.ts';

export interface Labels {
  storeId(s: number): string;
  storeName(s: number): string;
  productId(p: number): string;
  productName(p: number): string;
  regions: readonly string[];
  categories: readonly string[];
  brands: readonly string[];
}

export interface StockIndex {
  /** (store, product) index → quantity and reorder level; absent = the book does not list it */
  items: Map<number, { quantity: number; reorderLevel: number }>;
  /** units and revenue per (store, product) over the cover window ending on the checked day */
  coverUnits: Float64Array;
  coverRevenue: Float64Array;
  coverDays: number;
}

export interface DayContext {
  day: number;
  dense(day: number): DenseDay | undefined;
  holiday: HolidayLookup;
  layout: Layout;
  labels: Labels;
  /** only when the checked day is the latest closed one: the system of record keeps no stock history */
  stock: StockIndex | undefined;
  format(day: number): string;
}

export function emptySkips(): SkipCounts {
  return { belowMinVolume: 0, tooLittleHistory: 0, closed: 0, promotion: 0, stockUnknown: 0 };
}

export function addSkips(into: SkipCounts, from: SkipCounts): void {
  for (const k of Object.keys(into) as (keyof SkipCounts)[]) into[k] += from[k];
}

/** A rule with its series key and the entity filter resolved against the layout. */
export interface PreparedRule {
  rule: AlertRule;
  key: SeriesKey;
  /** 1 = checked; null = every entity */
  mask: Uint8Array | null;
  minHistory: number;
}

export function prepareRule(rule: AlertRule, layout: Layout, labels: Labels): PreparedRule {
  const key = seriesKeyOf(rule.level, rule.perStore);
  const f = rule.filters;
  const set = (v: string[] | undefined) => (v ? new Set(v) : null);
  const storeIds = set(f.storeId);
  const regions = set(f.region);
  const categories = set(f.category);
  const brands = set(f.brand);
  const productIds = set(f.productId);
  const storeOk = (s: number) =>
    (!storeIds || storeIds.has(labels.storeId(s))) &&
    (!regions || regions.has(labels.regions[layout.regionOfStore[s]!]!));
  const productOk = (p: number) =>
    (!productIds || productIds.has(labels.productId(p))) &&
    (!categories || categories.has(labels.categories[layout.categoryOfProduct[p]!]!)) &&
    (!brands || brands.has(labels.brands[layout.brandOfProduct[p]!]!));
  const any = storeIds || regions || categories || brands || productIds;
  let mask: Uint8Array | null = null;
  if (any) {
    const n = entityCount(layout, key);
    mask = new Uint8Array(n);
    const P = layout.products;
    for (let e = 0; e < n; e++) {
      let ok: boolean;
      switch (key) {
        case 'store':
          ok = storeOk(e);
          break;
        case 'region':
          ok = !regions || regions.has(labels.regions[e]!);
          break;
        case 'category':
          ok = !categories || categories.has(labels.categories[e]!);
          break;
        case 'brand':
          ok = !brands || brands.has(labels.brands[e]!);
          break;
        case 'product':
          ok = productOk(e);
          break;
        case 'storeProduct':
          ok = storeOk(Math.floor(e / P)) && productOk(e % P);
          break;
      }
      mask[e] = ok ? 1 : 0;
    }
  }
  return { rule, key, mask, minHistory: minHistory(rule.thresholds.baselineWeeks) };
}

/** The store of an entity of a store-side series, else -1. */
export function storeOfEntity(key: SeriesKey, e: number, layout: Layout): number {
  if (key === 'store') return e;
  if (key === 'storeProduct') return Math.floor(e / layout.products);
  return -1;
}

export function entityOf(key: SeriesKey, e: number, layout: Layout, labels: Labels): AlertEntity {
  switch (key) {
    case 'store':
      return { level: 'store', id: labels.storeId(e), name: labels.storeName(e), storeId: labels.storeId(e) };
    case 'region':
      return { level: 'region', id: labels.regions[e]!, name: labels.regions[e]! };
    case 'category':
      return { level: 'category', id: labels.categories[e]!, name: labels.categories[e]! };
    case 'brand':
      return { level: 'brand', id: labels.brands[e]!, name: labels.brands[e]! };
    case 'product':
      return {
        level: 'product',
        id: labels.productId(e),
        name: labels.productName(e),
        productId: labels.productId(e),
      };
    case 'storeProduct': {
      const s = Math.floor(e / layout.products);
      const p = e % layout.products;
      return {
        level: 'product',
        id: `${labels.storeId(s)}/${labels.productId(p)}`,
        name: `${labels.productName(p)} at ${labels.storeName(s)}`,
        storeId: labels.storeId(s),
        productId: labels.productId(p),
      };
    }
  }
}
