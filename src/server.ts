/**
 * The API entry point: reads the configuration, builds the app, listens, and shuts down gracefully
 * on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close Redis and the upstream pool)
 * within SHUTDOWN_TIMEOUT_MS.
 */
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { readConfigOrExit } from './read-config.ts';

const config = readConfigOrExit();
const app = await buildApp(config);

// A request still running near the end of the grace period is answered 503 with Retry-After, a
// moment before the end (for the answer to leave and the pools to close), never dropped silently.
const REFUSE_BEFORE_END_MS = Math.min(1_000, Math.round(config.shutdownTimeoutMs / 4));

closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an unexpected error');
  else app.log.info({ signal }, 'shutting down: finishing in-flight requests');
  const graceEnd = setTimeout(() => {
    const refused = app.refuseInFlight(1);
    if (refused > 0) app.log.warn({ refused }, 'shutdown grace over: requests still running answered 503');
  }, config.shutdownTimeoutMs - REFUSE_BEFORE_END_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(graceEnd);
  }
});

try {
  await app.listen({ host: config.host, port: config.port });
  app.log.info(
    { mode: config.mode, upstream: config.upstream.url, docs: '/docs' },
    `SalesFlow Analytics API ready in ${config.mode} mode`,
  );
} catch (err) {
  app.log.fatal({ err }, 'could not start listening');
  process.exit(1);
}
