/**
 * The alert check end to end: the sample upstream's injected store drop (a real HTTP server), the
 * real app, and a real SMTP server whose messages are parsed by mailparser. One grouped message per
 * recipient, sliced; nothing new when a day is checked again; one resolution message when the rule
 * asks; silences, acknowledgements and snoozes; the series around an alert from the analytics.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Anomalies, GeneratedDataset } from '../sample-upstream/generator.ts';
import type { RunningSampleUpstream } from '../sample-upstream/server.ts';
import { formatDay, parseDay } from '../src/lib/calendar.ts';
import type { AlertRule } from '../src/models/alerts.ts';
import { auth, build } from './helpers/app.ts';
import { startSmtpPeer } from './helpers/smtp-peer.ts';
import { storeDropUpstream } from './helpers/store-drop.ts';

let upstream: RunningSampleUpstream;
let drop: Anomalies['storeDrop'];
let dropStore: { id: string | number; name: string; region: string };
let otherStore: { id: string | number; name: string };
before(async () => {
  // seed 5: store 3 (Marseille Centre) sells at 30 % from 2026-05-17 to 2026-05-23
  upstream = await storeDropUpstream();
  drop = (upstream.dataset as GeneratedDataset).anomalies.storeDrop;
  dropStore = upstream.dataset.stores.find((s) => String(s.id) === String(drop.storeId))!;
  otherStore = upstream.dataset.stores.find(
    (s) => String(s.id) !== String(drop.storeId) && s.region !== dropStore.region,
  )!;
});
after(() => upstream?.close());

const shift = (day: string, n: number) => formatDay(parseDay(day)! + n);

type App = Awaited<ReturnType<typeof build>>;

async function setRecipients(app: App, ruleId: string, change: Partial<AlertRule>) {
  const current = (
    await app.inject({ url: `/api/v1/alerts/rules/${ruleId}`, headers: auth('analyst') })
  ).json();
  const res = await app.inject({
    method: 'PUT',
    url: `/api/v1/alerts/rules/${ruleId}`,
    headers: auth('admin'),
    payload: { ...current, ...change },
  });
  assert.equal(res.statusCode, 200, res.body);
}

async function check(app: App, date: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/alerts/check',
    headers: auth('analyst'),
    payload: { date },
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as {
    day: string;
    alerts: {
      id: string;
      ruleId: string;
      entity: { id: string };
      change: string;
      state: string;
      notify: string | null;
      suppressed: string | null;
      summary: string;
    }[];
    deliveries: {
      address: string;
      state: string;
      claimed: boolean;
      alerts: { id: string; notify: string }[];
    }[];
  };
}

async function appWithSmtp(t: Parameters<typeof build>[0]) {
  const smtp = await startSmtpPeer(t);
  const app = await build(t, {
    UPSTREAM_URL: upstream.url,
    ANALYTICS_TODAY: '2026-07-01',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'SalesFlow Alerts <alerts@salesflow.test>',
    DELIVERY_RETRY_BASE_MS: '10',
  });
  return { app, smtp };
}

test('a check sends one grouped message per recipient; the same day again sends none; one resolution', async (t) => {
  const { app, smtp } = await appWithSmtp(t);
  const manager = `store${dropStore.id}@example.com`;
  const other = `store${otherStore.id}@example.com`;
  await setRecipients(app, 'store-orders', {
    notifyOnResolve: true,
    repeatInterval: '1w',
    recipients: [
      { channel: 'email', address: 'hq@example.com', name: 'Head office' },
      { channel: 'email', address: manager, slice: { storeId: [String(dropStore.id)] } },
      { channel: 'email', address: other, slice: { storeId: [String(otherStore.id)] } },
    ],
  });
  await setRecipients(app, 'region-orders', {
    repeatInterval: '1w',
    recipients: [{ channel: 'email', address: 'hq@example.com' }],
  });

  const first = await check(app, drop.from);
  const store = first.alerts.find((a) => a.ruleId === 'store-orders' && a.entity.id === String(drop.storeId));
  const region = first.alerts.find((a) => a.ruleId === 'region-orders' && a.entity.id === dropStore.region);
  assert.ok(store && region, JSON.stringify(first.alerts));
  assert.deepEqual([store.change, store.state, store.notify], ['fired', 'firing', 'firing']);
  assert.deepEqual([region.change, region.state, region.notify], ['fired', 'firing', 'firing']);
  assert.match(store.summary, new RegExp(`${dropStore.name}: orders down to \\d+ against [\\d.]+ expected`));

  // one message per recipient: the head office gets both alerts in one, the manager their store's
  const byAddress = new Map(first.deliveries.map((d) => [d.address, d]));
  assert.deepEqual([...byAddress.keys()].sort(), ['hq@example.com', manager].sort(), 'the other store: none');
  for (const d of first.deliveries) assert.deepEqual([d.state, d.claimed], ['sent', true]);
  const notified = first.alerts.filter((a) => a.notify !== null);
  assert.deepEqual(
    byAddress.get('hq@example.com')!.alerts.map((a) => a.id),
    notified.map((a) => a.id),
    'every new alert, in the answer’s order: most severe, then most money',
  );
  assert.deepEqual(
    byAddress.get(manager)!.alerts.map((a) => a.id),
    [store.id],
  );
  assert.equal(smtp.received.length, 2);
  const hq = smtp.to('hq@example.com');
  assert.equal(hq.length, 1);
  const mail = hq[0]!.parsed;
  assert.match(mail.subject ?? '', new RegExp(`SalesFlow alerts ${drop.from}: ${notified.length} new`));
  const text = mail.text ?? '';
  const storeAt = text.indexOf(`${dropStore.name} (store)`);
  const regionAt = text.indexOf(`${dropStore.region} (region)`);
  assert.ok(storeAt > 0 && regionAt > 0, text);
  assert.equal(storeAt < regionAt, notified.indexOf(store) < notified.indexOf(region), 'ranked as answered');
  assert.ok(text.includes(store.summary), 'each line with its explanation');
  assert.match(mail.html || '', /New alerts/);
  const managerMail = smtp.to(manager)[0]!.parsed;
  assert.ok((managerMail.text ?? '').includes(`${dropStore.name} (store)`));
  assert.ok(!(managerMail.text ?? '').includes('(region)'), 'the slice keeps the region out');

  const again = await check(app, drop.from);
  assert.deepEqual([again.alerts, again.deliveries], [[], []], 'the same day again changes nothing');
  const next = await check(app, shift(drop.from, 1));
  assert.ok(next.alerts.some((a) => a.id === store.id && a.change === 'continued' && a.notify === null));
  assert.deepEqual(next.deliveries, [], 'no repeat within the week');
  assert.equal(smtp.received.length, 2);

  // the day after the drop: the store resolves (its rule asks to be told), the region silently
  const resolvedDay = shift(drop.to, 1);
  const end = await check(app, resolvedDay);
  const storeEnd = end.alerts.find((a) => a.id === store.id)!;
  const regionEnd = end.alerts.find((a) => a.id === region.id)!;
  assert.deepEqual([storeEnd.change, storeEnd.notify], ['resolved', 'resolved']);
  assert.deepEqual([regionEnd.change, regionEnd.notify], ['resolved', null]);
  assert.deepEqual(
    end.deliveries.map((d) => [d.address, d.alerts.map((a) => `${a.id}:${a.notify}`)]).sort(),
    [
      ['hq@example.com', [`${store.id}:resolved`]],
      [manager, [`${store.id}:resolved`]],
    ].sort(),
  );
  assert.equal(smtp.received.length, 4);
  const resolution = smtp.to('hq@example.com')[1]!.parsed;
  assert.match(resolution.subject ?? '', new RegExp(`SalesFlow alerts ${resolvedDay}: 1 resolved`));
  assert.match(
    resolution.text ?? '',
    new RegExp(`RESOLVED · ${dropStore.name} \\(store\\).*back to normal on ${resolvedDay}`),
  );
  assert.deepEqual((await check(app, resolvedDay)).deliveries, []);
  assert.equal(smtp.received.length, 4, 'one resolution message, once');

  // the ledger holds each message once
  const ledger = await app.services.delivery.ledger.list({ source: 'alert', limit: 50, offset: 0 });
  assert.equal(ledger.total, 4);
  assert.ok(ledger.items.every((d) => d.state === 'sent'));
});

test('the alerts list and one alert with its series from the analytics', async (t) => {
  const { app } = await appWithSmtp(t);
  await check(app, drop.from);
  const resolvedDay = shift(drop.to, 1);
  await check(app, resolvedDay);

  const list = await app.inject({
    url: `/api/v1/alerts?state=resolved&entity=${drop.storeId}&from=${drop.from}`,
    headers: auth('viewer'),
  });
  assert.equal(list.statusCode, 200, list.body);
  const items = list.json().items as { id: string; ruleId: string; firstSeen: string; resolvedOn: string }[];
  const store = items.find((a) => a.ruleId === 'store-orders')!;
  assert.ok(store, list.body);
  assert.deepEqual([store.firstSeen, store.resolvedOn], [drop.from, resolvedDay]);
  assert.equal(
    (await app.inject({ url: '/api/v1/alerts?state=firing', headers: auth('viewer') })).json().total,
    0,
  );

  const one = await app.inject({ url: `/api/v1/alerts/${store.id}`, headers: auth('viewer') });
  assert.equal(one.statusCode, 200, one.body);
  const detail = one.json();
  assert.deepEqual(detail.rule, { id: 'store-orders', name: 'Store receipts drop or spike' });
  assert.equal(detail.series.metric, 'orders');
  assert.equal(detail.series.from, shift(drop.from, -28));
  assert.equal(detail.series.to, shift(resolvedDay, 7));
  assert.ok(detail.detection.explanation.contributors.length > 0, 'the explanation names where to look');
  // the same figures as the sales analytics give for that store
  const sales = await app.inject({
    url: `/api/v1/analytics/sales?from=${detail.series.from}&to=${detail.series.to}&groupBy=day&storeId=${drop.storeId}&compare=none&limit=100`,
    headers: auth('viewer'),
  });
  assert.equal(sales.statusCode, 200, sales.body);
  const orders = new Map(
    (sales.json().rows as { keys: { day: string }; orders: number }[]).map((r) => [r.keys.day, r.orders]),
  );
  assert.equal(detail.series.values.length, 28 + 8 + 7);
  for (const v of detail.series.values) assert.equal(v.value, orders.get(v.day) ?? 0, v.day);
  // detection counts the same receipts: on the alert's latest anomalous day, the same figure
  const last = detail.series.values.find((v: { day: string }) => v.day === detail.lastSeen);
  assert.equal(last.value, detail.detection.actual);
});

test('silences, acknowledgements and snoozes hold notifications back; a firing alert is told once they end', async (t) => {
  const { app, smtp } = await appWithSmtp(t);
  await setRecipients(app, 'store-orders', { recipients: [{ channel: 'email', address: 'hq@example.com' }] });
  await setRecipients(app, 'region-orders', {
    recipients: [{ channel: 'email', address: 'hq@example.com' }],
  });
  const silence = await app.inject({
    method: 'POST',
    url: '/api/v1/alerts/silences',
    headers: auth('analyst'),
    payload: { ruleId: 'region-orders', for: '1d', comment: 'regional audit today' },
  });
  assert.equal(silence.statusCode, 201, silence.body);
  const sil = silence.json();
  assert.equal(sil.active, true);

  const first = await check(app, drop.from);
  const store = first.alerts.find(
    (a) => a.ruleId === 'store-orders' && a.entity.id === String(drop.storeId),
  )!;
  const region = first.alerts.find((a) => a.ruleId === 'region-orders')!;
  assert.equal(store.notify, 'firing');
  assert.deepEqual(
    [region.state, region.notify, region.suppressed],
    ['firing', null, `silenced by ${sil.id}`],
  );
  assert.deepEqual(
    first.deliveries.map((d) => d.alerts.map((a) => a.id)),
    [[store.id]],
  );

  const ack = await app.inject({
    method: 'POST',
    url: `/api/v1/alerts/${store.id}/ack`,
    headers: auth('analyst'),
    payload: { by: 'Marseille manager' },
  });
  assert.equal(ack.statusCode, 200, ack.body);
  assert.equal(ack.json().acknowledged.by, 'Marseille manager');
  const ended = await app.inject({
    method: 'DELETE',
    url: `/api/v1/alerts/silences/${sil.id}`,
    headers: auth('analyst'),
  });
  assert.equal(ended.statusCode, 204);

  // next day: the store's daily repeat is held by the ack; the region, never told, is told now
  const second = await check(app, shift(drop.from, 1));
  const store2 = second.alerts.find((a) => a.id === store.id)!;
  const region2 = second.alerts.find((a) => a.id === region.id)!;
  assert.deepEqual([store2.notify, store2.suppressed], [null, 'acknowledged']);
  assert.equal(region2.notify, 'firing');
  assert.deepEqual(
    second.deliveries.map((d) => d.alerts.map((a) => `${a.id}:${a.notify}`)),
    [[`${region.id}:firing`]],
  );

  const snooze = await app.inject({
    method: 'POST',
    url: `/api/v1/alerts/${region.id}/snooze`,
    headers: auth('analyst'),
    payload: { for: '1w' },
  });
  assert.equal(snooze.statusCode, 200, snooze.body);
  assert.ok(Date.parse(snooze.json().snoozedUntil) > Date.now() + 6 * 86_400_000);
  const third = await check(app, shift(drop.from, 2));
  assert.match(third.alerts.find((a) => a.id === region.id)?.suppressed ?? '', /^snoozed until /);
  assert.deepEqual(third.deliveries, []);
  assert.equal(smtp.received.length, 2);

  const metrics = await app.inject({ url: '/metrics', headers: auth('admin') });
  assert.match(metrics.body, /salesflow_alert_notifications_total\{kind="firing"\} 2/);
});

test('alert rules: defaults on a fresh install, admin writes, fields named, a deleted default stays deleted', async (t) => {
  const { testSqliteFile } = await import('./helpers/app.ts');
  const file = testSqliteFile();
  const env = { UPSTREAM_URL: upstream.url, ANALYTICS_TODAY: '2026-07-01', DATABASE_URL: file };
  const app = await build(t, env);
  const list = await app.inject({ url: '/api/v1/alerts/rules', headers: auth('analyst') });
  assert.equal(list.statusCode, 200);
  assert.deepEqual(
    list
      .json()
      .items.map((r: AlertRule) => r.id)
      .sort(),
    [
      'below-reorder',
      'brand-orders',
      'category-orders',
      'low-cover',
      'out-of-stock',
      'product-orders',
      'region-orders',
      'store-orders',
    ],
  );
  const rule = { id: 'weekend-revenue', name: 'Weekend revenue', metric: 'revenue', level: 'store' };
  const post = (payload: object, role: 'admin' | 'analyst' = 'admin') =>
    app.inject({ method: 'POST', url: '/api/v1/alerts/rules', headers: auth(role), payload });
  assert.equal((await post(rule, 'analyst')).statusCode, 403, 'analysts read, admins write');
  const created = await post(rule);
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().pendingPeriods, 1, 'defaults filled in');
  assert.equal((await post(rule)).statusCode, 409);
  const cases: [object, string][] = [
    [{ ...rule, id: 'x2', thresholds: { minScore: 'high' } }, 'body.thresholds.minScore'],
    [{ ...rule, id: 'x3', level: 'store', filters: { category: ['Tea'] } }, 'body.filters.category'],
    [{ ...rule, id: 'x4', repeatInterval: 'daily' }, 'body.repeatInterval'],
    [
      { ...rule, id: 'x5', recipients: [{ channel: 'email', address: 'not-an-address' }] },
      'body.recipients.0.address',
    ],
    [
      { ...rule, id: 'x6', recipients: [{ channel: 'webhook', address: 'https://example.com/hook' }] },
      'body.recipients.0.channel',
    ],
  ];
  for (const [payload, path] of cases) {
    const res = await post(payload);
    assert.equal(res.statusCode, 400, `${path}: ${res.body}`);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.ok(
      res.json().errors.some((e: { path: string }) => e.path === path),
      `${path} named in ${res.body}`,
    );
  }
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/alerts/rules/weekend-revenue',
    headers: auth('admin'),
    payload: { ...rule, id: 'other-id' },
  });
  assert.equal(put.statusCode, 400);
  assert.equal(put.json().errors[0].path, 'body.id');
  const del = await app.inject({
    method: 'DELETE',
    url: '/api/v1/alerts/rules/below-reorder',
    headers: auth('admin'),
  });
  assert.equal(del.statusCode, 204);
  await app.close();

  const again = await build(t, env);
  const ids = (await again.inject({ url: '/api/v1/alerts/rules', headers: auth('analyst') }))
    .json()
    .items.map((r: AlertRule) => r.id);
  assert.ok(!ids.includes('below-reorder'), 'never seeded again');
  assert.ok(ids.includes('weekend-revenue'));
  const gone = await again.inject({ url: '/api/v1/alerts/rules/below-reorder', headers: auth('analyst') });
  assert.equal(gone.statusCode, 404);
  assert.equal(gone.headers['content-type'], 'application/problem+json; charset=utf-8');
});

test('bad input and unknown ids are problems; viewers read alerts but do not check them', async (t) => {
  const { app } = await appWithSmtp(t);
  const cases: [string, string, string, unknown, number, string?][] = [
    ['POST', '/api/v1/alerts/check', 'analyst', { date: '2026-07-01' }, 400, 'body.date'],
    ['POST', '/api/v1/alerts/check', 'viewer', {}, 403],
    ['GET', '/api/v1/alerts/alr-AAAAAAAAAAAAAAAAAAAAAA', 'viewer', undefined, 404],
    ['GET', '/api/v1/alerts/not-an-id', 'viewer', undefined, 400, 'params.alertId'],
    ['GET', '/api/v1/alerts?from=2026-06-02&to=2026-06-01', 'viewer', undefined, 400, 'query.from'],
    ['POST', '/api/v1/alerts/alr-AAAAAAAAAAAAAAAAAAAAAA/ack', 'analyst', {}, 404],
    ['POST', '/api/v1/alerts/alr-AAAAAAAAAAAAAAAAAAAAAA/snooze', 'analyst', { for: '1d' }, 404],
    ['POST', '/api/v1/alerts/alr-AAAAAAAAAAAAAAAAAAAAAA/snooze', 'analyst', {}, 400, 'body.until'],
    [
      'POST',
      '/api/v1/alerts/alr-AAAAAAAAAAAAAAAAAAAAAA/snooze',
      'analyst',
      { until: '2020-01-01T00:00:00Z' },
      400,
      'body.until',
    ],
    ['POST', '/api/v1/alerts/silences', 'analyst', { for: '1d', comment: 'x' }, 400, 'body.ruleId'],
    [
      'POST',
      '/api/v1/alerts/silences',
      'analyst',
      { ruleId: 'store-orders', comment: 'x' },
      400,
      'body.endsAt',
    ],
    ['GET', '/api/v1/alerts/silences/sil-unknown0001', 'analyst', undefined, 404],
    ['DELETE', '/api/v1/alerts/silences/sil-unknown0001', 'analyst', undefined, 404],
  ];
  for (const [method, url, role, payload, status, path] of cases) {
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers: auth(role as 'viewer'),
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    if (path)
      assert.ok(
        res.json().errors.some((e: { path: string }) => e.path === path),
        `${path} named in ${res.body}`,
      );
  }
});
