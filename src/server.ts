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

closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an unexpected error');
  else app.log.info({ signal }, 'shutting down: finishing in-flight requests');
  await app.close();
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
