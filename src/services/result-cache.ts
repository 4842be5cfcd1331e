/**
 * Answers cached per (request, data version): the key changes whenever the data under the answer
 * does, so an entry never needs invalidating, only a TTL.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
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

/** The part of a result key that names the request: `kind:hash`. */
export function requestKey(kind: string, request: unknown): string {
  const hash = createHash('sha1').update(stableJson(request)).digest('base64url').slice(0, 20);
  return `${kind}:${hash}`;
}

export function resultKey(kind: string, request: unknown, dataVersion: string): string {
  return `${requestKey(kind, request)}:${dataVersion}`;
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

/** An answer as it is sent: its JSON bytes, and what its headers say about it. */
export interface ServedAnswer {
  body: Buffer;
  cached: boolean;
  stale: boolean;
}

const META_MEMBER = ',"meta":';

/**
 * An answer as its response schema writes it (checked against the schema, members in the schema's
 * order, then JSON): done once, when the answer is computed, so that a cached answer is served as
 * stored bytes, without being parsed, checked and stringified again on every hit. `meta` must be
 * the answer's last member: a hit rewrites only it (see `restamp`).
 */
export function serializeAnswer<T extends WithMeta>(schema: z.ZodType<T>, answer: T): Buffer {
  const parsed = schema.safeParse(answer);
  if (!parsed.success) {
    throw new Error('the answer does not match its response schema', { cause: parsed.error });
  }
  const keys = Object.keys(parsed.data);
  if (keys[keys.length - 1] !== 'meta') throw new Error('meta must be the last member of an answer');
  return Buffer.from(JSON.stringify(parsed.data), 'utf8');
}

/**
 * A stored answer (from `serializeAnswer`) served again: the same bytes, but for `meta.cached`
 * and `meta.computeMs`, which describe this serving. The stored buffer is not modified. The last
 * `,"meta":` of the text is the answer's own: inside a JSON string every quote is escaped.
 */
export function restamp(stored: Uint8Array, started: number): ServedAnswer {
  const bytes = Buffer.isBuffer(stored)
    ? stored
    : Buffer.from(stored.buffer, stored.byteOffset, stored.length);
  const at = bytes.lastIndexOf(META_MEMBER);
  if (at < 0) throw new Error('a stored answer has no meta');
  const meta = JSON.parse(bytes.toString('utf8', at + META_MEMBER.length, bytes.length - 1)) as {
    stale?: unknown;
  };
  // Spread over the stored meta, the two members keep their places: the schema's order.
  const tail = `${META_MEMBER}${JSON.stringify({ ...meta, cached: true, computeMs: elapsedMs(started) })}}`;
  const body = Buffer.allocUnsafe(at + Buffer.byteLength(tail));
  bytes.copy(body, 0, 0, at);
  body.write(tail, at, 'utf8');
  return { body, cached: true, stale: meta.stale === true };
}
