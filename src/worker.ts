/**
 * The worker entry point (shared mode): consumes the job queues (reports, imports, scheduled
 * deliveries) on as many machines as needed. The queues arrive with the reports issue; until then
 * the worker checks its configuration, connects to Redis and waits, so deployments can already
 * run it and its shutdown path is exercised.
 */
import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { createRedisConnection } from './clients/redis.ts';
import { readConfigOrExit } from './read-config.ts';

const config = readConfigOrExit();
const logger = pino({ level: config.logLevel, base: { role: 'worker' } });

if (!config.redis) {
  logger.fatal('the worker needs REDIS_URL (shared mode); in embedded mode jobs run inside the API process');
  process.exit(78);
}

const redis = createRedisConnection({ ...config.redis, role: 'worker', logger, name: 'salesflow-worker' });
await redis.ping().catch(() => logger.warn('redis not reachable yet; waiting for it'));
logger.info({ queues: [] }, 'worker started');

closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'worker shutting down after an unexpected error');
  else logger.info({ signal }, 'worker shutting down');
  await redis.quit().catch(() => redis.disconnect());
});
