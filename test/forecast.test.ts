/** The forecast endpoint over a small deterministic upstream: shapes, groups, stock-outs, errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDay, parseDay, weekday } from '../src/lib/calendar.ts';
import { auth, build } from './helpers/app.ts';
import { json, startServer } from './helpers/http-server.ts';

const TODAY = '2026-06-01';
const FIRST = parseDay('2026-01-01')!;
const STOCK_OUT_FROM = parseDay('2026-05-27')!; // P1 sells nothing from here on, and is out of stock

/** Lines of one day: P1 flat 3 units/day (until its stock-out), P2 with a weekly pattern, in two stores. */
function linesOf(day: number) {
  if (day < FIRST || day >= parseDay(TODAY)!) return [];
  const date = formatDay(day);
  const lines = [];
  const wd = weekday(day); // 0 = Sunday
  const p2units = [2, 4, 4, 4, 5, 9, 12][wd]!;
  if (day < STOCK_OUT_FROM) {
    lines.push({
      id: `${date}-1`,
      orderId: `${date}-a`,
      storeId: 1,
      productId: 'P1',
      quantity: 3,
      unitPrice: 10,
      amount: 30,
    });
  }
  lines.push({
    id: `${date}-2`,
    orderId: `${date}-b`,
    storeId: 1,
    productId: 'P2',
    quantity: p2units,
    unitPrice: 5,
    amount: p2units * 5,
  });
  lines.push({
    id: `${date}-3`,
    orderId: `${date}-c`,
    storeId: 2,
    productId: 'P2',
    quantity: 1,
    unitPrice: 5,
    amount: 5,
  });
  return lines.map((l) => ({ ...l, soldAt: `${date}T12:00:00+02:00`, unitCost: 1 }));
}

async function upstream(t: Parameters<typeof startServer>[0]) {
  return startServer(t, (req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/stores')
      return json(res, 200, [
        { id: 1, name: 'Big', city: 'Paris', region: 'IDF', employees: 10 },
        { id: 2, name: 'Small', city: 'Lyon', region: 'ARA', employees: 3 },
      ]);
    if (u.pathname === '/products')
      return json(res, 200, [
        { id: 'P1', sku: 'S1', name: 'Flat', category: 'C', brand: 'B', price: 10, cost: 1 },
        { id: 'P2', sku: 'S2', name: 'Weekly', category: 'C', brand: 'B', price: 5, cost: 1 },
      ]);
    if (u.pathname === '/stock')
      return json(res, 200, [
        { storeId: 1, productId: 'P1', quantity: 0, reorderLevel: 5 },
        { storeId: 1, productId: 'P2', quantity: 40, reorderLevel: 5 },
        { storeId: 2, productId: 'P2', quantity: 10, reorderLevel: 5 },
      ]);
    const day = parseDay(u.searchParams.get('from') ?? '')!;
    const content = linesOf(day);
    return json(res, 200, {
      content,
      number: 0,
      size: 5000,
      totalElements: content.length,
      totalPages: 1,
      last: true,
    });
  });
}

const post = (app: Awaited<ReturnType<typeof build>>, payload: unknown) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/ml/forecast',
    headers: auth('viewer'),
    payload: payload as object,
  });

test('a daily revenue forecast: dates follow the history, intervals bracket the value, backtest vs naive', async (t) => {
  const up = await upstream(t);
  const app = await build(t, { UPSTREAM_URL: up.url, ANALYTICS_TODAY: TODAY });
  const res = await post(app, {
    history: { from: '2026-01-05', to: '2026-05-24' },
    horizon: 14,
    filters: { productId: ['P2'] },
  });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.series.length, 1);
  const s = body.series[0];
  assert.equal(s.history.length, 140);
  assert.equal(s.history[0].date, '2026-01-05');
  assert.equal(s.history[0].value, 25); // a Monday: 4 units × 5 in store 1, + 5 in store 2
  assert.equal(s.forecast.length, 14);
  assert.equal(s.forecast[0].date, '2026-05-25');
  for (const p of s.forecast) {
    assert.ok(
      p.lower['95'] <= p.lower['80'] &&
        p.lower['80'] <= p.value &&
        p.value <= p.upper['80'] &&
        p.upper['80'] <= p.upper['95'],
    );
  }
  // A noise-free weekly pattern: the seasonal model nails it, far better than a naive guess on average.
  assert.equal(
    s.model.name === 'seasonal_regression' || s.model.name === 'seasonal_naive',
    true,
    s.model.reason,
  );
  assert.equal(s.backtest.method, 'rolling_origin');
  assert.ok(s.backtest.folds >= 3);
  assert.equal(s.backtest.baseline.name, 'seasonal_naive');
  // Saturday (2026-05-30) is the weekly peak: 12 × 5 + 5 = 65.
  const saturday = s.forecast.find((p: { date: string }) => p.date === '2026-05-30');
  assert.ok(Math.abs(saturday.value - 65) < 1, `Saturday forecast ${saturday.value}`);
  assert.equal(body.meta.complete, true);

  const again = await post(app, {
    history: { from: '2026-01-05', to: '2026-05-24' },
    horizon: 14,
    filters: { productId: ['P2'] },
  });
  assert.equal(again.json().meta.cached, true);
});

