/**
 * The metadata database behind the app: past imports listed and kept across restarts, a database
 * outage answered 503 with the reason and recovered from without a restart, and embedded report
 * jobs that survive the API being killed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { createSampleUpstream } from '../sample-upstream/server.ts';
import { apiChild } from './helpers/api-child.ts';
import { auth, build, KEYS, testSqliteFile } from './helpers/app.ts';
import { testDatabaseUrl } from './helpers/postgres.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';
import { timed, waitUntil } from './helpers/wait.ts';

async function sampleUpstream(t: TestContext) {
  const upstream = await createSampleUpstream({
    port: 0,
    seed: 5,
    stores: 3,
    products: 20,
    days: 40,
    linesPerDay: 60,
    endDate: '2026-06-14',
    logger: false,
  });
  t.after(() => upstream.close());
  return upstream;
}

async function tempDir(t: TestContext, label: string) {
  const dir = await mkdtemp(join(tmpdir(), `salesflow-${label}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function upload(app: Awaited<ReturnType<typeof build>>, kind: string, csv: string, name: string) {
  const boundary = 'salesflowtestboundary';
  const body =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
    `Content-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`;
  return app.inject({
    method: 'POST',
    url: `/api/v1/excel/upload?kind=${kind}`,
    headers: { ...auth('admin'), 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: body,
  });
}

test('past imports are listed newest first, filtered and paged, and kept across a restart', async (t) => {
  const upstream = await sampleUpstream(t);
  const env = {
    UPSTREAM_URL: upstream.url,
    EXPORTS_DIR: await tempDir(t, 'history'),
    DATABASE_URL: testSqliteFile(),
    ANALYTICS_TODAY: '2026-06-15',
  };
  const app = await build(t, env);
  const products = await upload(
    app,
    'products',
    'SKU,Product Name,Category,Price\nNEW-1,Widget,Tools,9.99\n',
    'p.csv',
  );
  assert.equal(products.statusCode, 200, products.body);
  const stockCsv = 'Store ID,SKU,Quantity\n999,NEW-1,5\n';
  const stock = await upload(app, 'stock', stockCsv, 's.csv');
  assert.equal(stock.statusCode, 200, stock.body);
  const refused = await upload(app, 'products', '\u0000\u0001binary', 'x.csv');
  assert.equal(refused.statusCode, 415, 'a refused file leaves no record');

  const list = await app.inject({ url: '/api/v1/excel/imports', headers: auth('admin') });
  assert.equal(list.statusCode, 200, list.body);
  const body = list.json();
  assert.equal(body.total, 2);
  assert.deepEqual(
    body.items.map((i: { importId: string }) => i.importId),
    [stock.json().importId, products.json().importId],
  );
  const [latest] = body.items;
  assert.equal(latest.kind, 'stock');
  assert.equal(latest.status, 'validated');
  assert.equal(latest.rows, 1);
  assert.equal(latest.invalid, 1, 'the unknown store is an invalid row');
  assert.deepEqual(latest.file, { name: 's.csv', bytes: Buffer.byteLength(stockCsv), format: 'csv' });
  assert.equal(latest.links.self, `/api/v1/excel/imports/${latest.importId}`);

  const get = async (query: string) =>
    (await app.inject({ url: `/api/v1/excel/imports?${query}`, headers: auth('admin') })).json();
  assert.equal((await get('kind=products')).total, 1);
  assert.equal((await get('status=validated&limit=1&offset=1')).items[0].importId, products.json().importId);
  const today = latest.createdAt.slice(0, 10);
  assert.equal((await get(`from=${today}&to=${today}`)).total, 2);
  assert.equal((await get('to=2020-01-01')).total, 0);
  const bad = await app.inject({
    url: '/api/v1/excel/imports?from=2026-06-02&to=2026-06-01',
    headers: auth('admin'),
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().errors[0].path, 'query.to');
  assert.equal((await app.inject({ url: '/api/v1/excel/imports', headers: auth('viewer') })).statusCode, 403);

  // Another instance on the same database and files: the same list, the same results.
  await app.close();
  const again = await build(t, env);
  const after = await again.inject({ url: '/api/v1/excel/imports', headers: auth('admin') });
  assert.deepEqual(after.json(), body);
  const result = await again.inject({
    url: `/api/v1/excel/imports/${products.json().importId}`,
    headers: auth('admin'),
  });
  assert.equal(result.statusCode, 200);
  assert.deepEqual(result.json(), products.json());
});

test('PostgreSQL down mid-use: 503 problems with the reason, quickly; back without a restart', async (t) => {
  const upstream = await sampleUpstream(t);
  const url = new URL(await testDatabaseUrl(t, 'outage'));
  const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  t.after(() => proxy.close());
  url.host = `127.0.0.1:${proxy.port}`;
  const app = await build(t, {
    UPSTREAM_URL: upstream.url,
    EXPORTS_DIR: await tempDir(t, 'outage'),
    DATABASE_URL: url.toString(),
    DATABASE_TIMEOUT_MS: '1500',
  });
  const list = () => app.inject({ url: '/api/v1/excel/imports', headers: auth('admin') });
  assert.equal((await list()).statusCode, 200);

  await proxy.cut();
  for (let i = 0; i < 3; i++) {
    const { value: res, ms } = await timed(list());
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    const problem = res.json();
    assert.equal(problem.type, 'urn:salesflow:problem:database-unavailable');
    assert.match(problem.detail, /metadata database is unavailable: .+/);
    assert.ok(problem.reason, 'the reason is given');
    assert.doesNotMatch(res.body, /postgres:\/\//, 'no connection string leaks');
    assert.ok(ms < 3_000, `answered in ${Math.round(ms)} ms`);
  }
  const ready = await app.inject('/ready');
  assert.equal(ready.statusCode, 503);
  assert.equal(ready.json().checks.database.ok, false);

  await proxy.restore();
  await waitUntil('the database answers again', async () => (await list()).statusCode === 200, 10_000);
  assert.equal((await app.inject('/ready')).json().checks.database.ok, true);
});

test('embedded report jobs survive the API killed with SIGKILL: the running one and the queued one', async (t) => {
  const upstream = await sampleUpstream(t);
  const exportsDir = await tempDir(t, 'restart');
  const api = await apiChild(t, {
    UPSTREAM_URL: upstream.url,
    DATABASE_URL: testSqliteFile(),
    EXPORTS_DIR: exportsDir,
    ANALYTICS_TODAY: '2026-06-15',
    JOB_CONCURRENCY: '1',
    UPSTREAM_RETRIES: '0',
  });
  const { base, start, call } = api;

  const first = start();
  await api.up();
  // The days both reports read, synced while the upstream answers.
  assert.equal((await call('/api/v1/sync', { from: '2026-04-01', to: '2026-06-14' })).status, 200);
  for (const path of ['/api/v1/catalog/stores', '/api/v1/catalog/products?limit=5000']) {
    assert.equal((await call(path)).status, 200);
  }
  upstream.faults.update({ hang: true });
  // Reads its lines from the (now hung) upstream: it stays running.
  const running = await call('/api/v1/reports/generate', {
    type: 'sales_lines',
    format: 'csv',
    from: '2026-06-10',
    to: '2026-06-12',
  });
  assert.equal(running.status, 202, JSON.stringify(running.body));
  // From the synced partitions alone, but behind the first (one job at a time): it stays queued.
  const queued = await call('/api/v1/reports/generate', { type: 'daily', format: 'pdf', date: '2026-06-12' });
  assert.equal(queued.status, 202, JSON.stringify(queued.body));
  const state = async (id: unknown) => (await call(`/api/v1/reports/status/${id}`)).body.state;
  await waitUntil('the first job runs', async () => (await state(running.body.jobId)) === 'active');
  assert.equal(await state(queued.body.jobId), 'queued');

  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  upstream.faults.update({ hang: false });

  start();
  await api.up();
  for (const job of [running, queued]) {
    await waitUntil(
      `job ${job.body.jobId} completes after the restart`,
      async () => (await state(job.body.jobId)) === 'completed',
      30_000,
    );
  }
  const status = (await call(`/api/v1/reports/status/${running.body.jobId}`)).body;
  assert.equal(status.attempts, 2, 'the interrupted attempt counts; it ran again');
  const file = await fetch(`${base}/api/v1/reports/${queued.body.jobId}/download`, {
    headers: { 'x-api-key': KEYS.admin },
  });
  assert.equal(file.status, 200);
  assert.equal(
    Buffer.from(await file.arrayBuffer())
      .subarray(0, 4)
      .toString(),
    '%PDF',
  );
});
