/**
 * A worker process for test/jobs-bullmq.test.ts to kill mid-job: it consumes the 'crash' queue with
 * a processor that counts its start in Redis (INCR), says so on stdout, then never finishes.
 * Environment: JOBS_REDIS_URL, JOBS_PREFIX, JOBS_COUNTER (the key to INCR).
 */
import { Redis } from 'ioredis';
import { createBullmqWorker } from '../../src/jobs/bullmq-worker.ts';
import type { CrashJobs } from './jobs.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const url = required('JOBS_REDIS_URL');
const counterKey = required('JOBS_COUNTER');
const counter = new Redis(url);
counter.on('error', () => undefined);

const worker = createBullmqWorker<CrashJobs>({
  connection: { url },
  prefix: required('JOBS_PREFIX'),
  concurrency: 1,
  lockDurationMs: 1_000,
  stalledIntervalMs: 500,
  logger: { error: () => undefined, warn: () => undefined },
  queues: {
    crash: {
      async work(_payload, ctx) {
        await counter.incr(counterKey);
        process.stdout.write(`started ${ctx.id}\n`);
        return new Promise<never>(() => undefined);
      },
    },
  },
});
await worker.ready();
process.stdout.write('ready\n');