test('groupBy gives one series per group, in revenue order', async (t) => {
  const up = await upstream(t);
  const app = await build(t, { UPSTREAM_URL: up.url, ANALYTICS_TODAY: TODAY });
  const res = await post(app, {
    groupBy: 'store',
    granularity: 'week',
    history: { from: '2026-01-05', to: '2026-05-31' },
  });
  assert.equal(res.statusCode, 200, res.body);
  const series = res.json().series;
  assert.deepEqual(
    series.map((s: { keys: { store: string } }) => s.keys.store),
    ['1', '2'],
  );
  assert.equal(series[0].labels.store, 'Big');
  assert.equal(series[0].history.length, 21); // full ISO weeks 2026-W02 .. 2026-W22
  assert.equal(series[0].forecast.length, 8);
  assert.equal(series[0].forecast[0].date, '2026-06-01');
});

test('zero sales while out of stock are left out of fitting, with a warning', async (t) => {
  const up = await upstream(t);
  const app = await build(t, { UPSTREAM_URL: up.url, ANALYTICS_TODAY: TODAY });
  const res = await post(app, {
    groupBy: 'product',
    target: 'units',
    history: { from: '2026-03-01', to: '2026-05-31' },
    horizon: 7,
  });
  assert.equal(res.statusCode, 200, res.body);
  const p1 = res.json().series.find((s: { keys: { product: string } }) => s.keys.product === 'P1');
  assert.ok(p1, 'P1 has a series');
  assert.match(p1.warnings.join(' '), /5 days at the end of the history left out of fitting/);
  // Demand was 3 a day: the forecast says so instead of dropping towards zero.
  for (const p of p1.forecast) assert.ok(Math.abs(p.value - 3) < 0.5, `P1 forecast ${p.value}`);
  const p2 = res.json().series.find((s: { keys: { product: string } }) => s.keys.product === 'P2');
  assert.deepEqual(
    p2.warnings.filter((w: string) => /stock/.test(w)),
    [],
  );
});

test('no usable history is a 422 that says how much is needed', async (t) => {
  const up = await upstream(t);
  const app = await build(t, { UPSTREAM_URL: up.url, ANALYTICS_TODAY: TODAY });
  const res = await post(app, { history: { from: '2025-10-01', to: '2025-10-10' }, granularity: 'month' });
  assert.equal(res.statusCode, 422, res.body);
  const body = res.json();
  assert.equal(body.type, 'urn:salesflow:problem:insufficient-history');
  assert.match(body.detail, /2025-10-01\.\.2025-10-10/);
});

test('bad input is a 400 naming the field', async (t) => {
  const app = await build(t, { ANALYTICS_TODAY: TODAY });
  const cases: [unknown, string][] = [
    [{ horizon: 400 }, 'body.horizon'],
    [{ granularity: 'week', horizon: 53 }, 'body.horizon'],
    [{ granularity: 'month', horizon: 13 }, 'body.horizon'],
    [{ horizon: 0 }, 'body.horizon'],
    [{ target: 'profit' }, 'body.target'],
    [{ model: 'prophet' }, 'body.model'],
    [{ groupBy: 'week' }, 'body.groupBy'],
    [{ top: 101 }, 'body.top'],
    [{ levels: [80, 80] }, 'body.levels'],
    [{ levels: [100] }, 'body.levels.0'],
    [{ history: { from: '2026-05-01', to: '2026-04-01' } }, 'body.history.from'],
    [{ history: { from: '2020-01-01', to: '2026-01-01' } }, 'body.history.to'],
    [{ filters: { storeId: 'x' } }, 'body.filters.storeId'],
    [{ horizon: 7, colour: 'red' }, 'body'],
  ];
  for (const [payload, path] of cases) {
    const res = await post(app, payload);
    assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
    const paths = (res.json().errors as { path: string }[]).map((e) => e.path);
    assert.ok(paths.includes(path), `${JSON.stringify(payload)} names ${path}; got ${paths.join(', ')}`);
  }
});

