/**
 * The shared cache: Redis through ioredis. Used on request paths, so Redis being slow or gone must
 * cost at most about one command timeout: no offline queue, a per-command timeout, and a circuit
 * breaker that skips Redis for a moment after a failure instead of letting every request wait.
 *
 * Layout under `keyPrefix`: `v:<key>` holds an entry, `l:<key>` the lock of a load in progress.
 * Every key is written with a PX TTL: the Redis that also carries the job queue runs `noeviction`,
 * where a key without a TTL is a leak.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { type CacheStore, createCacheAside, errorMessage, throttle } from './cache-aside.ts';
import { type Cache, type CacheEntry, type CacheLogger, CacheUnavailableError } from './cache-types.ts';

export type RedisConnectionOptions = { url: string } & RedisOptions;

export interface RedisCacheOptions {
  /** An ioredis instance (left open by close()), or where to connect (the cache owns that connection). */
  redis: Redis | RedisConnectionOptions;
  /** Prepended to every key, e.g. 'sfa:cache:'. Use this rather than ioredis's own keyPrefix. */
  keyPrefix: string;
  /** Longest wait for one Redis command; default 500. */
  commandTimeoutMs?: number;
  /** Lifetime of a load lock, and the longest other processes wait for its holder; default 10 000. */
  lockTtlMs?: number;
  /** How long Redis is skipped after a failure before one request probes it again; default 1 500. */
  breakerOpenMs?: number;
  logger: CacheLogger;
  /** epoch ms; tests inject a fake clock (freshness only: Redis expires keys on its own clock) */
  now?: () => number;
}

const FORMAT_JSON = 0;
const FORMAT_BYTES = 1;
/** format byte, then storedAt, freshUntil and expiresAt as float64 big-endian */
const HEADER_BYTES = 1 + 8 * 3;
const RECONNECT_MAX_DELAY_MS = 1_000;

/** Deletes the lock only if it is still ours: it may have expired and been taken by another process. */
const RELEASE_LOCK_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function encodeEntry(entry: CacheEntry<unknown>): Buffer {
  const { value } = entry;
  let format: number;
  let payload: Uint8Array;
  if (value instanceof Uint8Array) {
    format = FORMAT_BYTES;
    payload = value;
  } else {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError('cache value is not JSON-serialisable');
    format = FORMAT_JSON;
    payload = Buffer.from(json, 'utf8');
  }
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload.byteLength);
  buf.writeUInt8(format, 0);
  buf.writeDoubleBE(entry.storedAt, 1);
  buf.writeDoubleBE(entry.freshUntil, 9);
  buf.writeDoubleBE(entry.expiresAt, 17);
  buf.set(payload, HEADER_BYTES);
  return buf;
}

export function decodeEntry(buf: Buffer): CacheEntry<unknown> {
  if (buf.length < HEADER_BYTES) throw new Error(`cache entry too short (${buf.length} bytes)`);
  const format = buf.readUInt8(0);
  const payload = buf.subarray(HEADER_BYTES);
  let value: unknown;
  if (format === FORMAT_BYTES) value = payload;
  else if (format === FORMAT_JSON) value = JSON.parse(payload.toString('utf8'));
  else throw new Error(`unknown cache entry format ${format}`);
  return {
    value,
    storedAt: buf.readDoubleBE(1),
    freshUntil: buf.readDoubleBE(9),
    expiresAt: buf.readDoubleBE(17),
  };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/** Reply errors mean Redis answered; these few mean it answered that it cannot serve. */
const UNSERVICEABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/;
function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError' && !UNSERVICEABLE_REPLY.test(err.message);
}

class ReplyTimeout extends Error {}

