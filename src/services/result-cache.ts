/**
 * Answers cached per (request, data version): the key changes whenever the data under the answer
 * does, so an entry never needs invalidating, only a TTL.
 */
import { createHash } from 'node:crypto';
import type { Cache } from '../clients/cache/cache-types.ts';

interface WithMeta {
  meta: { cached: boolean; computeMs: number };
}

/** JSON with object keys sorted: the same request written in any key order gives the same text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

export function resultKey(kind: string, request: unknown, dataVersion: string): string {
  const hash = createHash('sha1').update(stableJson(request)).digest('base64url').slice(0, 20);
  return `${kind}:${hash}:${dataVersion}`;
}

export function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** The cached answer marked `cached`, or undefined (a cache failure counts as a miss). */
export async function cachedAnswer<T extends WithMeta>(cache: Cache, key: string, started: number) {
  const hit = await cache.get<T>(key).catch(() => undefined);
  if (!hit) return undefined;
  return { ...hit.value, meta: { ...hit.value.meta, cached: true, computeMs: elapsedMs(started) } } as T;
}
