/**
 * Analytics in both modes over the sample upstream: the embedded and the Redis adapters give the
 * same figures, and in shared mode a second instance reuses the partitions the first one synced.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { SalesAnswer } from '../src/models/analytics.ts';
import { auth, build } from './helpers/app.ts';
import { fileDatabase } from './helpers/postgres.ts';
import { startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';

let redis: TestRedis;
let database: Awaited<ReturnType<typeof fileDatabase>>;
let databaseUrl: string;
let upstream: RunningSampleUpstream;
before(async () => {
  redis = await startRedis();
  database = await fileDatabase('modes');
  databaseUrl = database.url;
  upstream = await createSampleUpstream({
    port: 0,
    seed: 7,
    stores: 4,
    products: 30,
    days: 120,
    linesPerDay: 300,
    endDate: '2026-06-14',
    logger: false,
  });
});
after(async () => {
  await database?.drop();
  await upstream?.close();
  await redis?.stop();
});

const env = () => ({ UPSTREAM_URL: upstream.url, ANALYTICS_TODAY: '2026-06-15', UPSTREAM_PAGE_SIZE: '97' });
const salesCalls = () => upstream.faults.snapshot().requests['GET /sales'] ?? 0;

const queries = [
  '/api/v1/analytics/sales?groupBy=store',
  '/api/v1/analytics/sales?groupBy=brand&compare=previous_year&from=2026-05-01&to=2026-05-31',
  '/api/v1/analytics/sales?groupBy=region,week&compare=rolling_7d&category=Electronics',
  '/api/v1/analytics/sales?groupBy=product&compare=same_weekday_4w&from=2026-06-10&to=2026-06-10&limit=5',
  '/api/v1/analytics/sales?groupBy=month,category&from=2026-03-01&to=2026-06-14&compare=none',
  '/api/v1/analytics/stock?status=low&limit=20',
];

function withoutMeta(body: Record<string, unknown>) {
  const { meta, ...rest } = body;
  return rest;
}

test('embedded and Redis modes answer every query with the same figures', async (t) => {
  const embedded = await build(t, env());
  const shared = await build(t, {
    ...env(),
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    REDIS_KEY_PREFIX: uniquePrefix('modes'),
  });
  for (const url of queries) {
    const a = await embedded.inject({ url, headers: auth('viewer') });
    const b = await shared.inject({ url, headers: auth('viewer') });
    assert.equal(a.statusCode, 200, `${url}: ${a.body.slice(0, 300)}`);
    assert.equal(b.statusCode, 200, `${url}: ${b.body.slice(0, 300)}`);
    assert.deepEqual(withoutMeta(b.json()), withoutMeta(a.json()), url);
    if (url.includes('sales')) assert.ok(a.json().kpis.revenue > 0, `${url} has data`);
  }
});

test('shared mode: a second instance reuses the partitions the first one synced', async (t) => {
  const prefix = uniquePrefix('reuse');
  const first = await build(t, {
    ...env(),
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    REDIS_KEY_PREFIX: prefix,
  });
  const second = await build(t, {
    ...env(),
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    REDIS_KEY_PREFIX: prefix,
  });
  const sync = await first.inject({
    method: 'POST',
    url: '/api/v1/sync',
    headers: auth('admin'),
    payload: { from: '2026-04-01', to: '2026-06-14' },
  });
  assert.equal(sync.statusCode, 200, sync.body);
  assert.equal(sync.json().days, 75);
  assert.equal(sync.json().fetched, 75);
  assert.ok(sync.json().lines > 0);

  const before = salesCalls();
  const res = await second.inject({
    url: '/api/v1/analytics/sales?from=2026-05-01&to=2026-06-14&groupBy=store&compare=none',
    headers: auth('viewer'),
  });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().meta.complete, true);
  assert.equal(salesCalls(), before, 'no /sales call: every day came from Redis');

  const status = await second.inject({ url: '/api/v1/sync/status', headers: auth('admin') });
  assert.equal(status.statusCode, 200);
  assert.equal(status.json().watermark, '2026-06-14');
  assert.ok(status.json().partitions.held >= 75);
  assert.equal(status.json().lastSync.fetched, 75);

  const viewer = await first.inject({ url: '/api/v1/sync/status', headers: auth('viewer') });
  assert.equal(viewer.statusCode, 403);
});

test('an answer is cached per data version: the second identical query says cached', async (t) => {
  const app = await build(t, env());
  const url = '/api/v1/analytics/sales?groupBy=store&from=2026-05-01&to=2026-05-10';
  const a = await app.inject({ url, headers: auth('viewer') });
  const b = await app.inject({ url, headers: auth('viewer') });
  assert.equal(a.json().meta.cached, false);
  assert.equal(b.json().meta.cached, true);
  assert.deepEqual(withoutMeta(b.json()), withoutMeta(a.json()));
});

/** The answer's text with the two members that describe one serving (not the answer) blanked. */
function servingBlanked(body: string): string {
  const blanked = body.replace(/"cached":(true|false),"computeMs":[0-9.e+-]+/, '"cached":_,"computeMs":_');
  assert.notEqual(blanked, body, 'meta.cached and meta.computeMs, in this order');
  return blanked;
}

test('a cached answer is sent as the bytes of the computed one, as the response schema writes them, in both modes', async (t) => {
  const apps = {
    embedded: await build(t, env()),
    shared: await build(t, {
      ...env(),
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl,
      REDIS_KEY_PREFIX: uniquePrefix('bytes'),
    }),
  };
  const urls = [
    '/api/v1/analytics/sales?groupBy=store&compare=previous_year&from=2026-05-01&to=2026-05-31',
    // a week grouping: the service builds `partial` before `revenuePerEmployee`, the schema
    // writes them the other way round, so bytes that skipped the schema would show it
    '/api/v1/analytics/sales?groupBy=store,week&compare=rolling_7d&from=2026-05-01&to=2026-05-20',
  ];
  for (const [mode, app] of Object.entries(apps)) {
    for (const url of urls) {
      const miss = await app.inject({ url, headers: auth('viewer') });
      const hit = await app.inject({ url, headers: auth('viewer') });
      for (const [name, res] of [
        ['miss', miss],
        ['hit', hit],
      ] as const) {
        const where = `${mode} ${name} ${url}`;
        assert.equal(res.statusCode, 200, `${where}: ${res.body.slice(0, 300)}`);
        assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', where);
        assert.equal(Number(res.headers['content-length']), res.rawPayload.length, where);
        assert.equal(res.headers.warning, undefined, where);
        // What fastify's zod serializer would have sent for this answer, byte for byte.
        assert.equal(res.body, JSON.stringify(SalesAnswer.parse(res.json())), where);
      }
      assert.equal(miss.headers['x-cache'], 'MISS', `${mode} ${url}`);
      assert.equal(hit.headers['x-cache'], 'HIT', `${mode} ${url}`);
      assert.equal(miss.json().meta.cached, false);
      assert.equal(hit.json().meta.cached, true);
      assert.equal(typeof hit.json().meta.computeMs, 'number');
      assert.equal(servingBlanked(hit.body), servingBlanked(miss.body), `${mode} ${url}`);
    }
  }
});
