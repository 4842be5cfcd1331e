/**
 * Answers cached per (request, data version): the key changes whenever the data under the answer
 * does, so an entry never needs invalidating, only a TTL.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
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

interface Restamped {
  /** where `,"meta":` starts */
  at: number;
  meta: Record<string, unknown>;
  stale: boolean;
  /** bodies made for this answer, per computeMs (a hit takes 0.0 to a few tenths of a ms) */
  bodies: Map<number, Buffer>;
}

/**
 * The answers hit last, by stored buffer (the memory cache hands out the same one on every hit),
 * with a few bodies each. Bounded, and outside the cache's byte budget: at most RECENT answers ×
 * BODIES_KEPT bodies of at most BODY_KEPT_MAX_BYTES each (16 MiB).
 */
const RECENT = 64;
const BODIES_KEPT = 4;
const BODY_KEPT_MAX_BYTES = 64 * 1024;
const recent = new LRUCache<Uint8Array, Restamped>({ max: RECENT });

/**
 * A stored answer (from `serializeAnswer`) served again: the same bytes, but for `meta.cached`
 * and `meta.computeMs`, which describe this serving. The stored buffer is not modified. The last
 * `,"meta":` of the text is the answer's own: inside a JSON string every quote is escaped.
 *
 * A hit's computeMs (0.1 ms steps) takes few values, so the bodies made for the answers hit last
 * are kept and shared: a repeated hit allocates and copies nothing. Nobody writes into a body.
 */
export function restamp(stored: Uint8Array, started: number): ServedAnswer {
  let known = recent.get(stored);
  if (!known) {
    const bytes = Buffer.isBuffer(stored)
      ? stored
      : Buffer.from(stored.buffer, stored.byteOffset, stored.length);
    const at = bytes.lastIndexOf(META_MEMBER);
    if (at < 0) throw new Error('a stored answer has no meta');
    const meta = JSON.parse(bytes.toString('utf8', at + META_MEMBER.length, bytes.length - 1)) as Record<
      string,
      unknown
    >;
    known = { at, meta, stale: meta.stale === true, bodies: new Map() };
    recent.set(stored, known);
  }
  const computeMs = elapsedMs(started);
  let body = known.bodies.get(computeMs);
  if (!body) {
    // Spread over the stored meta, the two members keep their places: the schema's order.
    const tail = `${META_MEMBER}${JSON.stringify({ ...known.meta, cached: true, computeMs })}}`;
    body = Buffer.allocUnsafe(known.at + Buffer.byteLength(tail));
    body.set(stored.subarray(0, known.at), 0);
    body.write(tail, known.at, 'utf8');
    if (body.length <= BODY_KEPT_MAX_BYTES) {
      if (known.bodies.size >= BODIES_KEPT) known.bodies.clear();
      known.bodies.set(computeMs, body);
    }
  }
  return { body, cached: true, stale: known.stale };
}
