/**
 * The alert check in shared mode (Redis, PostgreSQL): two API instances checking the same day at
 * the same moment, as two schedulers would, send each recipient one message between them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { GeneratedDataset } from '../sample-upstream/generator.ts';
import type { RunningSampleUpstream } from '../sample-upstream/server.ts';
import { auth, build } from './helpers/app.ts';
import { fileDatabase } from './helpers/postgres.ts';
import { startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';
import { startSmtpPeer } from './helpers/smtp-peer.ts';
import { storeDropUpstream } from './helpers/store-drop.ts';

let redis: TestRedis;
let database: Awaited<ReturnType<typeof fileDatabase>>;
let upstream: RunningSampleUpstream;
before(async () => {
  redis = await startRedis();
  database = await fileDatabase('alerts_shared');
  upstream = await storeDropUpstream();
});
after(async () => {
  await upstream?.close();
  await database?.drop();
  await redis?.stop();
});

test('two instances check the same day at once: one message per recipient between them', async (t) => {
  const smtp = await startSmtpPeer(t);
  const env = {
    UPSTREAM_URL: upstream.url,
    REDIS_URL: redis.url,
    DATABASE_URL: database.url,
    REDIS_KEY_PREFIX: uniquePrefix('alerts'),
    ANALYTICS_TODAY: '2026-07-01',
    SMTP_URL: smtp.url,
  };
  const a = await build(t, env);
  const b = await build(t, env);
  const rule = (await a.inject({ url: '/api/v1/alerts/rules/store-orders', headers: auth('admin') })).json();
  const put = await a.inject({
    method: 'PUT',
    url: '/api/v1/alerts/rules/store-orders',
    headers: auth('admin'),
    payload: { ...rule, recipients: [{ channel: 'email', address: 'hq@example.com' }] },
  });
  assert.equal(put.statusCode, 200, put.body);

  const day = (upstream.dataset as GeneratedDataset).anomalies.storeDrop.from;
  const answers = await Promise.all(
    [a, b].map((app) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/alerts/check',
        headers: auth('analyst'),
        payload: { date: day },
      }),
    ),
  );
  for (const res of answers) assert.equal(res.statusCode, 200, res.body);
  assert.equal(smtp.to('hq@example.com').length, 1, 'one message, whichever instance sent it');
  const deliveries = answers.flatMap((r) => r.json().deliveries as { claimed: boolean }[]);
  assert.equal(deliveries.filter((d) => d.claimed).length, 1);
  const ledger = await a.services.delivery.ledger.list({ source: 'alert', limit: 10, offset: 0 });
  assert.deepEqual(
    ledger.items.map((d) => d.state),
    ['sent'],
  );
  const firing = await b.inject({
    url: '/api/v1/alerts?state=firing&rule=store-orders',
    headers: auth('viewer'),
  });
  assert.equal(firing.json().total, 1, 'one alert row for the (rule, entity)');
});
