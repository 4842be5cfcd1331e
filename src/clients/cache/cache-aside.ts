/**
 * The cache-aside policy, shared by both adapters: an adapter supplies a CacheStore (storage
 * primitives, plus a cross-process lock in Redis mode) and gets the full Cache back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { currentDeadline } from '../../lib/deadline.ts';
import {
  type Cache,
  type CacheEntry,
  type CacheLogger,
  type CacheResult,
  type CacheSetOptions,
  CacheUnavailableError,
} from './cache-types.ts';

export interface CacheStore {
  readonly kind: Cache['kind'];
  /** May return an entry past `expiresAt` (the store's own expiry is coarser); the policy filters. */
  read(key: string): Promise<CacheEntry<unknown> | undefined>;
  write(key: string, entry: CacheEntry<unknown>): Promise<void>;
  remove(key: string): Promise<void>;
  removeByPrefix(prefix: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Present when several processes share the store and should share loads too. */
  readonly lock?: StoreLock;
}

export interface StoreLock {
  /** How long a lock lives if its holder never releases it; also how long others wait for it. */
  readonly ttlMs: number;
  /** A token when acquired, undefined when someone else holds the lock. */
  tryAcquire(key: string): Promise<string | undefined>;
  /** Releases only if `token` still owns the lock (it may have expired and been taken by another). */
  release(key: string, token: string): Promise<void>;
  /** The entry as it is now, and whether anyone holds the lock. */
  peek(key: string): Promise<{ entry: CacheEntry<unknown> | undefined; locked: boolean }>;
}

export interface CacheAsideOptions {
  logger?: CacheLogger | undefined;
  /** epoch ms; injected by tests to move time without waiting */
  now?: (() => number) | undefined;
  /** first and longest pause between polls while another process loads */
  pollMinMs?: number;
  pollMaxMs?: number;
}

export const noopLogger: CacheLogger = { error() {}, warn() {} };

