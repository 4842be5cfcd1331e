/**
 * GET /metrics: who may read it, and that a scrape is valid Prometheus text holding what happened:
 * requests by route pattern, upstream attempts by endpoint and outcome, cache results, partitions,
 * syncs, jobs (run in process in embedded mode; queued in Redis in shared mode) and process metrics.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { auth, build } from './helpers/app.ts';
import { json, startServer } from './helpers/http-server.ts';
import { testDatabaseUrl } from './helpers/postgres.ts';
import { find, parseExposition, total } from './helpers/prometheus.ts';
import { startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';

const TOKEN = 'a-scraper-token-0123456789';
let upstream: RunningSampleUpstream;
let exportsDir: string;
let redis: TestRedis;
before(async () => {
  upstream = await createSampleUpstream({
    port: 0,
    seed: 5,
    stores: 3,
    products: 20,
    days: 30,
    linesPerDay: 200,
    endDate: '2026-06-14',
    logger: false,
  });
  exportsDir = await mkdtemp(join(tmpdir(), 'salesflow-metrics-'));
  redis = await startRedis();
});
after(async () => {
  await upstream?.close();
  await redis?.stop();
  await rm(exportsDir, { recursive: true, force: true });
});

const env = () => ({
  UPSTREAM_URL: upstream.url,
  ANALYTICS_TODAY: '2026-06-15',
  EXPORTS_DIR: exportsDir,
  METRICS_TOKEN: TOKEN,
});
type App = Awaited<ReturnType<typeof build>>;

async function scrape(app: App) {
  const res = await app.inject({ url: '/metrics', headers: auth('admin') });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseExposition(res.body);
}

test('/metrics answers an admin key or METRICS_TOKEN, and refuses everyone else with a problem', async (t) => {
  const app = await build(t, env());
  const none = await app.inject('/metrics');
  assert.equal(none.statusCode, 401);
  assert.equal(none.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.match(none.json().detail, /METRICS_TOKEN/);
  assert.equal((await app.inject({ url: '/metrics', headers: auth('viewer') })).statusCode, 403);
  const wrong = await app.inject({
    url: '/metrics',
    headers: { authorization: 'Bearer not-the-token-at-all' },
  });
  assert.equal(wrong.statusCode, 401);
  const scraper = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(scraper.statusCode, 200);
  // The token opens /metrics only.
  const other = await app.inject({
    url: '/api/v1/sync/status',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(other.statusCode, 401);
});

test('a scrape parses as Prometheus text and counts requests, upstream calls, cache, sync, jobs, process', async (t) => {
  const app = await build(t, env());
  const stores = await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') });
  assert.equal(stores.statusCode, 200);
  assert.equal(
    (await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') })).headers['x-cache'],
    'HIT',
  );
  assert.equal(
    (await app.inject({ url: '/api/v1/reports/status/rep-nosuchjob1', headers: auth('viewer') })).statusCode,
    404,
  );
  assert.equal((await app.inject('/no/such/page/12345')).statusCode, 404);
  const sync = await app.inject({
    method: 'POST',
    url: '/api/v1/sync',
    headers: auth('admin'),
    payload: { from: '2026-06-01', to: '2026-06-05' },
  });
  assert.equal(sync.statusCode, 200, sync.body);
  const report = sync.json() as { lines: number; fetched: number; days: number };
  assert.equal(report.fetched, 5);
  const gen = await app.inject({
    method: 'POST',
    url: '/api/v1/reports/generate',
    headers: auth('analyst'),
    payload: { type: 'daily', format: 'xlsx', date: '2026-06-14' },
  });
  assert.equal(gen.statusCode, 202, gen.body);
  const job = await app.services.jobs.waitFor('reports', gen.json().jobId, 60_000);
  assert.equal(job.state, 'completed');

  const m = await scrape(app);
  for (const s of m.samples) {
    const family = s.name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(m.types.has(s.name) || m.types.has(family), `${s.name} has a # TYPE`);
  }
  // HTTP: by route pattern, never by URL.
  const http = 'salesflow_http_request_duration_seconds_count';
  assert.equal(total(m, http, { route: '/api/v1/catalog/stores', status_code: '200', method: 'GET' }), 2);
  assert.equal(total(m, http, { route: '/api/v1/reports/status/:jobId', status_code: '404' }), 1);
  assert.equal(total(m, http, { route: 'unmatched', status_code: '404' }), 1);
  assert.ok(!m.samples.some((s) => /nosuchjob|12345/.test(JSON.stringify(s.labels))));
  assert.equal(m.types.get('salesflow_http_request_duration_seconds'), 'histogram');
  // Upstream attempts by endpoint (no query string) and outcome.
  const up = 'salesflow_upstream_request_duration_seconds_count';
  assert.ok(total(m, up, { endpoint: 'GET /stores', outcome: 'ok' }) >= 1);
  assert.ok(total(m, up, { endpoint: 'GET /sales', outcome: 'ok' }) >= 5);
  assert.ok(!m.samples.some((s) => s.labels.endpoint?.includes('?')));
  // Cache-aside results.
  assert.ok(total(m, 'salesflow_cache_requests_total', { store: 'memory', result: 'miss' }) >= 1);
  assert.ok(total(m, 'salesflow_cache_requests_total', { store: 'memory', result: 'hit' }) >= 1);
  // Sync and partitions.
  assert.ok(report.lines > 0);
  assert.equal(total(m, 'salesflow_sync_lines_total'), report.lines);
  assert.equal(total(m, 'salesflow_sync_days_total', { result: 'fetched' }), 5);
  assert.equal(total(m, 'salesflow_sync_duration_seconds_count'), 1);
  assert.ok(total(m, 'salesflow_partitions_in_memory') >= 5);
  assert.ok(total(m, 'salesflow_partitions_memory_bytes') > 0);
  // Jobs: the queue's depth by state, and the attempts this process ran.
  assert.equal(total(m, 'salesflow_jobs', { queue: 'reports', state: 'completed' }), 1);
  assert.equal(total(m, 'salesflow_jobs', { queue: 'imports', state: 'queued' }), 0);
  assert.equal(
    total(m, 'salesflow_job_duration_seconds_count', {
      queue: 'reports',
      name: 'render',
      outcome: 'completed',
    }),
    1,
  );
  // Process metrics.
  assert.ok(find(m, 'salesflow_process_cpu_user_seconds_total').length === 1);
  assert.ok(total(m, 'salesflow_process_resident_memory_bytes') > 0);
  assert.ok(find(m, 'salesflow_nodejs_eventloop_lag_p99_seconds').length === 1);
});

test('upstream failures are counted per attempt with their outcome', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 503, { error: 'down' }));
  const app = await build(t, { UPSTREAM_URL: up.url, UPSTREAM_RETRIES: '2', CACHE_STALE_SECONDS: '0' });
  const res = await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') });
  assert.equal(res.statusCode, 502);
  const m = await scrape(app);
  const count = 'salesflow_upstream_request_duration_seconds_count';
  assert.equal(total(m, count, { endpoint: 'GET /stores', outcome: 'http_5xx' }), 3);
  assert.equal(total(m, count, { endpoint: 'GET /stores', outcome: 'ok' }), 0);
  assert.equal(up.requests.length, 3);
});

test('shared mode: the queue depth is read from Redis, so jobs no process here runs are counted', async (t) => {
  const app = await build(t, {
    ...env(),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: uniquePrefix('metrics'),
    DATABASE_URL: await testDatabaseUrl(t, 'metrics'),
  });
  const gen = await app.inject({
    method: 'POST',
    url: '/api/v1/reports/generate',
    headers: auth('analyst'),
    payload: { type: 'daily', format: 'xlsx', date: '2026-06-13' },
  });
  assert.equal(gen.statusCode, 202, gen.body);
  const m = await scrape(app);
  assert.equal(total(m, 'salesflow_jobs', { queue: 'reports', state: 'queued' }), 1);
  assert.equal(total(m, 'salesflow_jobs', { queue: 'reports', state: 'active' }), 0);
  assert.ok(total(m, 'salesflow_cache_requests_total', { store: 'redis' }) >= 1);
});
