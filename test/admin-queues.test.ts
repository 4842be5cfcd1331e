/**
 * Bull Board at /admin/queues (shared mode): a real headless Chromium signs in through the form and
 * sees the queues listed, with the board's static assets served; scripts get problems, not pages.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { auth, build, KEYS } from './helpers/app.ts';
import { fileDatabase } from './helpers/postgres.ts';
import { startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';

const CHROMIUM = '/usr/bin/chromium';
const NO_CHROMIUM =
  `This test drives Debian's chromium package at ${CHROMIUM}: install it with ` +
  '`apt-get update && apt-get install -y chromium` (.ci/run does so).';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let redis: TestRedis;
let database: Awaited<ReturnType<typeof fileDatabase>>;
before(async () => {
  redis = await startRedis();
  database = await fileDatabase('admin_queues');
});
after(async () => {
  await database?.drop();
  await redis?.stop();
});

const sharedEnv = () => ({
  REDIS_URL: redis.url,
  REDIS_KEY_PREFIX: uniquePrefix('board'),
  DATABASE_URL: database.url,
});

test('scripts: 401 without a key, 403 for a viewer, the API answers an admin key; embedded mode says why not', async (t) => {
  const app = await build(t, sharedEnv());
  const none = await app.inject({ url: '/admin/queues/api/queues' });
  assert.equal(none.statusCode, 401);
  assert.equal(none.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.match(none.json().detail, /\/admin\/login/);
  const viewer = await app.inject({ url: '/admin/queues/api/queues', headers: auth('viewer') });
  assert.equal(viewer.statusCode, 403);
  assert.equal(viewer.json().type, 'urn:salesflow:problem:forbidden');
  const admin = await app.inject({ url: '/admin/queues/api/queues', headers: auth('admin') });
  assert.equal(admin.statusCode, 200);
  assert.deepEqual((admin.json() as { queues: { name: string }[] }).queues.map((q) => q.name).sort(), [
    'deliveries',
    'imports',
    'reports',
  ]);
  // A wrong key at the sign-in form gets the form again, and no cookie.
  const bad = await app.inject({
    method: 'POST',
    url: '/admin/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `key=${KEYS.viewer}`,
  });
  assert.equal(bad.statusCode, 401);
  assert.equal(bad.headers['set-cookie'], undefined);
  assert.match(bad.body, /does not have the admin role/);
  // The cookie opens /admin only: the API still wants a key.
  const cookie = `salesflow_admin=${KEYS.admin}`;
  assert.equal((await app.inject({ url: '/api/v1/sync/status', headers: { cookie } })).statusCode, 401);

  const embedded = await build(t);
  const res = await embedded.inject({ url: '/admin/queues', headers: auth('admin') });
  assert.equal(res.statusCode, 404);
  assert.match(res.json().detail, /shared mode/);
});

test('headless Chromium: sign in at /admin/login, then the board lists the queues', async (t) => {
  assert.ok(existsSync(CHROMIUM), NO_CHROMIUM);
  const app = await build(t, sharedEnv());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  const base = `http://127.0.0.1:${address.port}`;

  const profile = await mkdtemp(join(tmpdir(), 'salesflow-chromium-'));
  t.after(() => rm(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    timeout: 60_000,
  });
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const statics: number[] = [];
  page.on('response', (response) => {
    if (response.url().startsWith(`${base}/admin/queues/static/`)) statics.push(response.status());
  });

  // Not signed in: the board sends the browser to the form.
  await page.goto(`${base}/admin/queues/`);
  assert.equal(new URL(page.url()).pathname, '/admin/login');
  await page.fill('#key', KEYS.admin);
  await Promise.all([page.waitForURL(`${base}/admin/queues/**`), page.click('button[type=submit]')]);

  await page.getByText('reports', { exact: true }).first().waitFor({ timeout: 30_000 });
  await page.getByText('imports', { exact: true }).first().waitFor({ timeout: 30_000 });
  await page.getByText('deliveries', { exact: true }).first().waitFor({ timeout: 30_000 });
  assert.ok(statics.length > 0, 'the board loads its static assets');
  assert.ok(
    statics.every((s) => s === 200 || s === 304),
    `static asset statuses: ${statics.join(',')}`,
  );
  const cookies = await context.cookies(`${base}/admin/queues/`);
  const session = cookies.find((c) => c.name === 'salesflow_admin');
  assert.ok(session, 'the sign-in set the admin cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(session.path, '/admin');
});
