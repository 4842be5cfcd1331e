/**
 * Stores and products of the system of record, through the cache (cache-aside, single-flight,
 * stale-if-error). Analytics, reports and imports read labels, regions and costs from here.
 */
import type { Cache, CacheResult } from '../clients/cache/cache-types.ts';
import type { UpstreamClient } from '../clients/upstream-client.ts';
import type { Config } from '../config.ts';
import type { ProductsQuery, StoresQuery } from '../models/catalog.ts';
import type { UpstreamProduct, UpstreamStore } from '../models/upstream.ts';

export const CATALOG_KEYS = {
  stores: 'catalog:stores:v1',
  products: 'catalog:products:v1',
} as const;

export interface CatalogServiceDeps {
  upstream: Pick<UpstreamClient, 'getStores' | 'getProducts'>;
  cache: Cache;
  config: Pick<Config, 'cache'>;
}

export interface Listed<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
  source: CacheResult<unknown>;
}

function includesFolded(values: string[] | undefined, value: string): boolean {
  if (!values || values.length === 0) return true;
  const v = value.toLowerCase();
  return values.some((x) => x.toLowerCase() === v);
}

function page<T>(
  matching: T[],
  query: { limit: number; offset: number },
  source: CacheResult<unknown>,
): Listed<T> {
  return {
    items: matching.slice(query.offset, query.offset + query.limit),
    total: matching.length,
    limit: query.limit,
    offset: query.offset,
    source,
  };
}

export function catalogServiceFactory({ upstream, cache, config }: CatalogServiceDeps) {
  const options = { ttlMs: config.cache.ttlMs, staleTtlMs: config.cache.staleTtlMs };

  const stores = () =>
    cache.getOrLoad<UpstreamStore[]>(CATALOG_KEYS.stores, () => upstream.getStores(), options);
  const products = () =>
    cache.getOrLoad<UpstreamProduct[]>(CATALOG_KEYS.products, () => upstream.getProducts(), options);

  return {
    stores,
    products,

    async listStores(query: StoresQuery): Promise<Listed<UpstreamStore>> {
      const source = await stores();
      const matching = source.value.filter(
        (s) => includesFolded(query.region, s.region) && includesFolded(query.city, s.city),
      );
      return page(matching, query, source);
    },

    async listProducts(query: ProductsQuery): Promise<Listed<UpstreamProduct>> {
      const source = await products();
      const q = query.q?.toLowerCase();
      const matching = source.value.filter(
        (p) =>
          includesFolded(query.category, p.category) &&
          includesFolded(query.brand, p.brand) &&
          (!q || p.name.toLowerCase().includes(q) || p.sku.toLowerCase().includes(q)),
      );
      return page(matching, query, source);
    },

    /** After an import: the next read goes to the system of record. */
    async invalidate(): Promise<void> {
      await Promise.all([cache.delete(CATALOG_KEYS.stores), cache.delete(CATALOG_KEYS.products)]);
    },
  };
}

export type CatalogService = ReturnType<typeof catalogServiceFactory>;
