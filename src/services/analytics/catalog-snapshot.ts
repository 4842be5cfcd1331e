/**
 * The catalog as analytics needs it: labels, regions, categories, brands, employees, prices and
 * costs indexed by the process dictionaries. Read through the cached catalog service at most every
 * few seconds (a Redis round trip and a parse per request would cost more than the query).
 * Ids that sales mention but the catalog does not know are counted under `unknown`, never dropped.
 */
import { createHash } from 'node:crypto';
import type { UpstreamProduct, UpstreamStore } from '../../models/upstream.ts';
import type { CatalogService } from '../catalog-service.ts';
import type { Attributes, IdDictionary } from './aggregate-fns.ts';
import { toScaled } from './kpi-fns.ts';

export const UNKNOWN = 'unknown';
const SNAPSHOT_MS = 5_000;

export interface CatalogSnapshot {
  version: string;
  stores: readonly UpstreamStore[];
  products: readonly UpstreamProduct[];
  storeById: Map<string, UpstreamStore>;
  productById: Map<string, UpstreamProduct>;
  /** epoch ms of the catalog data (from the cache) */
  fetchedAt: number;
  stale: boolean;
}

export interface FullAttributes extends Attributes {
  snapshot: CatalogSnapshot;
  storeName: (i: number) => string;
  productName: (i: number) => string;
  employeesOfStore: Int32Array;
}

export function catalogSnapshotFactory(deps: {
  catalog: Pick<CatalogService, 'stores' | 'products'>;
  stores: IdDictionary;
  products: IdDictionary;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  let snapshot: CatalogSnapshot | undefined;
  let readAt = 0;
  let pending: Promise<CatalogSnapshot> | undefined;
  let attrs: FullAttributes | undefined;

  async function read(): Promise<CatalogSnapshot> {
    const [s, p] = await Promise.all([deps.catalog.stores(), deps.catalog.products()]);
    if (snapshot && snapshot.stores === s.value && snapshot.products === p.value) {
      readAt = now();
      return snapshot;
    }
    const version = createHash('sha1')
      .update(JSON.stringify(s.value))
      .update(JSON.stringify(p.value))
      .digest('base64url')
      .slice(0, 16);
    const next: CatalogSnapshot =
      snapshot?.version === version
        ? { ...snapshot, stores: s.value, products: p.value }
        : {
            version,
            stores: s.value,
            products: p.value,
            storeById: new Map(s.value.map((x) => [x.id, x])),
            productById: new Map(p.value.map((x) => [x.id, x])),
            fetchedAt: now() - Math.max(s.ageMs, p.ageMs),
            stale: s.status === 'stale' || p.status === 'stale',
          };
    snapshot = next;
    readAt = now();
    return next;
  }

  async function current(): Promise<CatalogSnapshot> {
    if (snapshot && now() - readAt < SNAPSHOT_MS) return snapshot;
    pending ??= read().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  function buildAttributes(snap: CatalogSnapshot): FullAttributes {
    const { stores, products } = deps;
    // Every catalog entry gets an index, so filters and labels work before any sale mentions it.
    for (const s of snap.stores) stores.intern(s.id);
    for (const p of snap.products) products.intern(p.id);
    const index = (list: string[]) => {
      const map = new Map<string, number>();
      return {
        list,
        of(name: string) {
          let i = map.get(name);
          if (i === undefined) {
            i = list.length;
            map.set(name, i);
            list.push(name);
          }
          return i;
        },
      };
    };
    const regions = index([]);
    const categories = index([]);
    const brands = index([]);
    const storeCount = stores.size;
    const productCount = products.size;
    const regionOfStore = new Int32Array(storeCount);
    const employeesOfStore = new Int32Array(storeCount);
    for (let i = 0; i < storeCount; i++) {
      const s = snap.storeById.get(stores.ids[i]!);
      regionOfStore[i] = regions.of(s?.region ?? UNKNOWN);
      employeesOfStore[i] = s?.employees ?? 0;
    }
    const categoryOfProduct = new Int32Array(productCount);
    const brandOfProduct = new Int32Array(productCount);
    const costOfProduct = new Float64Array(productCount);
    for (let i = 0; i < productCount; i++) {
      const p = snap.productById.get(products.ids[i]!);
      categoryOfProduct[i] = categories.of(p?.category ?? UNKNOWN);
      brandOfProduct[i] = brands.of(p?.brand ?? UNKNOWN);
      costOfProduct[i] = p?.cost ? toScaled(p.cost) : 0;
    }
    return {
      version: `${snap.version}:${storeCount}:${productCount}`,
      snapshot: snap,
      regionOfStore,
      categoryOfProduct,
      brandOfProduct,
      costOfProduct,
      employeesOfStore,
      regions: regions.list,
      categories: categories.list,
      brands: brands.list,
      storeCount,
      productCount,
      storeName: (i) => snap.storeById.get(stores.ids[i]!)?.name ?? UNKNOWN,
      productName: (i) => snap.productById.get(products.ids[i]!)?.name ?? UNKNOWN,
    };
  }

  return {
    current,
    /**
     * The attributes last built, when still current (the snapshot read within SNAPSHOT_MS, the
     * dictionaries not grown since), without waiting: a cached answer's check that nothing changed.
     */
    attributesIfCurrent(): FullAttributes | undefined {
      if (!attrs || !snapshot || now() - readAt >= SNAPSHOT_MS) return undefined;
      const { stores, products } = deps;
      return attrs.snapshot.version === snapshot.version &&
        attrs.storeCount === stores.size &&
        attrs.productCount === products.size
        ? attrs
        : undefined;
    },
    /** Attributes for the dictionaries as they are now (call after the days of a query are loaded). */
    async attributes(): Promise<FullAttributes> {
      const snap = await current();
      const { stores, products } = deps;
      if (
        !attrs ||
        attrs.snapshot.version !== snap.version ||
        attrs.storeCount !== stores.size ||
        attrs.productCount !== products.size
      ) {
        attrs = buildAttributes(snap);
        // Interning the catalog may have grown the dictionaries: size the arrays again.
        if (attrs.storeCount !== stores.size || attrs.productCount !== products.size)
          attrs = buildAttributes(snap);
      }
      return attrs;
    },
  };
}

export type CatalogSnapshotService = ReturnType<typeof catalogSnapshotFactory>;