/** Two years and a bit of one product with a yearly swing, a weekday pattern and growth, from 2024-05-01. */
const LONG_FIRST = parseDay('2024-05-01')!;
async function longUpstream(t: Parameters<typeof startServer>[0]) {
  return startServer(t, (req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/stores')
      return json(res, 200, [{ id: 1, name: 'Big', city: 'Paris', region: 'IDF', employees: 10 }]);
    if (u.pathname === '/products')
      return json(res, 200, [
        { id: 'P1', sku: 'S1', name: 'One', category: 'C', brand: 'B', price: 10, cost: 1 },
      ]);
    if (u.pathname === '/stock') return json(res, 200, []);
    const day = parseDay(u.searchParams.get('from') ?? '')!;
    const content = [];
    if (day >= LONG_FIRST && day < parseDay(TODAY)!) {
      const date = formatDay(day);
      const month = new Date(day * 86_400_000).getUTCMonth();
      const units = Math.round(
        (20 + (day - LONG_FIRST) / 60) *
          (1 + 0.4 * Math.sin((2 * Math.PI * month) / 12)) *
          [1, 1, 1, 1, 1.2, 1.6, 1.4][weekday(day)]!,
      );
      content.push({
        id: `${date}-1`,
        orderId: `${date}-a`,
        storeId: 1,
        productId: 'P1',
        quantity: units,
        unitPrice: 10,
        amount: units * 10,
        soldAt: `${date}T12:00:00+02:00`,
        unitCost: 1,
      });
    }
    return json(res, 200, {
      content,
      number: 0,
      size: 5000,
      totalElements: content.length,
      totalPages: 1,
      last: true,
    });
  });
}

test('months and weeks: two years keep their season, the history starts at the first sale, meta echoes the request', async (t) => {
  const up = await longUpstream(t);
  const app = await build(t, { UPSTREAM_URL: up.url, ANALYTICS_TODAY: TODAY });

  // From mid-June 2024: the window widens back to 1 June, so 24 full months, not 23.
  const monthly = await post(app, {
    granularity: 'month',
    history: { from: '2024-06-15', to: '2026-05-31' },
    model: 'auto',
  });
  assert.equal(monthly.statusCode, 200, monthly.body);
  const m = monthly.json();
  const series = m.series[0];
  assert.equal(series.history.length, 24);
  assert.equal(series.history[0].date, '2024-06-01');
  assert.deepEqual(
    series.warnings.filter((w: string) => /not considered/.test(w)),
    [],
  );
  assert.deepEqual(
    { target: m.meta.target, granularity: m.meta.granularity, horizon: m.meta.horizon },
    { target: 'revenue', granularity: 'month', horizon: 3 },
  );
  assert.equal(series.backtest.scored.to, '2026-05-01');
  assert.ok(Object.keys(series.backtest.coverage).every((k) => ['80', '95'].includes(k)));

  // Weekly data with two full years gets the yearly season: 51 week dummies.
  const weekly = await post(app, {
    granularity: 'week',
    history: { from: '2024-05-06', to: '2026-05-31' },
    model: 'seasonal_regression',
    target: 'units',
  });
  assert.equal(weekly.statusCode, 200, weekly.body);
  const w = weekly.json().series[0];
  assert.equal(w.model.name, 'seasonal_regression');
  assert.equal(w.model.features.length, 53);
  assert.match(w.model.featureNotes.week_2, /^ISO week 2 against week 1/);

  // Daily, from before the first sale: no leading zero day; coefficients rounded; dow explained.
  const daily = await post(app, {
    history: { from: '2024-04-20', to: '2024-08-31' },
    model: 'seasonal_regression',
    horizon: 7,
  });
  assert.equal(daily.statusCode, 200, daily.body);
  const d = daily.json().series[0];
  assert.equal(d.history[0].date, '2024-05-01');
  assert.ok(d.history[0].value > 0);
  for (const [name, v] of Object.entries(d.model.coefficients as Record<string, number>)) {
    const text = String(v);
    const decimals = text.includes('.') ? text.split('.')[1]!.length : 0;
    assert.ok(Math.abs(v) < 1 ? text.replace(/^-?0\.0*/, '').length <= 4 : decimals <= 2, `${name}: ${v}`);
  }
  assert.deepEqual(
    ['dow_1', 'dow_6'].map((f) => d.model.featureNotes[f]),
    ['Tuesday against Monday', 'Sunday against Monday'].map((note) =>
      d.model.transform === 'log1p' ? `${note} (on the log(1 + value) scale)` : note,
    ),
  );
  assert.match(d.model.featureNotes.trend, /per day/);
  for (const v of [d.backtest.mae, d.backtest.rmse, d.backtest.smape]) {
    assert.equal(Math.round(v * 100) / 100, v);
  }
});

test('weekly and monthly history may cover 1,827 days; daily stays at 1,096', async (t) => {
  const app = await build(t, { ANALYTICS_TODAY: TODAY });
  for (const [payload, ok] of [
    [{ granularity: 'month', history: { from: '2021-06-01', to: '2026-05-31' } }, true],
    [{ granularity: 'week', history: { from: '2021-06-01', to: '2026-05-31' } }, true],
    [{ granularity: 'month', history: { from: '2021-05-30', to: '2026-05-31' } }, false],
    [{ granularity: 'day', history: { from: '2023-05-01', to: '2026-05-31' } }, false],
  ] as const) {
    const res = await post(app, payload);
    if (ok) assert.notEqual(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
    else {
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(res.body, /history may cover at most (1827|1096) days/);
    }
  }
});
