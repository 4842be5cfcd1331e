/**
 * The cache interface. Two adapters implement it (memory-cache.ts: an in-process LRU, the embedded
 * default; redis-cache.ts: ioredis, shared mode) and pass the same contract tests. The cache-aside
 * policy (single-flight, cross-process lock, stale-if-error, bypass when the store is down) is
 * written once, in cache-aside.ts.
 *
 * Values are JSON-serialisable data or binary (Buffer / Uint8Array, at the top level only: a Buffer
 * nested inside an object goes through JSON like anything else). Callers treat what they get as
 * immutable: the memory adapter hands out the stored object itself. `undefined` is never cached.
 */
export type CacheStatus =
  /** served from the cache, still fresh (possibly loaded moments ago by another process) */
  | 'hit'
  /** loaded now (cold key, or expired) */
  | 'miss'
  /** past its freshness, served because loading failed (stale-if-error) */
  | 'stale';

export interface CacheResult<T> {
  value: T;
  status: CacheStatus;
  /** milliseconds since the value was loaded */
  ageMs: number;
  /** with status 'stale': why a fresh value could not be had */
  staleReason?: string;
}

export interface CacheEntry<T> {
  value: T;
  /** epoch ms when the value was stored */
  storedAt: number;
  /** epoch ms after which the value is stale (served only when loading fails) */
  freshUntil: number;
  /** epoch ms after which the entry is gone (freshUntil + staleTtlMs) */
  expiresAt: number;
}

export interface CacheSetOptions {
  /** how long the value is fresh */
  ttlMs: number;
  /** how much longer a stale value is kept to be served when loading fails (stale-if-error); default 0 */
  staleTtlMs?: number;
}

/** The subset of a pino logger the cache uses (a pino Logger fits). */
export interface CacheLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

/**
 * The backing store cannot be reached (connection refused, timed out, circuit open). `ping()` throws
 * it; `delete`/`deleteByPrefix` throw it, since a silently skipped invalidation would serve old data.
 * The message reads `redis unavailable: <reason>`.
 */
export class CacheUnavailableError extends Error {
  override readonly name = 'CacheUnavailableError';
  readonly store: 'memory' | 'redis';
  readonly reason: string;
  constructor(store: 'memory' | 'redis', reason: string, options?: { cause?: unknown }) {
    super(`${store} unavailable: ${reason}`, options);
    this.store = store;
    this.reason = reason;
  }
}

export interface Cache {
  readonly kind: 'memory' | 'redis';
  /**
   * Cache-aside with single-flight: concurrent callers of a cold key share one `load()` (in Redis
   * mode across processes, through a short lock); when `load()` fails and a stale value is held, it
   * is served with status 'stale'; when the cache itself is unreachable, `load()` is called directly.
   * A `load()` error with nothing held propagates unchanged, to every caller sharing that load.
   */
  getOrLoad<T>(key: string, load: () => Promise<T>, options: CacheSetOptions): Promise<CacheResult<T>>;
  /** The held entry, fresh or stale (check `freshUntil`); undefined when absent or the store is unreachable. */
  get<T>(key: string): Promise<CacheEntry<T> | undefined>;
  /** Best effort: a store failure is logged, not thrown. */
  set<T>(key: string, value: T, options: CacheSetOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /** Deletes every key starting with `prefix` (SCAN in Redis, never KEYS); returns how many. */
  deleteByPrefix(prefix: string): Promise<number>;
  /** Throws CacheUnavailableError when the backing store is unreachable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
