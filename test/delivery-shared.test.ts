/**
 * Shared mode: four API processes holding the same schedule upsert its BullMQ job scheduler at
 * once; Redis keeps one, and a worker turns its fires into one run per period.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBullmqSchedulers } from '../src/jobs/bullmq-schedulers.ts';
import { bullmqPrefix } from '../src/jobs/job-queue-factory.ts';
import { auth, build, KEYS } from './helpers/app.ts';
import { testDatabaseUrl } from './helpers/postgres.ts';
import { freePort, startRedis, uniquePrefix } from './helpers/redis.ts';
import { smallUpstream } from './helpers/small-upstream.ts';
import { startSmtpPeer } from './helpers/smtp-peer.ts';
import { waitUntil } from './helpers/wait.ts';
import { startInProcessWorker } from './helpers/worker.ts';

test('four API processes upsert one job scheduler; a worker makes one run per period', async (t: TestContext) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const upstream = await smallUpstream(t, 6);
  const smtp = await startSmtpPeer(t);
  const keyPrefix = uniquePrefix('sched');
  const env = {
    UPSTREAM_URL: upstream.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: keyPrefix,
    DATABASE_URL: await testDatabaseUrl(t, 'delivery_shared'),
    ANALYTICS_TODAY: '2026-06-15',
    SMTP_URL: smtp.url,
    API_KEYS: `${KEYS.admin}:admin,${KEYS.analyst}:analyst,${KEYS.viewer}:viewer`,
    LOG_LEVEL: 'silent',
  };
  // The schedule is stored by an instance whose scheduler is off; it fires every second.
  const admin = await build(t, { ...env, SCHEDULER_ENABLED: 'false' });
  const created = await admin.inject({
    method: 'POST',
    url: '/api/v1/schedules',
    headers: auth('admin'),
    payload: {
      name: 'Every second',
      report: { type: 'daily', format: 'pdf' },
      cron: '* * * * * *',
      timezone: 'Europe/Paris',
      recipients: ['a', 'b', 'c'].map((x) => ({ channel: 'email', address: `${x}@example.com` })),
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;

  // Four API processes start together; each arms the enabled schedules.
  const ports = await Promise.all([1, 2, 3, 4].map(() => freePort()));
  for (const port of ports) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { PATH: process.env.PATH, ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: 'ignore',
    });
    t.after(() => child.kill('SIGKILL'));
  }
  for (const port of ports) {
    await waitUntil(
      `API on ${port} is ready`,
      async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.ok === true,
      60_000,
    );
  }
  const conn = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  t.after(() => conn.quit());
  const schedulers = createBullmqSchedulers({
    redis: conn,
    prefix: bullmqPrefix(keyPrefix),
    queue: 'deliveries',
  });
  t.after(() => schedulers.close());
  await waitUntil('the scheduler is in Redis', async () => (await schedulers.ids()).includes(id), 10_000);
  const ids = await schedulers.ids();
  assert.deepEqual(
    ids.filter((x) => x !== 'alerts-check'),
    [id],
    'one job scheduler per schedule, not four',
  );
  assert.deepEqual(
    await schedulers.get('alerts-check'),
    { pattern: '15 7 * * *', tz: 'Europe/Paris' },
    'and the daily alert check',
  );
  assert.deepEqual(await schedulers.get(id), { pattern: '* * * * * *', tz: 'Europe/Paris' });

  // A worker consumes the fires: every fire covers the same day, so there is one run and 3 messages.
  startInProcessWorker(t, env);
  await waitUntil('the three managers have it', async () => smtp.received.length >= 3, 60_000);
  await new Promise((r) => setTimeout(r, 3_000)); // several more fires
  assert.equal(smtp.received.length, 3);
  const runs = await admin.inject({ url: `/api/v1/schedules/${id}/runs`, headers: auth('analyst') });
  assert.equal(runs.json().total, 1, 'one run per period');
  assert.equal(runs.json().items[0].state, 'success');

  // Disabling it removes the job scheduler (through an instance whose scheduler is on).
  const port = ports[0]!;
  const patched = await fetch(`http://127.0.0.1:${port}/api/v1/schedules/${id}`, {
    method: 'PATCH',
    headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
    body: JSON.stringify({ enabled: false }),
  });
  assert.equal(patched.status, 200);
  assert.deepEqual(await schedulers.ids(), ['alerts-check']);
});

test('Redis restarted during a run: the run finishes, each recipient has exactly one message', async (t: TestContext) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  if (!redis.kill || !redis.restart)
    throw new Error('this test needs a private redis-server (apt-get install redis-server)');
  const upstream = await smallUpstream(t, 7);
  const smtp = await startSmtpPeer(t, { delayMs: 250 });
  const env = {
    UPSTREAM_URL: upstream.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: uniquePrefix('restart'),
    DATABASE_URL: await testDatabaseUrl(t, 'delivery_redis_restart'),
    ANALYTICS_TODAY: '2026-06-15',
    SMTP_URL: smtp.url,
    DELIVERY_CONCURRENCY: '2',
    SCHEDULER_ENABLED: 'false',
  };
  const app = await build(t, env);
  startInProcessWorker(t, env);
  const recipients = Array.from({ length: 12 }, (_, i) => ({
    channel: 'email',
    address: `r${i}@example.com`,
  }));
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/schedules',
    headers: auth('admin'),
    payload: { name: 'Restart', report: { type: 'daily', format: 'pdf' }, cron: '0 7 * * *', recipients },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  const run = await app.inject({
    method: 'POST',
    url: `/api/v1/schedules/${id}/run`,
    headers: auth('admin'),
    payload: { period: '2026-06-14' },
  });
  assert.equal(run.statusCode, 202, run.body);
  await waitUntil('a few are sent', async () => smtp.received.length >= 3, 60_000);
  await redis.kill();
  await redis.restart();
  await waitUntil(
    'the run is recorded as finished',
    async () => {
      const r = await app.inject({ url: run.json().statusUrl, headers: auth('analyst') });
      return r.statusCode === 200 && r.json().state !== 'working';
    },
    60_000,
  );
  const final = (await app.inject({ url: run.json().statusUrl, headers: auth('analyst') })).json();
  assert.equal(final.state, 'success');
  for (const r of recipients) assert.equal(smtp.to(r.address).length, 1, `${r.address}: exactly one message`);
});
