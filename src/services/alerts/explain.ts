/**
 * The children of an alerting entity, with their actual and expected values over the same baseline
 * days: categories and products of a store, stores of a region, products of a category or brand,
 * stores of a product. Only computed for the few entities that alert.
 */
import type { Contributor, Direction, SalesMetric } from '../../models/alerts.ts';
import type { DayContext } from './day-context.ts';
import { isPriceCut, medianInPlace } from './detection-fns.ts';
import { type Child, topContributors } from './explain-fns.ts';
import type { DenseDay, SeriesKey } from './series-fns.ts';

const scratch = new Float64Array(64);

function medianOf(days: readonly DenseDay[], pick: (d: DenseDay) => number): number {
  const n = Math.min(days.length, scratch.length);
  for (let i = 0; i < n; i++) scratch[i] = pick(days[i]!);
  return n === 0 ? 0 : medianInPlace(scratch, n);
}

/** Unit price on the day against its median over the baseline days (days with sales only). */
export function priceCut(key: SeriesKey, e: number, today: DenseDay, days: readonly DenseDay[]): boolean {
  const rev = today.series[key].revenue;
  const units = today.series[key].units;
  if (!(units[e]! > 0)) return false;
  let n = 0;
  for (const d of days) {
    const u = d.series[key].units[e]!;
    if (u > 0 && n < scratch.length) scratch[n++] = d.series[key].revenue[e]! / u;
  }
  if (n === 0) return false;
  return isPriceCut(rev[e]! / units[e]!, medianInPlace(scratch, n));
}

function seriesChild(
  kind: Child['kind'],
  key: SeriesKey,
  e: number,
  metric: SalesMetric,
  id: string,
  name: string,
  today: DenseDay,
  days: readonly DenseDay[],
): Child | undefined {
  const actual = today.series[key][metric][e]!;
  const expected = medianOf(days, (d) => d.series[key][metric][e]!);
  if (actual === 0 && expected === 0) return undefined;
  const child: Child = { kind, id, name, actual, expected };
  if (kind === 'product' && actual > expected && priceCut(key, e, today, days)) child.promotion = true;
  return child;
}

/** Contributors to an entity's gap, named children first by the size of their gap. */
export function explain(
  ctx: DayContext,
  key: SeriesKey,
  e: number,
  metric: SalesMetric,
  direction: Direction,
  gap: number,
  today: DenseDay,
  days: readonly DenseDay[],
  round: (v: number) => number,
): Contributor[] {
  const { layout, labels } = ctx;
  const { stores: S, products: P } = layout;
  const children: Child[] = [];
  const push = (c: Child | undefined) => {
    if (c) children.push(c);
  };
  switch (key) {
    case 'store': {
      // Categories of the store first (where to look), then its products (what to look at).
      const cats: Child[] = [];
      const C = layout.categories;
      const sums = (d: DenseDay) => {
        const out = new Float64Array(C);
        const src = d.series.storeProduct[metric];
        for (let p = 0; p < P; p++) out[layout.categoryOfProduct[p]!]! += src[e * P + p]!;
        return out;
      };
      const now = sums(today);
      const base = days.map(sums);
      for (let c = 0; c < C; c++) {
        const expected = medianOfArrays(base, c);
        if (now[c] === 0 && expected === 0) continue;
        cats.push({
          kind: 'category',
          id: labels.categories[c]!,
          name: labels.categories[c]!,
          actual: now[c]!,
          expected,
        });
      }
      for (let p = 0; p < P; p++)
        if (
          today.series.storeProduct[metric][e * P + p] !== 0 ||
          days.some((d) => d.series.storeProduct[metric][e * P + p] !== 0)
        )
          push(
            seriesChild(
              'product',
              'storeProduct',
              e * P + p,
              metric,
              labels.productId(p),
              labels.productName(p),
              today,
              days,
            ),
          );
      return [
        ...topContributors(cats, gap, direction, round),
        ...topContributors(children, gap, direction, round),
      ];
    }
    case 'region': {
      const stores: Child[] = [];
      for (let s = 0; s < S; s++)
        if (layout.regionOfStore[s] === e) {
          const c = seriesChild(
            'store',
            'store',
            s,
            metric,
            labels.storeId(s),
            labels.storeName(s),
            today,
            days,
          );
          if (c) stores.push(c);
        }
      // The region's products too: a promoted best seller lifts every store at once.
      const inRegion = (d: DenseDay, m: SalesMetric, p: number) => {
        let sum = 0;
        for (let s = 0; s < S; s++)
          if (layout.regionOfStore[s] === e) sum += d.series.storeProduct[m][s * P + p]!;
        return sum;
      };
      for (let p = 0; p < P; p++) {
        const actual = inRegion(today, metric, p);
        const expected = medianOf(days, (d) => inRegion(d, metric, p));
        if (actual === 0 && expected === 0) continue;
        const child: Child = {
          kind: 'product',
          id: labels.productId(p),
          name: labels.productName(p),
          actual,
          expected,
        };
        if (actual > expected && priceCut('product', p, today, days)) child.promotion = true;
        children.push(child);
      }
      return [
        ...topContributors(stores, gap, direction, round),
        ...topContributors(children, gap, direction, round),
      ];
    }
    case 'category':
    case 'brand': {
      const of = key === 'category' ? layout.categoryOfProduct : layout.brandOfProduct;
      for (let p = 0; p < P; p++)
        if (of[p] === e)
          push(
            seriesChild(
              'product',
              'product',
              p,
              metric,
              labels.productId(p),
              labels.productName(p),
              today,
              days,
            ),
          );
      break;
    }
    case 'product':
      for (let s = 0; s < S; s++)
        push(
          seriesChild(
            'store',
            'storeProduct',
            s * P + e,
            metric,
            labels.storeId(s),
            labels.storeName(s),
            today,
            days,
          ),
        );
      break;
    case 'storeProduct':
      return [];
  }
  return topContributors(children, gap, direction, round);
}

function medianOfArrays(arrays: readonly Float64Array[], i: number): number {
  const n = Math.min(arrays.length, scratch.length);
  for (let k = 0; k < n; k++) scratch[k] = arrays[k]![i]!;
  return n === 0 ? 0 : medianInPlace(scratch, n);
}
