/**
 * The JobQueue contract, run against both adapters: the in-process runner, and a BullMQ producer
 * with a BullMQ worker (in this process) on a private Redis. Whatever passes here may replace the
 * other.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createDatabase } from '../src/db/database.ts';
import { jobRecordsFactory } from '../src/db/repos/job-records.ts';
import { createBullmqQueue } from '../src/jobs/bullmq-queue.ts';
import { createBullmqWorker } from '../src/jobs/bullmq-worker.ts';
import { createMemoryQueue } from '../src/jobs/memory-queue.ts';
import {
  type JobInfo,
  JobNotFoundError,
  type JobQueue,
  type JobState,
  JobWaitTimeoutError,
  type UntypedJobQueue,
} from '../src/jobs/queue-types.ts';
import { testSqliteFile } from './helpers/app.ts';
import { bullPrefix, type TestJobs, type TestRun, testRun, waitForJob, within } from './helpers/jobs.ts';
import { recordingLogger, startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';

interface Instance {
  queue: JobQueue<TestJobs>;
  close(): Promise<void>;
}

interface Harness {
  name: 'memory' | 'bullmq';
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  create(run: TestRun, opts: { concurrency: number }): Promise<Instance>;
}

const silentLogger = { warn() {}, info() {} };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function contractSuite(h: Harness, variant = ''): void {
  describe(`JobQueue contract: ${h.name}${variant}`, () => {
    let run: TestRun;
    let instance: Instance | undefined;
    let jobs: JobQueue<TestJobs>;
    /** the untyped view, for helpers and for calls the registry would refuse */
    let raw: UntypedJobQueue;

    const start = async (concurrency = 2) => {
      instance = await h.create(run, { concurrency });
      jobs = instance.queue;
      raw = jobs as unknown as UntypedJobQueue;
    };

    if (h.setup) before(() => h.setup?.());
    if (h.teardown) after(() => h.teardown?.());
    beforeEach(() => {
      run = testRun();
    });
    afterEach(async () => {
      await instance?.close();
      instance = undefined;
    });

    it('runs a job queued → active → completed, with progress visible through get', async () => {
      await start();
      assert.equal(jobs.kind, h.name);
      await jobs.ping();
      const { job, created } = await jobs.enqueue('test', 'gated', { gate: 'g1', progress: 40 });
      assert.equal(created, true);
      assert.match(job.id, /^[A-Za-z0-9._-]+$/);
      assert.match(job.createdAt, ISO);
      assert.deepEqual(
        { ...job, id: '', createdAt: '' },
        {
          id: '',
          queue: 'test',
          name: 'gated',
          payload: { gate: 'g1', progress: 40 },
          state: 'queued',
          progress: 0,
          attempts: 0,
          createdAt: '',
          startedAt: null,
          finishedAt: null,
          result: null,
          error: null,
        },
      );

      await within('the job starts', run.gate('g1').started.promise);
      const active = await waitForJob(raw, 'test', job.id, (j) => j.progress === 40);
      assert.equal(active.state, 'active');
      assert.equal(active.attempts, 1);
      assert.match(active.startedAt ?? '', ISO);
      assert.equal(active.finishedAt, null);
      assert.equal(active.result, null);
      assert.equal((await jobs.list('test', { states: ['active'], limit: 10, offset: 0 })).total, 1);

      run.gate('g1').release.resolve();
      const done = await jobs.waitFor('test', job.id, 5_000);
      assert.equal(done.name, 'gated');
      assert.deepEqual(
        { state: done.state, progress: done.progress, attempts: done.attempts, result: done.result },
        { state: 'completed', progress: 100, attempts: 1, result: { gate: 'g1' } },
      );
      assert.equal(done.error, null);
      assert.equal(done.createdAt, job.createdAt);
      assert.ok(done.finishedAt && done.startedAt && done.finishedAt >= done.startedAt);
      assert.deepEqual(await jobs.get('test', job.id), done);
      assert.equal(await jobs.get('test', 'no-such-job'), null);
      assert.equal(run.executions.get(job.id), 1);
    });

    it('clamps progress to 0..100', async () => {
      await start();
      const { job } = await jobs.enqueue('test', 'gated', { gate: 'p1', progress: 150 });
      await within('the job starts', run.gate('p1').started.promise);
      assert.equal((await waitForJob(raw, 'test', job.id, (j) => j.progress > 0)).progress, 100);
      run.gate('p1').release.resolve();
      await jobs.waitFor('test', job.id, 5_000);
    });

    it('payloads and results are JSON: a Date arrives as a string', async () => {
      await start();
      const { job } = await jobs.enqueue('test', 'json', { when: new Date(86_400_000) });
      assert.deepEqual(job.payload, { when: '1970-01-02T00:00:00.000Z' });
      const done = await jobs.waitFor('test', job.id, 5_000);
      assert.deepEqual(done.result, { seen: 'string', at: '1970-01-01T00:00:00.000Z' });
    });

    it('deduplicates by jobId: the existing job comes back while queued, active or completed', async () => {
      await start();
      const first = await jobs.enqueue('test', 'gated', { gate: 'd1' }, { jobId: 'report-d1' });
      assert.equal(first.created, true);
      assert.equal(first.job.id, 'report-d1');
      await within('the job starts', run.gate('d1').started.promise);
      const again = await jobs.enqueue('test', 'gated', { gate: 'other' }, { jobId: 'report-d1' });
      assert.equal(again.created, false);
      assert.equal(again.job.id, 'report-d1');
      assert.deepEqual(again.job.payload, { gate: 'd1' });
      assert.equal(again.job.state, 'active');

      run.gate('d1').release.resolve();
      await jobs.waitFor('test', 'report-d1', 5_000);
      const afterDone = await jobs.enqueue('test', 'gated', { gate: 'd1' }, { jobId: 'report-d1' });
      assert.equal(afterDone.created, false);
      assert.equal(afterDone.job.state, 'completed');
      assert.deepEqual(afterDone.job.result, { gate: 'd1' });
      assert.equal(run.executions.get('report-d1'), 1);

      // Concurrent enqueues of a new id: one creates it, the others get it.
      const burst = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          jobs.enqueue('test', 'echo', { value: String(i) }, { jobId: 'burst-1' }),
        ),
      );
      assert.equal(burst.filter((r) => r.created).length, 1);
      for (const r of burst) assert.equal(r.job.id, 'burst-1');
      const winner = burst.find((r) => r.created)?.job.payload;
      const done = await jobs.waitFor('test', 'burst-1', 5_000);
      assert.deepEqual(done.payload, winner);
      assert.equal(run.executions.get('burst-1'), 1);
    });

    it('an id whose job failed runs again under that id, with the new payload', async () => {
      await start();
      const first = await jobs.enqueue('test', 'maybe', { fail: true }, { jobId: 'again-1' });
      const failed = await jobs.waitFor('test', 'again-1', 5_000);
      assert.equal(failed.state, 'failed');
      assert.equal(failed.error, 'asked to fail');

      const rerun = await jobs.enqueue('test', 'maybe', { fail: false }, { jobId: 'again-1' });
      assert.equal(rerun.created, true);
      assert.equal(rerun.job.id, 'again-1');
      assert.deepEqual(
        { state: rerun.job.state, attempts: rerun.job.attempts, error: rerun.job.error },
        { state: 'queued', attempts: 0, error: null },
      );
      assert.deepEqual(rerun.job.payload, { fail: false });
      assert.equal(rerun.job.finishedAt, null);
      const done = await jobs.waitFor('test', 'again-1', 5_000);
      assert.deepEqual(
        { state: done.state, attempts: done.attempts, result: done.result, error: done.error },
        { state: 'completed', attempts: 1, result: { ok: true }, error: null },
      );
      assert.equal(done.createdAt, first.job.createdAt);
      assert.equal(run.executions.get('again-1'), 2);
    });

    it('retries with exponential backoff, then succeeds; attempts are counted', async () => {
      await start();
      const { job } = await jobs.enqueue(
        'test',
        'flaky',
        { key: 'f1', failures: 2 },
        { attempts: 3, backoffMs: 200 },
      );
      // Between attempts the job is queued again, with the last error to show.
      const waiting = await waitForJob(raw, 'test', job.id, (j) => j.attempts === 1 && j.state === 'queued');
      assert.equal(waiting.error, 'flaky failure 1');
      assert.equal(waiting.finishedAt, null);

      const done = await jobs.waitFor('test', job.id, 5_000);
      assert.deepEqual(
        { state: done.state, attempts: done.attempts, result: done.result, error: done.error },
        { state: 'completed', attempts: 3, result: { attempt: 3 }, error: null },
      );
      const starts = run.starts.get('f1') ?? [];
      assert.deepEqual(
        starts.map((s) => s.attempt),
        [1, 2, 3],
      );
      const [a, b, c] = starts.map((s) => s.at) as [number, number, number];
      assert.ok(b - a >= 190, `first retry waited ${b - a} ms (backoff 200)`);
      assert.ok(c - b >= 390, `second retry waited ${c - b} ms (backoff 400)`);
    });

    it('a permanent error fails the job at once, with its message', async () => {
      await start();
      const { job } = await jobs.enqueue('test', 'permanent', { reason: 'no such store' }, { attempts: 5 });
      const done = await jobs.waitFor('test', job.id, 5_000);
      assert.deepEqual(
        { state: done.state, attempts: done.attempts, error: done.error, result: done.result },
        { state: 'failed', attempts: 1, error: 'bad input: no such store', result: null },
      );
      assert.match(done.finishedAt ?? '', ISO);
      assert.equal(run.executions.get(job.id), 1);
    });

    it('transient errors that exhaust the attempts fail the job with the last error', async () => {
      await start();
      const { job } = await jobs.enqueue(
        'test',
        'flaky',
        { key: 'f2', failures: 99 },
        { attempts: 2, backoffMs: 50 },
      );
      const done = await jobs.waitFor('test', job.id, 5_000);
      assert.deepEqual(
        { state: done.state, attempts: done.attempts, error: done.error, result: done.result },
        { state: 'failed', attempts: 2, error: 'flaky failure 2', result: null },
      );
      assert.equal(run.executions.get(job.id), 2);
    });

    it('lists by state, grouped active, queued, completed, failed, and pages', async () => {
      await start(1);
      const completed: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { job } = await jobs.enqueue('test', 'echo', { value: `e${i}` });
        await jobs.waitFor('test', job.id, 5_000);
        completed.push(job.id);
      }
      const failed: string[] = [];
      for (let i = 0; i < 2; i++) {
        const { job } = await jobs.enqueue('test', 'permanent', { reason: `p${i}` });
        await jobs.waitFor('test', job.id, 5_000);
        failed.push(job.id);
      }
      const blocker = await jobs.enqueue('test', 'gated', { gate: 'list' });
      await within('the blocker starts', run.gate('list').started.promise);
      // Concurrency 1: these wait behind the blocker.
      const queued = [
        (await jobs.enqueue('test', 'echo', { value: 'q0' })).job.id,
        (await jobs.enqueue('test', 'echo', { value: 'q1' })).job.id,
      ];

      const ids = (r: { jobs: JobInfo[] }) => r.jobs.map((j) => j.id);
      const page = (states: JobState[] | undefined, offset: number, limit: number) =>
        jobs.list('test', { ...(states ? { states } : {}), offset, limit });

      const doneAll = await page(['completed'], 0, 10);
      assert.equal(doneAll.total, 5);
      assert.deepEqual(new Set(ids(doneAll)), new Set(completed));
      const finishedAt = doneAll.jobs.map((j) => j.finishedAt ?? '');
      assert.deepEqual(finishedAt, [...finishedAt].sort().reverse(), 'latest finished first');
      assert.deepEqual(ids(doneAll)[0], completed[4]);

      const pages = [
        await page(['completed'], 0, 2),
        await page(['completed'], 2, 2),
        await page(['completed'], 4, 2),
      ];
      assert.deepEqual(
        pages.map((p) => p.jobs.length),
        [2, 2, 1],
      );
      for (const p of pages) assert.equal(p.total, 5);
      assert.deepEqual(pages.flatMap(ids), ids(doneAll));
      assert.deepEqual(await page(['completed'], 5, 2), { jobs: [], total: 5 });

      const failedList = await page(['failed'], 0, 10);
      assert.equal(failedList.total, 2);
      assert.deepEqual(new Set(ids(failedList)), new Set(failed));
      for (const j of failedList.jobs) assert.equal(j.state, 'failed');

      const queuedList = await page(['queued'], 0, 10);
      assert.equal(queuedList.total, 2);
      assert.deepEqual(new Set(ids(queuedList)), new Set(queued));
      for (const j of queuedList.jobs) assert.equal(j.state, 'queued');

      const waiting = await page(['queued', 'active'], 0, 10);
      assert.equal(waiting.total, 3);
      assert.deepEqual(
        waiting.jobs.map((j) => j.state),
        ['active', 'queued', 'queued'],
      );
      assert.equal(waiting.jobs[0]?.id, blocker.job.id);

      const everything = await page(undefined, 0, 100);
      assert.equal(everything.total, 10);
      assert.deepEqual(
        everything.jobs.map((j) => j.state),
        ['active', 'queued', 'queued', ...Array(5).fill('completed'), 'failed', 'failed'],
      );
      // A page that spans two states.
      const spanning = await page(undefined, 2, 3);
      assert.deepEqual(ids(spanning), ids(everything).slice(2, 5));

      run.gate('list').release.resolve();
      for (const id of queued) assert.equal((await jobs.waitFor('test', id, 5_000)).state, 'completed');
    });

    it('waitFor rejects on timeout, and for a job that does not exist', async () => {
      await start();
      const { job } = await jobs.enqueue('test', 'gated', { gate: 'slow' });
      const started = performance.now();
      await assert.rejects(jobs.waitFor('test', job.id, 300), (err) => {
        assert.ok(err instanceof JobWaitTimeoutError);
        assert.equal(err.jobId, job.id);
        assert.match(err.message, /did not finish within 300 ms/);
        return true;
      });
      const waited = performance.now() - started;
      assert.ok(waited >= 290 && waited < 1_500, `waited ${waited} ms`);
      await assert.rejects(jobs.waitFor('test', 'never-enqueued', 1_000), JobNotFoundError);
      run.gate('slow').release.resolve();
      assert.equal((await jobs.waitFor('test', job.id, 5_000)).state, 'completed');
    });

    it('refuses bad ids, options and filters the same way', async () => {
      await start();
      for (const jobId of ['42', '-7', 'a:b', '', 'x'.repeat(129), 'has space']) {
        await assert.rejects(jobs.enqueue('test', 'echo', { value: 'x' }, { jobId }), RangeError, jobId);
      }
      await assert.rejects(jobs.enqueue('test', 'echo', { value: 'x' }, { attempts: 0 }), RangeError);
      await assert.rejects(jobs.enqueue('test', 'echo', { value: 'x' }, { backoffMs: -1 }), RangeError);
      await assert.rejects(jobs.list('test', { limit: 0, offset: 0 }), RangeError);
      await assert.rejects(jobs.list('test', { limit: 10, offset: -1 }), RangeError);
      await assert.rejects(
        raw.list('test', { states: ['done' as JobState], limit: 10, offset: 0 }),
        RangeError,
      );
      await assert.rejects(raw.enqueue('bad:queue', 'echo', {}), RangeError);
      assert.deepEqual(await jobs.list('test', { limit: 10, offset: 0 }), { jobs: [], total: 0 });
    });
  });
}

