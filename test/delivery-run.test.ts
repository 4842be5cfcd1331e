/**
 * Scheduled delivery end to end: the app (embedded), the sample upstream, a real SMTP server.
 * One run renders once per slice, sends each recipient their own slice, records each outcome, and
 * a second run of the same period sends nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import ExcelJS from 'exceljs';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { sliceFileName } from '../src/services/delivery/run/run-plan-fns.ts';
import { auth, build } from './helpers/app.ts';
import { startSmtpPeer } from './helpers/smtp-peer.ts';
import { waitUntil } from './helpers/wait.ts';

let upstream: RunningSampleUpstream;
before(async () => {
  upstream = await createSampleUpstream({
    port: 0,
    seed: 5,
    stores: 4,
    products: 12,
    days: 40,
    linesPerDay: 40,
    endDate: '2026-06-14',
    logger: false,
  });
});
after(() => upstream?.close());

const DAY = '2026-06-14';

async function setup(t: import('node:test').TestContext) {
  const smtp = await startSmtpPeer(t);
  const app = await build(t, {
    UPSTREAM_URL: upstream.url,
    ANALYTICS_TODAY: '2026-06-15',
    BUSINESS_TZ: 'Europe/Paris',
    SMTP_URL: smtp.url,
    PUBLIC_URL: 'https://salesflow.example.com',
    REPORT_LINK_SECRET: 'x'.repeat(40),
    DELIVERY_RETRY_BASE_MS: '20',
  });
  const stores = (await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') })).json();
  const [a, b] = stores.items.map((s: { id: unknown }) => String(s.id));
  return { smtp, app, a: a as string, b: b as string };
}

async function createSchedule(
  app: Awaited<ReturnType<typeof build>>,
  recipients: unknown[],
  format: 'pdf' | 'xlsx' | 'both' = 'both',
) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/schedules',
    headers: auth('admin'),
    payload: { name: 'Managers', report: { type: 'daily', format }, cron: '0 7 * * *', recipients },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id as string;
}

async function runAndWait(app: Awaited<ReturnType<typeof build>>, id: string, period = DAY) {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/schedules/${id}/run`,
    headers: auth('admin'),
    payload: { period },
  });
  assert.equal(res.statusCode, 202, res.body);
  const { statusUrl } = res.json();
  let run: { state: string } = { state: 'working' };
  await waitUntil(
    'the run finishes',
    async () => {
      const r = await app.inject({ url: statusUrl, headers: auth('analyst') });
      run = r.json();
      return r.statusCode === 200 && run.state !== 'working';
    },
    30_000,
  );
  return run as { state: string; recipients: { address: string; state: string; deliveryId: string }[] };
}

const renders = async (app: Awaited<ReturnType<typeof build>>) =>
  (await app.services.metrics.deliveryRenders.get()).values[0]?.value ?? 0;

test("each recipient gets their slice, rendered once per slice; the figures are the API's; a second run sends nothing", async (t) => {
  const { smtp, app, a, b } = await setup(t);
  const id = await createSchedule(app, [
    { channel: 'email', address: 'anna@example.com', name: 'Anna', slice: { storeId: a } },
    { channel: 'email', address: 'ahmed@example.com', name: 'Ahmed', slice: { storeId: a } },
    { channel: 'email', address: 'bea@example.com', name: 'Bea', slice: { storeId: b } },
  ]);

  const dry = await app.inject({
    method: 'POST',
    url: `/api/v1/schedules/${id}/run`,
    headers: auth('admin'),
    payload: { period: DAY, dryRun: true },
  });
  assert.equal(dry.statusCode, 200, dry.body);
  assert.equal(dry.json().renders, 4, 'two slices, two formats');
  assert.deepEqual(
    dry.json().recipients.map((r: { slice: string; files: string[] }) => [r.slice, r.files]),
    [
      [`store:${a}`, [`daily-${DAY}-store-${a}.pdf`, `daily-${DAY}-store-${a}.xlsx`]],
      [`store:${a}`, [`daily-${DAY}-store-${a}.pdf`, `daily-${DAY}-store-${a}.xlsx`]],
      [`store:${b}`, [`daily-${DAY}-store-${b}.pdf`, `daily-${DAY}-store-${b}.xlsx`]],
    ],
  );
  assert.equal(smtp.received.length, 0, 'a dry run sends nothing');
  assert.equal(await renders(app), 0);

  const run = await runAndWait(app, id);
  assert.equal(run.state, 'success');
  assert.equal(smtp.received.length, 3);
  assert.equal(await renders(app), 4, 'one render per slice and format, not per recipient');

  for (const [address, store] of [
    ['anna@example.com', a],
    ['bea@example.com', b],
  ] as const) {
    const mail = smtp.to(address);
    assert.equal(mail.length, 1);
    const parsed = mail[0]!.parsed;
    const pdf = parsed.attachments.find((x) => x.filename?.endsWith('.pdf'))!;
    const xlsx = parsed.attachments.find((x) => x.filename?.endsWith('.xlsx'))!;
    assert.equal(pdf.content.subarray(0, 4).toString(), '%PDF');
    assert.equal(pdf.filename, `daily-${DAY}-store-${store}.pdf`);

    // The workbook's revenue is the analytics API's revenue for this recipient's store, to the cent.
    const api = await app.inject({
      url: `/api/v1/analytics/sales?from=${DAY}&to=${DAY}&storeId=${store}`,
      headers: auth('viewer'),
    });
    const revenue = api.json().kpis.revenue as number;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.content as unknown as ArrayBuffer);
    const headline = wb.getWorksheet('Headline')!;
    let found: number | undefined;
    headline.eachRow((row) => {
      if (row.getCell(1).value === 'Revenue') found = Number(row.getCell(2).value);
    });
    assert.equal(found, revenue, `${address}: workbook revenue equals the API's`);
    const money = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR' }).format(revenue);
    assert.ok(String(parsed.text).includes(money), `${address}: the message leads with ${money}`);
    assert.match(String(parsed.subject), new RegExp(`Daily sales report ${DAY}`));
  }

  // The same period again (a retry, a second instance, a DST re-fire): nothing is sent or rendered.
  const again = await runAndWait(app, id);
  assert.equal(again.state, 'success');
  assert.equal(smtp.received.length, 3);
  assert.equal(await renders(app), 4);

  // The signed link a message carries opens the slice's file without an API key, until it expires.
  const link = app.services.reports.fileLink(sliceFileName(id, DAY, `store:${a}`, 'pdf'));
  const signed = await app.inject({ url: link.url });
  assert.equal(signed.statusCode, 200, signed.body);
  assert.equal(signed.rawPayload.subarray(0, 4).toString(), '%PDF');
  const forged = await app.inject({ url: link.url.replace(/sig=[^&]+/, `sig=${'A'.repeat(43)}`) });
  assert.equal(forged.statusCode, 403);
  const bare = await app.inject({ url: link.url.replace(/&expires=.*$/, '') });
  assert.equal(bare.statusCode, 401, 'no link signature and no key');

  const log = await app.inject({ url: `/api/v1/schedules/${id}/runs`, headers: auth('analyst') });
  assert.equal(log.json().total, 2);
  const deliveries = await app.inject({ url: `/api/v1/deliveries?schedule=${id}`, headers: auth('analyst') });
  assert.equal(deliveries.json().total, 3);
  assert.ok(deliveries.json().items.every((d: { state: string }) => d.state === 'sent'));
});

test('451 then accepted: delivered once; 550: that recipient fails alone; an admin resends it on purpose', async (t) => {
  const { smtp, app, a } = await setup(t);
  smtp.rcpt('later@example.com', 451, 'accept');
  smtp.rcpt('gone@example.com', 550, 'accept');
  const id = await createSchedule(
    app,
    [
      { channel: 'email', address: 'later@example.com', slice: { storeId: a } },
      { channel: 'email', address: 'gone@example.com' },
      { channel: 'email', address: 'fine@example.com' },
    ],
    'pdf',
  );
  const run = await runAndWait(app, id);
  assert.equal(run.state, 'partial');
  const byAddress = Object.fromEntries(run.recipients.map((r) => [r.address, r]));
  assert.equal(byAddress['later@example.com']!.state, 'sent');
  assert.equal(byAddress['gone@example.com']!.state, 'failed');
  assert.equal(byAddress['fine@example.com']!.state, 'sent');
  assert.equal(smtp.to('later@example.com').length, 1, 'delivered once, after a retry');
  assert.equal(smtp.to('gone@example.com').length, 0);

  // The run is repeated: the failed recipient is not retried by itself, the others get no copy.
  await runAndWait(app, id);
  assert.equal(smtp.received.length, 2);

  const failed = byAddress['gone@example.com']!.deliveryId;
  const resend = await app.inject({
    method: 'POST',
    url: `/api/v1/deliveries/${failed}/resend`,
    headers: auth('admin'),
  });
  assert.equal(resend.statusCode, 202, resend.body);
  await waitUntil('the resend is delivered', async () => smtp.to('gone@example.com').length === 1, 10_000);
  const d = await app.inject({ url: `/api/v1/deliveries/${failed}`, headers: auth('analyst') });
  assert.equal(d.json().state, 'sent');
  assert.equal(smtp.received.length, 3);
  const unknownId = await app.inject({
    method: 'POST',
    url: '/api/v1/deliveries/dlv-doesnotexist00/resend',
    headers: auth('admin'),
  });
  assert.equal(unknownId.statusCode, 404);
  assert.equal(unknownId.headers['content-type'], 'application/problem+json; charset=utf-8');
});

test('a period that does not fit the schedule is a 400 naming body.period', async (t) => {
  const { app } = await setup(t);
  const id = await createSchedule(app, [{ channel: 'email', address: 'x@example.com' }], 'pdf');
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/schedules/${id}/run`,
    headers: auth('admin'),
    payload: { period: '2026-W48' },
  });
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /body\.period/);
  const analyst = await app.inject({
    method: 'POST',
    url: `/api/v1/schedules/${id}/run`,
    headers: auth('analyst'),
    payload: {},
  });
  assert.equal(analyst.statusCode, 403);
});

test('freshness: over incomplete data a run sends marked, or skips (noop) when the schedule says so', async (t) => {
  const { smtp, app, a } = await setup(t);
  // The business day still open (today) is incomplete by definition.
  const today = '2026-06-15';
  const marked = await createSchedule(
    app,
    [{ channel: 'email', address: 'marked@example.com', slice: { storeId: a } }],
    'pdf',
  );
  const run = await runAndWait(app, marked, today);
  assert.equal(run.state, 'success');
  const mail = smtp.to('marked@example.com')[0]!.parsed;
  assert.match(String(mail.subject), /^\[Incomplete data\] /);
  assert.match(String(mail.text), /not complete/);

  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/schedules',
    headers: auth('admin'),
    payload: {
      name: 'Only complete data',
      report: { type: 'daily', format: 'pdf' },
      cron: '0 7 * * *',
      recipients: [{ channel: 'email', address: 'strict@example.com' }],
      options: { freshness: { waitMinutes: 0, onIncomplete: 'skip' } },
    },
  });
  const skipped = await runAndWait(app, res.json().id, today);
  assert.equal(skipped.state, 'noop');
  assert.equal(skipped.recipients[0]!.state, 'skipped');
  assert.equal(smtp.to('strict@example.com').length, 0);
});

test('a delivery whose sender is gone (claimed, never sent) is picked up by the sweep and sent once', async (t) => {
  const { smtp, app } = await setup(t);
  const { ledger } = app.services.delivery;
  const { delivery } = await ledger.claim({
    key: 'schedule:sch-lost:2026-06-14:email:lost@example.com',
    source: 'schedule',
    sourceId: 'sch-lost',
    period: '2026-06-14',
    channel: 'email',
    address: 'lost@example.com',
    detail: {
      message: { subject: 'Daily sales', headline: [], text: 'The report.', files: [], attach: 'auto' },
    },
  });
  // Its process died right after the claim, eleven minutes ago.
  const old = new Date(Date.now() - 11 * 60_000).toISOString();
  await app.services.db.k
    .updateTable('deliveries')
    .set({ updated_at: old })
    .where('id', '=', delivery.id)
    .execute();
  await app.services.scheduler.sweep();
  await waitUntil(
    'the stalled delivery is sent',
    async () => (await ledger.get(delivery.id))?.state === 'sent',
    10_000,
  );
  assert.equal(smtp.to('lost@example.com').length, 1);
  await app.services.scheduler.sweep();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(smtp.to('lost@example.com').length, 1, 'a second sweep finds nothing to resume');
});
