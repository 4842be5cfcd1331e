/**
 * What every sales answer reads, and how a repeated query finds it again cheaply: the store and
 * product masks of a filter, the day partitions with the catalog and their data version, whether
 * the figures are final, and the plan of a query (its window, the days it reads, its cache key).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { formatDay } from '../../lib/calendar.ts';
import type { SalesQuery } from '../../models/analytics.ts';
import { requestKey } from '../result-cache.ts';
import type { AggregateSpec } from './aggregate-fns.ts';
import type { CatalogSnapshotService, FullAttributes } from './catalog-snapshot.ts';
import type { HeldDay, HeldMark, PartitionStore } from './partition-store.ts';
import { comparisonFor, range, resolveWindow } from './sales-window-fns.ts';

export type SalesFilters = Partial<
  Pick<SalesQuery, 'storeId' | 'region' | 'category' | 'brand' | 'productId'>
>;

/** A query resolved against a day: its window, the days it reads, its cache key but the data version. */
export interface SalesPlan {
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

export function salesDataFactory({
  partitions,
  catalog,
  currency,
}: {
  partitions: PartitionStore;
  catalog: CatalogSnapshotService;
  currency: string;
}) {
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
          currency,
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

  return { masks, loadDays, freshness, planOf, loadPlanDays, knownVersion };
}