contractSuite({
  name: 'memory',
  async create(run, { concurrency }) {
    const queue = createMemoryQueue<TestJobs>({
      processors: run.processors,
      concurrency,
      logger: recordingLogger(),
      closeTimeoutMs: 1_000,
    });
    return { queue, close: () => queue.close() };
  },
});

// The embedded queue as the API runs it: every transition written to the metadata database.
contractSuite(
  {
    name: 'memory',
    async create(run, { concurrency }) {
      const db = createDatabase({ kind: 'sqlite', file: testSqliteFile(), timeoutMs: 2_000 }, silentLogger);
      await db.migrate();
      const queue = createMemoryQueue<TestJobs>({
        processors: run.processors,
        concurrency,
        logger: recordingLogger(),
        closeTimeoutMs: 1_000,
        journal: jobRecordsFactory(db),
      });
      return {
        queue,
        close: async () => {
          await queue.close();
          await db.close();
        },
      };
    },
  },
  ' with a SQLite journal',
);

let server: TestRedis | undefined;
contractSuite({
  name: 'bullmq',
  async setup() {
    server = await startRedis();
  },
  async teardown() {
    await server?.stop();
  },
  async create(run, { concurrency }) {
    const prefix = bullPrefix(uniquePrefix('jobs-contract'));
    const logger = recordingLogger();
    const queue = createBullmqQueue<TestJobs>({ redis: { url: server!.url }, prefix, logger });
    const worker = createBullmqWorker<TestJobs>({
      connection: { url: server!.url },
      prefix,
      queues: run.processors,
      concurrency,
      logger,
      closeTimeoutMs: 1_000,
    });
    await worker.ready();
    return {
      queue,
      async close() {
        await worker.close();
        await queue.close();
      },
    };
  },
});
