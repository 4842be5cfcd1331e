/**
 * The worker entry point (shared mode): consumes the job queues (reports and imports; scheduled
 * deliveries later) on as many machines as needed, and deletes expired report files.
 * The API only enqueues. In embedded mode there is no worker: jobs run inside the API process.
 */
import { hostname } from 'node:os';
import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { createContainer } from './container.ts';
import { createJobWorker } from './jobs/job-queue-factory.ts';
import { type MetricsServer, serveMetrics } from './metrics-server.ts';
import { readConfigOrExit } from './read-config.ts';

const CLEANUP_EVERY_MS = 3_600_000;

const config = readConfigOrExit();
const logger = pino({
  level: config.logLevel,
  // pino's default base is pid and hostname; a base of our own must repeat them, or the worker's
  // lines could not be told apart from one machine to the next as the API's can.
  base: { pid: process.pid, hostname: hostname(), role: 'worker' },
  ...(process.stdout.isTTY && config.env !== 'production'
    ? {
        transport: {
          target: 'pino-pretty',
          options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
        },
      }
    : {}),
});

if (!config.redis) {
  logger.fatal('the worker needs REDIS_URL (shared mode); in embedded mode jobs run inside the API process');
  process.exit(78);
}

const services = createContainer(config, logger);
let worker: ReturnType<typeof createJobWorker> | undefined;
const cleanup = (startup = false) =>
  Promise.all([
    services.reports
      .cleanup(Date.now(), { startup })
      .catch((err: unknown) => logger.warn({ err }, 'report cleanup failed')),
    services.imports.cleanup().catch((err: unknown) => logger.warn({ err }, 'import cleanup failed')),
  ]);
const timer = setInterval(() => cleanup(), CLEANUP_EVERY_MS);
timer.unref();
let metricsServer: MetricsServer | undefined;

// Registered before waiting for the database and Redis: a signal during start-up still shuts down cleanly.
closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'worker shutting down after an unexpected error');
  else logger.info({ signal }, 'worker shutting down: finishing running jobs');
  clearInterval(timer);
  await metricsServer?.close();
  await worker?.close();
  await services.close();
});

// Migrations first: a job must not run against a database that lacks its tables.
await services.start();
worker = createJobWorker({
  config,
  logger,
  processors: services.processors,
  concurrency: config.jobs.concurrency,
});
if (config.jobs.workerMetricsPort !== undefined) {
  metricsServer = await serveMetrics({
    metrics: services.metrics,
    host: config.host,
    port: config.jobs.workerMetricsPort,
    token: config.auth.metricsToken,
  });
  logger.info({ port: metricsServer.port, host: config.host }, 'worker metrics at GET /metrics');
}
await worker.ready();
logger.info({ queues: worker.queues, concurrency: config.jobs.concurrency }, 'worker started');
// At start: also the partial files a killed run of this worker left behind.
void cleanup(true);
