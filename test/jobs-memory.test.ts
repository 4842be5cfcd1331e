/**
 * What only the in-process runner does (retention in memory, concurrency, a bounded close), the
 * pure helpers both adapters share, and the registry's compile-time checks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertJobId,
  backoffDelayMs,
  bindLogger,
  normalizeEnqueueOptions,
  normalizeListFilter,
  normalizeProgress,
  pageAcrossStates,
} from '../src/jobs/job-fns.ts';
import { createMemoryQueue } from '../src/jobs/memory-queue.ts';
import {
  type JobLogger,
  type JobQueue,
  PermanentJobError,
  QueueUnavailableError,
  type UntypedJobQueue,
} from '../src/jobs/queue-types.ts';
import { type TestJobs, testRun, waitForJob, within } from './helpers/jobs.ts';
import { recordingLogger } from './helpers/redis.ts';

describe('memory queue', () => {
  it('keeps at most `count` finished jobs per state, dropping the oldest', async () => {
    const run = testRun();
    const jobs = createMemoryQueue<TestJobs>({
      processors: run.processors,
      logger: recordingLogger(),
      retention: { completed: { count: 3, ageMs: 60_000 }, failed: { count: 1, ageMs: 60_000 } },
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { job } = await jobs.enqueue('test', 'echo', { value: String(i) });
        await jobs.waitFor('test', job.id, 1_000);
        ids.push(job.id);
      }
      const failed: string[] = [];
      for (let i = 0; i < 2; i++) {
        const { job } = await jobs.enqueue('test', 'permanent', { reason: String(i) });
        await jobs.waitFor('test', job.id, 1_000);
        failed.push(job.id);
      }
      const kept = await jobs.list('test', { states: ['completed'], limit: 10, offset: 0 });
      assert.deepEqual(
        kept.jobs.map((j) => j.id),
        ids.slice(2).reverse(),
      );
      assert.equal(await jobs.get('test', ids[0] as string), null);
      assert.equal((await jobs.list('test', { states: ['failed'], limit: 10, offset: 0 })).total, 1);
      assert.equal(await jobs.get('test', failed[0] as string), null);
      // A dropped id is simply created again.
      const again = await jobs.enqueue('test', 'echo', { value: 'x' }, { jobId: 'dropped' });
      assert.equal(again.created, true);
    } finally {
      await jobs.close();
    }
  });

  it('runs at most `concurrency` jobs of a queue at once', async () => {
    const run = testRun();
    const jobs = createMemoryQueue<TestJobs>({
      processors: run.processors,
      logger: recordingLogger(),
      concurrency: 2,
    });
    try {
      const ids = [];
      for (const gate of ['a', 'b', 'c']) ids.push((await jobs.enqueue('test', 'gated', { gate })).job.id);
      await within('two start', Promise.all([run.gate('a').started.promise, run.gate('b').started.promise]));
      const states = await Promise.all(ids.map(async (id) => (await jobs.get('test', id))?.state));
      assert.deepEqual(states, ['active', 'active', 'queued']);
      run.gate('a').release.resolve();
      await within('the third starts', run.gate('c').started.promise);
      run.gate('b').release.resolve();
      run.gate('c').release.resolve();
      for (const id of ids) assert.equal((await jobs.waitFor('test', id, 1_000)).state, 'completed');
    } finally {
      await jobs.close();
    }
  });

  it('close() waits for running jobs, aborts them after closeTimeoutMs, and refuses calls after', async () => {
    const run = testRun();
    const logger = recordingLogger();
    const jobs = createMemoryQueue<TestJobs>({ processors: run.processors, logger, closeTimeoutMs: 300 });
    const finishing = await jobs.enqueue('test', 'gated', { gate: 'soon' });
    const stuck = await jobs.enqueue('test', 'gated', { gate: 'never' });
    await within(
      'both start',
      Promise.all([run.gate('soon').started.promise, run.gate('never').started.promise]),
    );
    const waiting = jobs.waitFor('test', stuck.job.id, 10_000);
    setTimeout(() => run.gate('soon').release.resolve(), 50);

    const started = performance.now();
    await jobs.close();
    const took = performance.now() - started;
    assert.ok(took >= 280 && took < 1_000, `close took ${took} ms`);
    assert.ok(logger.records.some((r) => r.msg === 'jobs still running at close: aborting them'));
    await assert.rejects(waiting, QueueUnavailableError);
    await assert.rejects(jobs.enqueue('test', 'echo', { value: 'late' }), /job queue unavailable: closed/);
    await assert.rejects(jobs.get('test', finishing.job.id), QueueUnavailableError);
    await assert.rejects(jobs.ping(), QueueUnavailableError);
    await jobs.close();
  });

  it('close() is bounded even when a processor ignores its signal', async () => {
    const jobs = createMemoryQueue<TestJobs>({
      processors: {
        test: {
          ...testRun().processors.test,
          echo: () => new Promise(() => undefined),
        },
      },
      logger: recordingLogger(),
      closeTimeoutMs: 200,
    });
    const { job } = await jobs.enqueue('test', 'echo', { value: 'forever' });
    await waitForJob(jobs as unknown as UntypedJobQueue, 'test', job.id, (j) => j.state === 'active');
    const started = performance.now();
    await jobs.close();
    const took = performance.now() - started;
    assert.ok(took >= 380 && took < 1_000, `close took ${took} ms`);
  });

  it('logs attempts that will be retried, and final failures', async () => {
    const run = testRun();
    const logger = recordingLogger();
    const jobs = createMemoryQueue<TestJobs>({ processors: run.processors, logger });
    try {
      const { job } = await jobs.enqueue(
        'test',
        'flaky',
        { key: 'l', failures: 5 },
        { attempts: 2, backoffMs: 10 },
      );
      await jobs.waitFor('test', job.id, 1_000);
      const lines = logger.records.filter((r) => r.level === 'warn').map((r) => [r.msg, r.obj]);
      assert.deepEqual(lines, [
        [
          'job attempt failed; it will be retried',
          {
            queue: 'test',
            jobId: job.id,
            jobName: 'flaky',
            attempt: 1,
            err: 'flaky failure 1',
            retryInMs: 10,
          },
        ],
        [
          'job failed',
          {
            queue: 'test',
            jobId: job.id,
            jobName: 'flaky',
            attempt: 2,
            err: 'flaky failure 2',
            permanent: false,
          },
        ],
      ]);
    } finally {
      await jobs.close();
    }
  });

  it('the registry types enqueue, get and the processors (checked by tsc)', async () => {
    const run = testRun();
    const jobs: JobQueue<TestJobs> = createMemoryQueue<TestJobs>({
      processors: run.processors,
      logger: recordingLogger(),
    });
    try {
      const { job } = await jobs.enqueue('test', 'echo', { value: 'typed' });
      const echoed: { echoed: string } | null = job.result;
      assert.equal(echoed, null);
      const got = await jobs.waitFor('test', job.id, 1_000);
      if (got.name === 'echo') assert.equal(got.result?.echoed, 'typed');
      else assert.fail(`expected an echo job, got ${got.name}`);
      // @ts-expect-error: not a queue of the registry
      await assert.rejects(jobs.enqueue('nope', 'echo', { value: 'x' }), RangeError);
      // @ts-expect-error: not a job of the queue
      await assert.rejects(jobs.enqueue('test', 'nope', {}), RangeError);
      const typeOnly = () => {
        // @ts-expect-error: echo's payload is { value: string }
        void jobs.enqueue('test', 'echo', { value: 1 });
        const onlyEcho = { test: { echo: run.processors.test.echo } };
        // @ts-expect-error: every job name of a queue needs a processor
        createMemoryQueue<TestJobs>({ processors: onlyEcho, logger: recordingLogger() });
      };
      void typeOnly;
    } finally {
      await jobs.close();
    }
  });
});

describe('job helpers', () => {
  it('pages over jobs grouped by state', () => {
    const counts = [
      { state: 'active', count: 1 },
      { state: 'queued', count: 0 },
      { state: 'completed', count: 5 },
      { state: 'failed', count: 2 },
    ];
    assert.deepEqual(pageAcrossStates(counts, 0, 3), [
      { state: 'active', start: 0, count: 1 },
      { state: 'completed', start: 0, count: 2 },
    ]);
    assert.deepEqual(pageAcrossStates(counts, 4, 3), [
      { state: 'completed', start: 3, count: 2 },
      { state: 'failed', start: 0, count: 1 },
    ]);
    assert.deepEqual(pageAcrossStates(counts, 7, 10), [{ state: 'failed', start: 1, count: 1 }]);
    assert.deepEqual(pageAcrossStates(counts, 8, 10), []);
  });

  it('backs off exponentially from the base', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => backoffDelayMs(1_000, n)),
      [1_000, 2_000, 4_000, 8_000],
    );
    assert.equal(backoffDelayMs(0, 3), 0);
  });

  it('validates ids, options, filters and progress', () => {
    for (const ok of ['report-1', 'a.b_c-d', 'x'.repeat(128), '1e5', '00ff']) assertJobId(ok);
    for (const bad of ['1', '-1', '007', 'a:b', 'a b', '', 'x'.repeat(129), 'é']) {
      assert.throws(() => assertJobId(bad), RangeError, bad);
    }
    assert.deepEqual(normalizeEnqueueOptions(), { jobId: undefined, attempts: 3, backoffMs: 1_000 });
    assert.throws(() => normalizeEnqueueOptions({ attempts: 1.5 }), RangeError);
    assert.throws(() => normalizeEnqueueOptions({ backoffMs: Number.NaN }), RangeError);
    assert.deepEqual(normalizeListFilter({ states: ['failed', 'active', 'failed'], limit: 5, offset: 0 }), {
      states: ['active', 'failed'],
      limit: 5,
      offset: 0,
    });
    assert.deepEqual(normalizeListFilter({ states: [], limit: 1, offset: 0 }).states, [
      'active',
      'queued',
      'completed',
      'failed',
    ]);
    assert.throws(() => normalizeListFilter({ limit: 1_001, offset: 0 }), RangeError);
    assert.deepEqual([150, -3, 42.5, Number.NaN, '50'].map(normalizeProgress), [100, 0, 42.5, null, null]);
  });

  it('binds job fields to log lines, through child() when the logger has it', () => {
    const flat = recordingLogger();
    bindLogger(flat, { jobId: 'j1' }).info({ step: 2 }, 'rendering');
    assert.deepEqual(flat.records, [{ level: 'info', obj: { jobId: 'j1', step: 2 }, msg: 'rendering' }]);

    const bound: Record<string, unknown>[] = [];
    const withChild: JobLogger = {
      error() {},
      warn() {},
      child(bindings) {
        bound.push(bindings);
        return flat;
      },
    };
    bindLogger(withChild, { jobId: 'j2' }).warn({}, 'slow');
    assert.deepEqual(bound, [{ jobId: 'j2' }]);
    assert.deepEqual(flat.records.at(-1), { level: 'warn', obj: {}, msg: 'slow' });
  });

  it('PermanentJobError keeps its message and name', () => {
    const err = new PermanentJobError('unknown store 42');
    assert.equal(err.name, 'PermanentJobError');
    assert.equal(err.message, 'unknown store 42');
    assert.ok(err instanceof Error);
  });
});
