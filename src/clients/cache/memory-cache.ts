/**
 * The embedded cache: an in-process LRU. Values are kept as the very objects given (no
 * serialisation), so callers must not mutate what they get.
 */
import { LRUCache } from 'lru-cache';
import { type CacheStore, createCacheAside } from './cache-aside.ts';
import type { Cache, CacheEntry, CacheLogger } from './cache-types.ts';

export interface MemoryCacheOptions {
  /** default 10 000 when neither bound is given */
  maxEntries?: number;
  /** approximate: binary values count their bytes, other values their JSON length */
  maxBytes?: number;
  logger?: CacheLogger;
  /** epoch ms; tests inject a fake clock */
  now?: () => number;
}

const ENTRY_OVERHEAD_BYTES = 64;

function estimateBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength + ENTRY_OVERHEAD_BYTES;
  if (typeof value === 'string') return value.length * 2 + ENTRY_OVERHEAD_BYTES;
  // Serialising once per store is cheap next to the upstream call that produced the value, and only
  // happens when a byte bound is configured.
  try {
    return (JSON.stringify(value)?.length ?? 0) + ENTRY_OVERHEAD_BYTES;
  } catch {
    return ENTRY_OVERHEAD_BYTES;
  }
}

export function createMemoryCache(options: MemoryCacheOptions = {}): Cache {
  const now = options.now ?? Date.now;
  const { maxBytes, maxEntries } = options;
  const base = {
    // The same clock as the freshness checks, so a fake clock in tests drives eviction too; and no
    // debouncing of it, which would otherwise lag behind a clock that jumps.
    perf: { now },
    ttlResolution: 0,
    allowStale: false,
    updateAgeOnGet: false,
  };
  const lru =
    maxBytes === undefined
      ? new LRUCache<string, CacheEntry<unknown>>({ ...base, max: maxEntries ?? 10_000 })
      : new LRUCache<string, CacheEntry<unknown>>({
          ...base,
          ...(maxEntries !== undefined && { max: maxEntries }),
          maxSize: maxBytes,
          sizeCalculation: (entry) => Math.max(1, estimateBytes(entry.value)),
        });

  const store: CacheStore = {
    kind: 'memory',
    async read(key) {
      return lru.get(key);
    },
    async write(key, entry) {
      const ttl = Math.ceil(entry.expiresAt - now());
      if (ttl <= 0) return;
      lru.set(key, entry, { ttl });
    },
    async remove(key) {
      lru.delete(key);
    },
    async removeByPrefix(prefix) {
      const doomed: string[] = [];
      for (const key of lru.keys()) if (key.startsWith(prefix)) doomed.push(key);
      let n = 0;
      for (const key of doomed) if (lru.delete(key)) n++;
      return n;
    },
    async ping() {},
    async close() {
      lru.clear();
    },
  };
  return createCacheAside(store, { logger: options.logger, now });
}
