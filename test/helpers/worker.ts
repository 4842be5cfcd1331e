/**
 * The worker process of shared mode, in the test process: its own container and job worker, as
 * src/worker.ts builds them, closed when the test ends.
 */
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { createJobWorker } from '../../src/jobs/job-queue-factory.ts';
import { testEnv } from './app.ts';

/** A worker over `env` (with REDIS_URL; `testEnv` fills in the rest), silent, closed after the test. */
export function startInProcessWorker(t: TestContext, env: Record<string, string | undefined>) {
  const config = loadConfig(testEnv(env));
  const services = createContainer(config, pino({ level: 'silent' }));
  const worker = createJobWorker({
    config,
    logger: pino({ level: 'silent' }),
    processors: services.processors,
  });
  t.after(async () => {
    await worker.close();
    await services.close();
  });
  return { config, services, worker };
}