/** Lets one message through per interval and counts what it held back, so a flood becomes a trickle. */
export function throttle(intervalMs: number): (emit: (suppressed: number) => void) => void {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (emit) => {
    const t = performance.now();
    if (t - last < intervalMs) {
      suppressed++;
      return;
    }
    last = t;
    const n = suppressed;
    suppressed = 0;
    emit(n);
  };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function entryFor<T>(value: T, options: CacheSetOptions, t: number): CacheEntry<T> {
  const { ttlMs, staleTtlMs = 0 } = options;
  if (!Number.isFinite(ttlMs) || ttlMs < 0 || !Number.isFinite(staleTtlMs) || staleTtlMs < 0) {
    throw new RangeError(`cache ttlMs/staleTtlMs must be finite and >= 0 (got ${ttlMs}/${staleTtlMs})`);
  }
  return { value, storedAt: t, freshUntil: t + ttlMs, expiresAt: t + ttlMs + staleTtlMs };
}

export function createCacheAside(store: CacheStore, options: CacheAsideOptions = {}): Cache {
  const logger = options.logger ?? noopLogger;
  const now = options.now ?? Date.now;
  const pollMinMs = options.pollMinMs ?? 10;
  const pollMaxMs = options.pollMaxMs ?? 50;
  const inflight = new Map<string, Promise<CacheResult<unknown>>>();
  /** loads a request stopped waiting for (it served the stale value): they finish in the background */
  const refreshing = new Set<string>();
  const storeErrorLog = throttle(10_000);

  function noteStoreError(err: unknown, key: string, op: string): void {
    // An outage is reported once by the store itself; everything else (a reply error, a bad entry)
    // is worth a warning, but not one per request.
    if (err instanceof CacheUnavailableError) return;
    storeErrorLog((suppressed) =>
      logger.warn({ err, key, op, store: store.kind, suppressed }, 'cache store error, bypassing cache'),
    );
  }

  const held = (entry: CacheEntry<unknown> | undefined, t: number) =>
    entry !== undefined && t < entry.expiresAt ? entry : undefined;
  const isFresh = (entry: CacheEntry<unknown>, t: number) => t < entry.freshUntil;
  const hit = <T>(entry: CacheEntry<unknown>): CacheResult<T> => ({
    value: entry.value as T,
    status: 'hit',
    ageMs: Math.max(0, now() - entry.storedAt),
  });

  async function readQuietly(key: string): Promise<{ ok: boolean; entry: CacheEntry<unknown> | undefined }> {
    try {
      return { ok: true, entry: held(await store.read(key), now()) };
    } catch (err) {
      noteStoreError(err, key, 'read');
      return { ok: false, entry: undefined };
    }
  }

  async function writeQuietly(key: string, entry: CacheEntry<unknown>): Promise<void> {
    if (entry.value === undefined || entry.expiresAt <= entry.storedAt) return;
    try {
      await store.write(key, entry);
    } catch (err) {
      noteStoreError(err, key, 'write');
    }
  }

  type Coordination =
    | { kind: 'fresh'; entry: CacheEntry<unknown> }
    | { kind: 'load'; token: string | undefined; stale: CacheEntry<unknown> | undefined };

  /**
   * Decides who loads when several processes miss at once: whoever takes the lock loads; the others
   * poll until the value appears, or the lock disappears without one (its holder failed: try to take
   * it), or the lock's TTL has passed since they started waiting (holder hung or died: load anyway).
   */
  async function coordinate(
    lock: StoreLock,
    key: string,
    stale: CacheEntry<unknown> | undefined,
  ): Promise<Coordination> {
    const deadline = performance.now() + lock.ttlMs;
    let delay = pollMinMs;
    for (;;) {
      let token: string | undefined;
      try {
        token = await lock.tryAcquire(key);
      } catch (err) {
        noteStoreError(err, key, 'lock');
        return { kind: 'load', token: undefined, stale };
      }
      if (token !== undefined) {
        // Another process may have stored the value and released the lock between our read and now.
        const again = await readQuietly(key);
        if (again.entry && isFresh(again.entry, now())) {
          await releaseQuietly(lock, key, token);
          return { kind: 'fresh', entry: again.entry };
        }
        return { kind: 'load', token, stale: again.entry ?? stale };
      }
      for (;;) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) return { kind: 'load', token: undefined, stale };
        await sleep(Math.min(delay, remaining));
        delay = Math.min(pollMaxMs, delay * 2);
        let peeked: Awaited<ReturnType<StoreLock['peek']>>;
        try {
          peeked = await lock.peek(key);
        } catch (err) {
          noteStoreError(err, key, 'poll');
          return { kind: 'load', token: undefined, stale };
        }
        const entry = held(peeked.entry, now());
        if (entry) {
          if (isFresh(entry, now())) return { kind: 'fresh', entry };
          stale = entry;
        }
        if (!peeked.locked) break;
      }
    }
  }

  async function releaseQuietly(lock: StoreLock, key: string, token: string): Promise<void> {
    try {
      await lock.release(key, token);
    } catch (err) {
      // The lock expires by itself; others wait at most its TTL.
      noteStoreError(err, key, 'unlock');
    }
  }

  /**
   * Loads and stores the value; when the load fails and a stale value is held, serves that. Inside
   * a request (a deadline is in force) a held stale value is served after the deadline's stale
   * wait at the latest, while the load goes on in the background (bounded by the same deadline)
   * and stores its value if it gets one; a request arriving meanwhile gets the stale value at once.
   */
  async function loadAndStore<T>(
    key: string,
    load: () => Promise<T>,
    options: CacheSetOptions,
    stale: CacheEntry<unknown> | undefined,
    storeOk: boolean,
    release?: () => Promise<void>,
  ): Promise<CacheResult<T>> {
    const staleWaitMs = stale ? currentDeadline()?.staleWaitMs : undefined;
    if (staleWaitMs !== undefined && refreshing.has(key)) {
      await release?.();
      return staleResult<T>(key, stale, 'the system of record is slow to answer; a refresh is under way');
    }
    const loading = (async () => {
      try {
        const value = await load();
        const entry = entryFor(value, options, now());
        if (storeOk) await writeQuietly(key, entry);
        return value;
      } finally {
        await release?.();
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = Symbol('late');
    try {
      const value =
        staleWaitMs === undefined
          ? await loading
          : await Promise.race([
              loading,
              new Promise<typeof late>((settle) => {
                timer = setTimeout(settle, staleWaitMs, late);
              }),
            ]);
      if (value !== late) return { value: value as T, status: 'miss', ageMs: 0 };
    } catch (err) {
      if (!held(stale, now())) throw err;
      logger.warn({ err, key }, 'cache load failed, serving stale value');
      return staleResult<T>(key, stale, errorMessage(err));
    } finally {
      clearTimeout(timer);
    }
    refreshing.add(key);
    loading
      .catch((err: unknown) => logger.warn({ err, key }, 'background refresh failed'))
      .finally(() => refreshing.delete(key));
    return staleResult<T>(
      key,
      stale,
      `the system of record did not answer within ${staleWaitMs} ms; a refresh goes on in the background`,
    );
  }

  function staleResult<T>(
    key: string,
    stale: CacheEntry<unknown> | undefined,
    reason: string,
  ): CacheResult<T> {
    const t = now();
    const fallback = held(stale, t) ?? stale;
    if (!fallback) throw new Error(`no stale value for ${key}`);
    return {
      value: fallback.value as T,
      status: 'stale',
      ageMs: Math.max(0, t - fallback.storedAt),
      staleReason: reason,
    };
  }

  async function resolve<T>(
    key: string,
    load: () => Promise<T>,
    options: CacheSetOptions,
  ): Promise<CacheResult<T>> {
    const first = await readQuietly(key);
    if (first.entry && isFresh(first.entry, now())) return hit<T>(first.entry);
    // An unreachable store means loading directly: no lock, no waiting on it.
    if (!first.ok || !store.lock) return loadAndStore(key, load, options, first.entry, first.ok);
    const lock = store.lock;
    const decided = await coordinate(lock, key, first.entry);
    if (decided.kind === 'fresh') return hit<T>(decided.entry);
    const token = decided.token;
    // Released when the load ends, which may be after this request served a stale value.
    const release = token !== undefined ? () => releaseQuietly(lock, key, token) : undefined;
    return loadAndStore(key, load, options, decided.stale, true, release);
  }

  return {
    kind: store.kind,

    getOrLoad<T>(key: string, load: () => Promise<T>, options: CacheSetOptions): Promise<CacheResult<T>> {
      const pending = inflight.get(key);
      if (pending) return pending as Promise<CacheResult<T>>;
      try {
        // Validated here so that nobody joins a flight doomed by the first caller's bad options.
        entryFor(undefined, options, 0);
      } catch (err) {
        return Promise.reject(err);
      }
      const flight: Promise<CacheResult<unknown>> = resolve(key, load, options).finally(() => {
        if (inflight.get(key) === flight) inflight.delete(key);
      });
      inflight.set(key, flight);
      return flight as Promise<CacheResult<T>>;
    },

    // readQuietly's work without its wrapper object: this is every cached answer's read.
    async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
      try {
        return held(await store.read(key), now()) as CacheEntry<T> | undefined;
      } catch (err) {
        noteStoreError(err, key, 'read');
        return undefined;
      }
    },

    async set<T>(key: string, value: T, options: CacheSetOptions): Promise<void> {
      await writeQuietly(key, entryFor(value, options, now()));
    },

    delete: (key) => store.remove(key),
    deleteByPrefix: (prefix) => store.removeByPrefix(prefix),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
