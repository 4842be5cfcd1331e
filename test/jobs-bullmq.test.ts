/**
 * What only the BullMQ adapter does: keep jobs in Redis across processes, fail fast when Redis is
 * down or hung, recover a job whose worker died, and carry on after Redis restarts.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createBullmqQueue } from '../src/jobs/bullmq-queue.ts';
import { createBullmqWorker } from '../src/jobs/bullmq-worker.ts';
import { bullmqPrefix, createJobQueue, createJobWorker } from '../src/jobs/job-queue-factory.ts';
import type { RenderReportPayload } from '../src/jobs/job-registry.ts';
import { QueueUnavailableError, type UntypedJobQueue } from '../src/jobs/queue-types.ts';
import { bullPrefix, type CrashJobs, type TestJobs, testRun, waitForJob, within } from './helpers/jobs.ts';
import { recordingLogger, startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';
import { timed, waitUntil } from './helpers/wait.ts';

let server: TestRedis;
let admin: Redis;

before(async () => {
  server = await startRedis();
  admin = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // tests stop this server: the reconnect errors are expected, not unhandled events
  admin.on('error', () => {});
  admin.on('error', () => undefined);
  await admin.connect();
});

after(async () => {
  admin.disconnect();
  await server.stop();
});

/** Waits until the producer's pings succeed again (Redis back after a restart). */
function reconnected(producer: { ping(): Promise<void> }): Promise<void> {
  return waitUntil(
    'the producer reconnects',
    () =>
      producer.ping().then(
        () => true,
        () => false,
      ),
    10_000,
  );
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

function shared(label: string) {
  const prefix = bullPrefix(uniquePrefix(label));
  const logger = recordingLogger();
  const run = testRun();
  const producer = createBullmqQueue<TestJobs>({
    redis: { url: server.url },
    prefix,
    logger,
    commandTimeoutMs: 300,
  });
  const worker = createBullmqWorker<TestJobs>({
    connection: { url: server.url },
    prefix,
    queues: run.processors,
    logger,
    closeTimeoutMs: 500,
  });
  return {
    prefix,
    logger,
    run,
    producer,
    worker,
    async close() {
      await worker.close();
      await producer.close();
    },
  };
}

describe('job queue factory', () => {
  const processors = {
    reports: {
      async render(payload: RenderReportPayload) {
        return { file: `${payload.dataVersion}.pdf`, bytes: 42, sha256: 'h' };
      },
    },
    imports: {
      async run() {
        return { status: 'validated' as const };
      },
    },
    deliveries: {
      async run() {
        return { runId: 'r', state: 'noop' as const, sent: 0, failed: 0, unknown: 0, skipped: 0 };
      },
      async fire() {
        return { enqueued: 0 };
      },
      async resend() {
        return { state: 'sent' };
      },
      async 'alerts-check'() {
        return { day: '2026-06-14', alerts: 0, deliveries: 0 };
      },
    },
  };

  it('embedded mode runs jobs in process; shared mode keeps them under REDIS_KEY_PREFIX for a worker', async () => {
    const logger = recordingLogger();
    const embedded = createJobQueue({
      config: { mode: 'embedded', redis: undefined, shutdownTimeoutMs: 5_000 },
      logger,
      processors,
    });
    try {
      assert.equal(embedded.kind, 'memory');
      const { job } = await embedded.enqueue('reports', 'render', {
        request: { type: 'daily', format: 'pdf' },
        dataVersion: 'r-1',
      });
      assert.deepEqual((await embedded.waitFor('reports', job.id, 1_000)).result, {
        file: 'r-1.pdf',
        bytes: 42,
        sha256: 'h',
      });
    } finally {
      await embedded.close();
    }
    assert.throws(
      () =>
        createJobWorker({
          config: { mode: 'embedded', redis: undefined, shutdownTimeoutMs: 5_000 },
          logger,
          processors,
        }),
      /REDIS_URL/,
    );

    const keyPrefix = uniquePrefix('factory');
    const config = {
      mode: 'shared' as const,
      redis: { url: server.url, keyPrefix, commandTimeoutMs: 500 },
      shutdownTimeoutMs: 5_000,
    };
    const shared = createJobQueue({ config, logger, processors });
    const worker = createJobWorker({ config, logger, processors });
    try {
      assert.equal(shared.kind, 'bullmq');
      const { job } = await shared.enqueue(
        'reports',
        'render',
        { request: { type: 'daily', format: 'pdf' }, dataVersion: 'r-2' },
        { jobId: 'report-r-2' },
      );
      assert.deepEqual((await shared.waitFor('reports', job.id, 5_000)).result, {
        file: 'r-2.pdf',
        bytes: 42,
        sha256: 'h',
      });
      assert.equal(await admin.exists(`${bullmqPrefix(keyPrefix)}:reports:report-r-2`), 1);
      assert.ok(bullmqPrefix(keyPrefix).startsWith(keyPrefix));
    } finally {
      await worker.close();
      await shared.close();
    }
  });
});

describe('BullMQ adapter', () => {
  it('the producer fails fast while Redis is down or hung, and works again once it is back', async (t) => {
    if (!server.private) return t.skip('needs a private redis-server');
    const s = shared('jobs-down');
    let paused = false;
    try {
      await s.worker.ready();
      await s.producer.ping();
      const warm = await s.producer.enqueue('test', 'echo', { value: 'before' });
      assert.equal((await s.producer.waitFor('test', warm.job.id, 5_000)).state, 'completed');

      await server.kill?.();
      const calls: [string, () => Promise<unknown>][] = [
        ['enqueue', () => s.producer.enqueue('test', 'echo', { value: 'down' })],
        [
          'enqueue with a jobId',
          () => s.producer.enqueue('test', 'echo', { value: 'down' }, { jobId: 'd-1' }),
        ],
        ['get', () => s.producer.get('test', warm.job.id)],
        ['list', () => s.producer.list('test', { limit: 10, offset: 0 })],
        ['waitFor', () => s.producer.waitFor('test', warm.job.id, 10_000)],
        ['ping', () => s.producer.ping()],
      ];
      for (const [what, call] of calls) {
        const { value: err, ms } = await timed(settle(call()));
        assert.ok(err instanceof QueueUnavailableError, `${what} rejects with QueueUnavailableError: ${err}`);
        assert.match(err.message, /^job queue unavailable: \S/);
        assert.ok(ms < 1_000, `${what} answered in ${ms} ms`);
      }

      // A producer started while Redis is down fails fast too, and closes cleanly.
      const late = createBullmqQueue<TestJobs>({
        redis: { url: server.url },
        prefix: s.prefix,
        logger: recordingLogger(),
        commandTimeoutMs: 300,
      });
      const early = await timed(settle(late.enqueue('test', 'echo', { value: 'late' })));
      assert.ok(early.value instanceof QueueUnavailableError, String(early.value));
      assert.ok(early.ms < 1_000, `answered in ${early.ms} ms`);
      await late.close();

      await server.restart?.();
      await reconnected(s.producer);
      const back = await s.producer.enqueue('test', 'echo', { value: 'after' });
      assert.equal(back.created, true);
      const done = await s.producer.waitFor('test', back.job.id, 15_000);
      assert.deepEqual(done.result, { echoed: 'after' });

      // Hung: the connection stays up but nothing answers.
      server.pause?.();
      paused = true;
      const hung = await timed(settle(s.producer.enqueue('test', 'echo', { value: 'hung' })));
      assert.ok(hung.value instanceof QueueUnavailableError, String(hung.value));
      assert.ok(hung.ms < 1_000, `answered in ${hung.ms} ms`);
      server.resume?.();
      paused = false;
      await waitUntil('redis answers again', () =>
        s.producer.ping().then(
          () => true,
          () => false,
        ),
      );
      const again = await s.producer.enqueue('test', 'echo', { value: 'resumed' });
      assert.equal((await s.producer.waitFor('test', again.job.id, 10_000)).state, 'completed');
    } finally {
      if (paused) server.resume?.();
      await s.close();
    }
  });

  it('worker close() does not wait for Redis to come back', async (t) => {
    if (!server.private) return t.skip('needs a private redis-server');
    const s = shared('jobs-close-down');
    try {
      await s.worker.ready();
      await server.kill?.();
      const closed = await timed(within('the worker closes', s.worker.close()));
      assert.ok(closed.ms < 1_000, `closed in ${closed.ms} ms`);
    } finally {
      await server.restart?.();
      await s.close();
    }
  });

  it('a worker killed mid-job is recovered by another worker; the job completes once', async () => {
    const prefix = bullPrefix(uniquePrefix('jobs-crash'));
    const counterKey = `${prefix}:starts`;
    const logger = recordingLogger();
    const producer = createBullmqQueue<CrashJobs>({ redis: { url: server.url }, prefix, logger });
    let child: ChildProcess | undefined;
    let worker: ReturnType<typeof createBullmqWorker> | undefined;
    try {
      child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('./helpers/jobs-child-worker.ts', import.meta.url))],
        {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, JOBS_REDIS_URL: server.url, JOBS_PREFIX: prefix, JOBS_COUNTER: counterKey },
        },
      );
      const exited = once(child, 'exit');
      let out = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        out += chunk;
      });
      await waitUntil('the child worker is ready', async () => out.includes('ready\n'), 15_000);

      // One attempt only: recovering a stalled job does not spend the retry budget.
      const { job } = await producer.enqueue('crash', 'work', { n: 1 }, { attempts: 1 });
      await waitForJob(
        producer as unknown as UntypedJobQueue,
        'crash',
        job.id,
        (j) => j.state === 'active',
        5_000,
      );
      await waitUntil('the child started the job', async () => (await admin.get(counterKey)) === '1');
      await waitUntil('the child says so', async () => out.includes(`started ${job.id}\n`));

      child.kill('SIGKILL');
      await within('the child exits', exited);

      let completions = 0;
      const killedAt = performance.now();
      worker = createBullmqWorker<CrashJobs>({
        connection: { url: server.url },
        prefix,
        logger,
        lockDurationMs: 1_000,
        stalledIntervalMs: 500,
        queues: {
          crash: {
            async work() {
              await admin.incr(counterKey);
              completions++;
              return { by: 'parent' };
            },
          },
        },
      });
      const done = await producer.waitFor('crash', job.id, 15_000);
      const recoveredInMs = performance.now() - killedAt;
      assert.deepEqual(
        { state: done.state, result: done.result, attempts: done.attempts, error: done.error },
        { state: 'completed', result: { by: 'parent' }, attempts: 2, error: null },
      );
      assert.ok(recoveredInMs < 6_000, `recovered in ${recoveredInMs} ms`);
      assert.ok(
        logger.records.some((r) => r.level === 'warn' && r.msg.startsWith('job stalled')),
        'the stalled job was logged',
      );

      // More stalled checks pass: nothing runs it again.
      await sleep(1_500);
      assert.equal(await admin.get(counterKey), '2', 'one start in each process');
      assert.equal(completions, 1);
      assert.equal((await producer.get('crash', job.id))?.state, 'completed');
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await worker?.close();
      await producer.close();
    }
  });

  it('job metadata lives in Redis: a fresh producer reads it and deduplicates against it', async () => {
    const s = shared('jobs-restart');
    try {
      await s.worker.ready();
      const ok = await s.producer.enqueue('test', 'echo', { value: 'kept' }, { jobId: 'meta-ok' });
      const bad = await s.producer.enqueue(
        'test',
        'permanent',
        { reason: 'kept too' },
        { jobId: 'meta-bad' },
      );
      const okDone = await s.producer.waitFor('test', ok.job.id, 5_000);
      const badDone = await s.producer.waitFor('test', bad.job.id, 5_000);
      await s.producer.close();

      const fresh = createBullmqQueue<TestJobs>({
        redis: { url: server.url },
        prefix: s.prefix,
        logger: s.logger,
      });
      try {
        assert.deepEqual(await fresh.get('test', 'meta-ok'), okDone);
        assert.deepEqual(await fresh.get('test', 'meta-bad'), badDone);
        assert.equal(badDone.error, 'bad input: kept too');
        const listed = await fresh.list('test', { limit: 10, offset: 0 });
        assert.deepEqual(
          listed.jobs.map((j) => j.id),
          ['meta-ok', 'meta-bad'],
        );
        const again = await fresh.enqueue('test', 'echo', { value: 'twice' }, { jobId: 'meta-ok' });
        assert.equal(again.created, false);
        assert.deepEqual(again.job, okDone);
      } finally {
        await fresh.close();
      }
    } finally {
      await s.close();
    }
  });

  it('Redis restarted under a running worker: it resumes and completes jobs enqueued afterwards', async (t) => {
    if (!server.private) return t.skip('needs a private redis-server');
    const s = shared('jobs-redis-restart');
    try {
      await s.worker.ready();
      const warm = await s.producer.enqueue('test', 'echo', { value: 'warm' });
      await s.producer.waitFor('test', warm.job.id, 5_000);

      // Down for a second (the worker's reconnects are refused), then back, empty.
      await server.kill?.();
      await sleep(1_000);
      await server.restart?.();
      await reconnected(s.producer);
      const started = performance.now();
      const enqueued = await Promise.all(
        Array.from({ length: 5 }, (_, i) => s.producer.enqueue('test', 'echo', { value: `after-${i}` })),
      );
      const done = await Promise.all(enqueued.map((e) => s.producer.waitFor('test', e.job.id, 15_000)));
      assert.deepEqual(
        done.map((d) => d.result),
        Array.from({ length: 5 }, (_, i) => ({ echoed: `after-${i}` })),
      );
      assert.ok(performance.now() - started < 10_000);
      assert.ok(
        s.logger.records.some((r) => r.level === 'warn' && r.msg === 'job worker: redis unavailable'),
        'the outage was logged',
      );
    } finally {
      await s.close();
    }
  });

  it('worker close() lets a running job finish; one that outlives the grace period goes back unspent', async () => {
    const s = shared('jobs-close');
    let second: ReturnType<typeof createBullmqWorker> | undefined;
    try {
      await s.worker.ready();
      const finishing = await s.producer.enqueue('test', 'gated', { gate: 'c1' });
      await within('c1 starts', s.run.gate('c1').started.promise);
      setTimeout(() => s.run.gate('c1').release.resolve(), 100);
      const stuck = await s.producer.enqueue('test', 'gated', { gate: 'c2' });
      await within('c2 starts', s.run.gate('c2').started.promise);

      const closed = await timed(s.worker.close());
      assert.ok(closed.ms >= 450 && closed.ms < 2_500, `closed in ${closed.ms} ms`);
      assert.equal((await s.producer.get('test', finishing.job.id))?.state, 'completed');
      const back = await s.producer.get('test', stuck.job.id);
      assert.deepEqual(
        { state: back?.state, error: back?.error },
        { state: 'queued', error: null },
        'aborted by close: queued again, no attempt spent',
      );

      const run = testRun();
      run.gate('c2').release.resolve();
      second = createBullmqWorker<TestJobs>({
        connection: { url: server.url },
        prefix: s.prefix,
        queues: run.processors,
        logger: s.logger,
      });
      const done = await s.producer.waitFor('test', stuck.job.id, 10_000);
      assert.equal(done.state, 'completed');
      assert.equal(done.attempts, 2);
    } finally {
      await second?.close();
      await s.close();
    }
  });
});