function withTimeout<T>(op: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReplyTimeout(`no reply within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve().then(op), timeout]).finally(() => clearTimeout(timer));
}

function isRedisInstance(r: RedisCacheOptions['redis']): r is Redis {
  return r instanceof Redis || typeof (r as Partial<Redis>).getBuffer === 'function';
}

export function createRedisCache(options: RedisCacheOptions): Cache {
  const { keyPrefix, logger } = options;
  const commandTimeoutMs = options.commandTimeoutMs ?? 500;
  const lockTtlMs = options.lockTtlMs ?? 10_000;
  const breakerOpenMs = options.breakerOpenMs ?? 1_500;
  const now = options.now ?? Date.now;

  const owned = !isRedisInstance(options.redis);
  let redis: Redis;
  if (isRedisInstance(options.redis)) {
    redis = options.redis;
    if (redis.options.keyPrefix) {
      // ioredis would prefix the keys SCAN returns a second time when they are unlinked.
      throw new Error('createRedisCache: pass keyPrefix to the cache, not to the ioredis instance');
    }
    if (redis.options.enableOfflineQueue !== false) {
      // Queued while disconnected, a lock or a write would run long after its request gave up on it.
      logger.warn({}, 'the ioredis instance given to the cache has enableOfflineQueue on; turn it off');
    }
  } else {
    const { url, ...rest } = options.redis;
    redis = new Redis(url, {
      enableOfflineQueue: false,
      commandTimeout: commandTimeoutMs,
      maxRetriesPerRequest: 1,
      connectTimeout: Math.max(1_000, commandTimeoutMs * 4),
      // Never give up: the cache is optional while Redis is away, and should come back by itself.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), RECONNECT_MAX_DELAY_MS),
      ...rest,
    });
  }

  const valueKey = (key: string) => `${keyPrefix}v:${key}`;
  const lockKey = (key: string) => `${keyPrefix}l:${key}`;

  // Circuit breaker: after a failure Redis is skipped until openUntil, then a single request probes it.
  let down = false;
  let openUntil = 0;
  let probing = false;
  let downReason = '';
  let lastConnectionProblem: string | undefined;
  let closed = false;

  function describe(err: unknown): string {
    if (redis.status !== 'ready') {
      const last = lastConnectionProblem ? `: ${lastConnectionProblem}` : '';
      return `not connected (${redis.status})${last}`;
    }
    if (err instanceof ReplyTimeout || errorMessage(err) === 'Command timed out') {
      return `no reply within ${commandTimeoutMs} ms`;
    }
    return errorMessage(err);
  }

  function markDown(reason: string, err: unknown): void {
    openUntil = performance.now() + breakerOpenMs;
    downReason = reason;
    if (down || closed) return;
    down = true;
    logger.warn({ err, reason, retryInMs: breakerOpenMs }, 'redis unavailable, bypassing the cache');
  }

  function markUp(): void {
    openUntil = 0;
    if (!down) return;
    down = false;
    logger.info?.({}, 'redis available again');
  }

  const connectionErrorLog = throttle(30_000);
  const onError = (err: Error) => {
    // ioredis also reports its own refused ready check as an error; the cause before it says more.
    if (!(lastConnectionProblem && err.message.startsWith("Stream isn't writeable"))) {
      lastConnectionProblem = err.message;
    }
    markDown(`connection error: ${err.message}`, err);
    connectionErrorLog((suppressed) => logger.debug?.({ err, suppressed }, 'redis connection error'));
  };
  const onReady = () => {
    lastConnectionProblem = undefined;
    markUp();
  };
  const onClose = () => {
    lastConnectionProblem ??= 'connection closed';
  };
  redis.on('error', onError);
  redis.on('ready', onReady);
  redis.on('close', onClose);

  // Without an offline queue, commands sent while a connection is being set up fail at once; the
  // first requests after start-up would then trip the breaker. They wait for it instead, briefly.
  let connecting: Promise<void> | undefined;
  function settledConnecting(): Promise<void> {
    connecting ??= new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        redis.off('ready', finish);
        redis.off('error', finish);
        redis.off('end', finish);
        connecting = undefined;
        resolve();
      };
      const timer = setTimeout(finish, commandTimeoutMs);
      redis.on('ready', finish);
      redis.on('error', finish);
      redis.on('end', finish);
    });
    return connecting;
  }

  async function run<T>(op: () => Promise<T>, force = false): Promise<T> {
    if (closed) throw new CacheUnavailableError('redis', 'cache closed');
    let probe = false;
    if (down && !force) {
      if (probing || performance.now() < openUntil) throw new CacheUnavailableError('redis', downReason);
      probing = probe = true;
    }
    try {
      if (redis.status === 'wait') redis.connect().catch(() => {});
      if (redis.status === 'wait' || redis.status === 'connecting' || redis.status === 'connect') {
        await settledConnecting();
      }
      const result = await withTimeout(op, commandTimeoutMs);
      markUp();
      return result;
    } catch (err) {
      if (isReplyError(err)) {
        markUp();
        throw err;
      }
      const reason = describe(err);
      markDown(reason, err);
      throw new CacheUnavailableError('redis', reason, { cause: err });
    } finally {
      if (probe) probing = false;
    }
  }

  const badEntryLog = throttle(10_000);
  function decodeQuietly(key: string, buf: Buffer | null): CacheEntry<unknown> | undefined {
    if (buf === null) return undefined;
    try {
      return decodeEntry(buf);
    } catch (err) {
      // Treated as a miss; the next store overwrites it.
      badEntryLog((suppressed) => logger.warn({ err, key, suppressed }, 'unreadable cache entry ignored'));
      return undefined;
    }
  }

  const store: CacheStore = {
    kind: 'redis',

    async read(key) {
      return decodeQuietly(key, await run(() => redis.getBuffer(valueKey(key))));
    },

    async write(key, entry) {
      const ttl = Math.ceil(entry.expiresAt - now());
      if (ttl <= 0) return;
      const buf = encodeEntry(entry);
      await run(() => redis.set(valueKey(key), buf, 'PX', ttl));
    },

    async remove(key) {
      await run(() => redis.unlink(valueKey(key)));
    },

    async removeByPrefix(prefix) {
      const match = `${escapeGlob(valueKey(prefix))}*`;
      let cursor = '0';
      let n = 0;
      do {
        const [next, keys] = await run(() => redis.scan(cursor, 'MATCH', match, 'COUNT', 1000));
        cursor = next;
        if (keys.length > 0) n += await run(() => redis.unlink(...keys));
      } while (cursor !== '0');
      return n;
    },

    async ping() {
      try {
        await run(() => redis.ping(), true);
      } catch (err) {
        if (err instanceof CacheUnavailableError) throw err;
        throw new CacheUnavailableError('redis', errorMessage(err), { cause: err });
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (!owned) {
        redis.off('error', onError);
        redis.off('ready', onReady);
        redis.off('close', onClose);
        return;
      }
      // Our listeners stay: an 'error' emitted while the socket winds down must not go unhandled.
      try {
        await withTimeout(() => redis.quit(), commandTimeoutMs);
      } catch {
        // not connected, or no answer: dropping the socket is all that is left
      } finally {
        redis.disconnect();
      }
    },

    lock: {
      ttlMs: lockTtlMs,
      async tryAcquire(key) {
        const token = randomUUID();
        const ok = await run(() => redis.set(lockKey(key), token, 'PX', lockTtlMs, 'NX'));
        return ok === 'OK' ? token : undefined;
      },
      async release(key, token) {
        await run(() => redis.eval(RELEASE_LOCK_SCRIPT, 1, lockKey(key), token));
      },
      async peek(key) {
        const [buf, locks] = await run(() =>
          Promise.all([redis.getBuffer(valueKey(key)), redis.exists(lockKey(key))]),
        );
        return { entry: decodeQuietly(key, buf), locked: locks > 0 };
      },
    },
  };

  return createCacheAside(store, { logger, now });
}
