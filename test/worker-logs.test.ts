/**
 * The worker process (src/worker.ts, as a child process): its log lines carry pid and hostname like
 * the API's, each job's start and end are logged at info with id, type, duration and outcome, and
 * WORKER_METRICS_PORT serves the jobs' metrics behind METRICS_TOKEN.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { auth, build, testEnv } from './helpers/app.ts';
import { testDatabaseUrl } from './helpers/postgres.ts';
import { parseExposition, total } from './helpers/prometheus.ts';
import { startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';
import { waitUntil } from './helpers/wait.ts';

const TOKEN = 'worker-scrape-token-0001';
let upstream: RunningSampleUpstream;
let redis: TestRedis;
let exportsDir: string;
before(async () => {
  upstream = await createSampleUpstream({
    port: 0,
    seed: 3,
    stores: 3,
    products: 20,
    days: 20,
    linesPerDay: 100,
    endDate: '2026-06-14',
    logger: false,
  });
  redis = await startRedis();
  exportsDir = await mkdtemp(join(tmpdir(), 'salesflow-worker-logs-'));
});
after(async () => {
  await upstream?.close();
  await redis?.stop();
  await rm(exportsDir, { recursive: true, force: true });
});

test('worker lines carry pid and hostname; each job logs its start and end at info; its metrics port', async (t) => {
  const env = {
    UPSTREAM_URL: upstream.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: uniquePrefix('wlogs'),
    DATABASE_URL: await testDatabaseUrl(t, 'worker_logs'),
    ANALYTICS_TODAY: '2026-06-15',
    EXPORTS_DIR: exportsDir,
    REPORT_LINK_SECRET: 'a-test-secret-of-at-least-32-characters!',
  };
  const app = await build(t, env);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    env: {
      ...process.env,
      ...testEnv(env),
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      WORKER_METRICS_PORT: '0',
      METRICS_TOKEN: TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await waitUntil('the worker says it started', async () => out.includes('worker started'), 30_000);

  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/reports/generate',
    headers: auth('analyst'),
    payload: { type: 'daily', format: 'xlsx', date: '2026-06-14' },
  });
  assert.equal(res.statusCode, 202, res.body);
  const { jobId } = res.json() as { jobId: string };
  const job = await app.services.jobs.waitFor('reports', jobId, 60_000);
  assert.equal(job.state, 'completed', job.error ?? '');
  await waitUntil('the worker logs the end of the job', async () => out.includes('job finished'), 10_000);

  // The worker's own metrics: the job ran there, not in the API.
  const port = (JSON.parse(out.split('\n').find((l) => l.includes('worker metrics at'))!) as { port: number })
    .port;
  const url = `http://127.0.0.1:${port}/metrics`;
  assert.equal((await fetch(url)).status, 401);
  const scrape = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(scrape.status, 200);
  const m = parseExposition(await scrape.text());
  assert.equal(
    total(m, 'salesflow_job_duration_seconds_count', {
      queue: 'reports',
      name: 'render',
      outcome: 'completed',
    }),
    1,
  );
  assert.ok(total(m, 'salesflow_process_resident_memory_bytes') > 0);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, out);

  const lines = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.length >= 3, out);
  for (const line of lines) {
    assert.equal(line.pid, child.pid, JSON.stringify(line));
    assert.equal(line.hostname, hostname());
    assert.equal(line.role, 'worker');
  }
  const started = lines.find((l) => l.msg === 'job started');
  const finished = lines.find((l) => l.msg === 'job finished');
  assert.ok(started && finished, out);
  assert.equal(started.level, 30);
  assert.equal(started.jobId, jobId);
  assert.equal(started.type, 'render');
  assert.equal(started.queue, 'reports');
  assert.equal(finished.level, 30);
  assert.equal(finished.jobId, jobId);
  assert.equal(finished.outcome, 'completed');
  assert.equal(typeof finished.ms, 'number');
});
