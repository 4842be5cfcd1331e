/**
 * ioredis connections, configured per BullMQ's production guide:
 * - request-path connections (`role: 'request'`) fail fast: no offline queue, a command timeout,
 *   one retry per command, so a Redis outage answers 503 or falls back, never hangs a request;
 * - worker connections (`role: 'worker'`) wait for Redis to come back (maxRetriesPerRequest: null).
 * Both reconnect forever with capped backoff, and always have an `error` listener.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  commandTimeoutMs: number;
  role: 'request' | 'worker';
  logger: FastifyBaseLogger;
  name?: string;
}

export function createRedisConnection({
  url,
  commandTimeoutMs,
  role,
  logger,
  name,
}: RedisConnectionOptions): Redis {
  const redis = new Redis(url, {
    connectionName: name ?? `salesflow-${role}`,
    lazyConnect: false,
    connectTimeout: Math.max(1_000, commandTimeoutMs * 2),
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    ...(role === 'request'
      ? { enableOfflineQueue: false, commandTimeout: commandTimeoutMs, maxRetriesPerRequest: 1 }
      : { enableOfflineQueue: true, maxRetriesPerRequest: null }),
  });
  // Without a listener an 'error' event would crash the process; log once per outage, not per retry.
  let down = false;
  redis.on('error', (err) => {
    if (!down) logger.warn({ err: err.message, role }, 'redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ role }, 'redis connection restored');
    down = false;
  });
  return redis;
}
