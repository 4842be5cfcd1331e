/** The app in shared mode (REDIS_URL set): the Redis cache behind the same routes, and Redis outages. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auth, build } from './helpers/app.ts';
import { json, startServer } from './helpers/http-server.ts';
import { fileDatabase } from './helpers/postgres.ts';
import { startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';

let redis: TestRedis;
let database: Awaited<ReturnType<typeof fileDatabase>>;
let databaseUrl: string;
before(async () => {
  redis = await startRedis();
  database = await fileDatabase('app_shared');
  databaseUrl = database.url;
});
after(async () => {
  await database?.drop();
  await redis?.stop();
});

const stores = [{ id: 1, name: 'Paris Rivoli', city: 'Paris', region: 'Île-de-France', employees: 20 }];

test('two API instances share one Redis cache: the second is served without an upstream call', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 200, stores));
  const env = {
    UPSTREAM_URL: up.url,
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    REDIS_KEY_PREFIX: uniquePrefix('app'),
  };
  const a = await build(t, env);
  const b = await build(t, env);
  const first = await a.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') });
  assert.equal(first.headers['x-cache'], 'MISS');
  const second = await b.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') });
  assert.equal(second.statusCode, 200);
  assert.equal(second.headers['x-cache'], 'HIT');
  assert.equal(up.requests.length, 1);

  const ready = await a.inject('/ready');
  assert.equal(ready.statusCode, 200);
  assert.equal(ready.json().mode, 'shared');
  assert.equal(ready.json().checks.redis.ok, true);
});

test('Redis down: requests still answer from the upstream, quickly; /ready names Redis', async (t) => {
  if (!redis.kill || !redis.restart) return t.skip('needs a private redis-server to stop it');
  const up = await startServer(t, (_req, res) => json(res, 200, stores));
  const app = await build(t, {
    UPSTREAM_URL: up.url,
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    REDIS_KEY_PREFIX: uniquePrefix('app'),
  });
  assert.equal(
    (await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') })).statusCode,
    200,
  );

  await redis.kill();
  try {
    const started = Date.now();
    const res = await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().total, 1);
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);

    const ready = await app.inject('/ready');
    assert.equal(ready.statusCode, 503);
    assert.match(ready.json().detail, /redis: redis unavailable/);
  } finally {
    await redis.restart();
  }
});
