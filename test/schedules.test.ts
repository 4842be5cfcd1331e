/** Schedules CRUD: validation that names the field, the slices checked against the catalogue. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { auth, build } from './helpers/app.ts';

let upstream: RunningSampleUpstream;
before(async () => {
  upstream = await createSampleUpstream({
    port: 0,
    seed: 3,
    stores: 4,
    products: 10,
    days: 10,
    linesPerDay: 20,
    endDate: '2026-06-14',
    logger: false,
  });
});
after(() => upstream?.close());

const valid = {
  name: 'Store managers',
  report: { type: 'daily', format: 'pdf' },
  cron: '0 7 * * *',
  recipients: [
    { channel: 'email', address: 'lyon@example.com', name: 'Lyon', slice: { storeId: '1' } },
    { channel: 'email', address: 'hq@example.com' },
  ],
};

test('create, read, list, change and delete a schedule; the next fire time is in its zone', async (t) => {
  const app = await build(t, { UPSTREAM_URL: upstream.url, BUSINESS_TZ: 'Europe/Paris' });
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/schedules',
    headers: auth('admin'),
    payload: valid,
  });
  assert.equal(created.statusCode, 201, created.body);
  const s = created.json();
  assert.match(s.id, /^sch-/);
  assert.equal(s.timezone, 'Europe/Paris', 'BUSINESS_TZ by default');
  assert.equal(s.enabled, true);
  assert.deepEqual(s.options, {
    skipIfEmpty: false,
    attach: 'auto',
    freshness: { waitMinutes: 0, onIncomplete: 'send_marked' },
    catchUp: { maxPeriods: 1 },
  });
  const next = new Date(s.nextRunAt);
  const parisHour = Number(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: 'numeric', hour12: false }).format(
      next,
    ),
  );
  assert.equal(parisHour, 7);

  const read = await app.inject({ url: `/api/v1/schedules/${s.id}`, headers: auth('analyst') });
  assert.deepEqual(read.json(), s);
  const list = await app.inject({ url: '/api/v1/schedules?enabled=true', headers: auth('analyst') });
  assert.equal(list.json().total, 1);

  const patched = await app.inject({
    method: 'PATCH',
    url: `/api/v1/schedules/${s.id}`,
    headers: auth('admin'),
    payload: { enabled: false, cron: '30 6 * * 1' },
  });
  assert.equal(patched.statusCode, 200, patched.body);
  assert.equal(patched.json().enabled, false);
  assert.equal(patched.json().nextRunAt, null);
  assert.deepEqual(patched.json().recipients, s.recipients, 'fields not given are kept');
  assert.equal(
    (await app.inject({ url: '/api/v1/schedules?enabled=true', headers: auth('analyst') })).json().total,
    0,
  );

  assert.equal(
    (await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: auth('analyst'), payload: valid }))
      .statusCode,
    403,
    'analysts read, admins write',
  );
  const del = await app.inject({
    method: 'DELETE',
    url: `/api/v1/schedules/${s.id}`,
    headers: auth('admin'),
  });
  assert.equal(del.statusCode, 204);
  assert.equal(
    (await app.inject({ url: `/api/v1/schedules/${s.id}`, headers: auth('analyst') })).statusCode,
    404,
  );
});

test('a bad cron, time zone, address, E.164 number or unknown store is a 400 naming the field', async (t) => {
  const app = await build(t, {
    UPSTREAM_URL: upstream.url,
    WHATSAPP_TOKEN: 'test-whatsapp-token',
    WHATSAPP_PHONE_NUMBER_ID: '1234567890',
  });
  const cases: [Record<string, unknown>, string][] = [
    [{ cron: '61 7 * * *' }, 'body.cron'],
    [{ timezone: 'Europe/Lutetia' }, 'body.timezone'],
    [{ recipients: [{ channel: 'email', address: 'not-an-address' }] }, 'body.recipients.0.address'],
    [{ recipients: [{ channel: 'whatsapp', address: '0612345678' }] }, 'body.recipients.0.address'],
    [
      { recipients: [{ channel: 'email', address: 'a@example.com', slice: { storeId: '999' } }] },
      'body.recipients.0.slice.storeId',
    ],
    [
      { recipients: [{ channel: 'email', address: 'a@example.com', slice: { region: 'Atlantis' } }] },
      'body.recipients.0.slice.region',
    ],
    [{ recipients: [] }, 'body.recipients'],
    [{ report: { type: 'hourly', format: 'pdf' } }, 'body.report.type'],
  ];
  for (const [change, path] of cases) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/schedules',
      headers: auth('admin'),
      payload: { ...valid, ...change },
    });
    assert.equal(res.statusCode, 400, `${path}: ${res.body}`);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.ok(
      res.json().errors.some((e: { path: string }) => e.path === path),
      `${path} named in ${res.body}`,
    );
  }
  // a channel that is not configured is named too (webhooks without their signing secret)
  const hook = await app.inject({
    method: 'POST',
    url: '/api/v1/schedules',
    headers: auth('admin'),
    payload: { ...valid, recipients: [{ channel: 'webhook', address: 'https://example.com/hook' }] },
  });
  assert.equal(hook.statusCode, 400);
  assert.equal(hook.json().errors[0].path, 'body.recipients.0.channel');
  assert.match(hook.json().errors[0].message, /WEBHOOK_SECRET/);
  assert.equal(
    (await app.inject({ url: '/api/v1/schedules', headers: auth('admin') })).json().total,
    0,
    'nothing half-written',
  );
});
