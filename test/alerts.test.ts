/**
 * GET /alerts/backtest over a small deterministic upstream (a real HTTP server): weekday
 * baselines, a drop explained by the product that stopped selling, holidays left out of baselines
 * and labelled, closed days and a closed store that are no drops, a stock-out's lost sales.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDay, parseDay, weekday } from '../src/lib/calendar.ts';
import { auth, build } from './helpers/app.ts';
import { json, startServer } from './helpers/http-server.ts';

const TODAY = '2026-07-01';
const FIRST = parseDay('2026-03-01')!;
const D = (s: string) => parseDay(s)!;
const DROP = D('2026-06-01'); // a Monday, the week after Whit Monday (a French public holiday)
const HOLIDAY_SPIKE = D('2026-05-14'); // Ascension, a Thursday
const ALL_CLOSED = D('2026-05-01'); // nobody sold anything
const STORE2_CLOSED = D('2026-06-10');
const STOCK_OUT_FROM = D('2026-06-26'); // P3 stops selling in store 1: its stock is 0

type Line = Record<string, unknown>;

/** Store 1: 30 receipts of P1 a day, 60 on Saturdays; store 2: 25 receipts of P2; P3 3 units/day. */
function linesOf(day: number): Line[] {
  if (day < FIRST || day >= D(TODAY) || day === ALL_CLOSED) return [];
  const date = formatDay(day);
  const out: Line[] = [];
  const add = (store: number, product: string, quantity: number, unitPrice: number, order: string) =>
    out.push({
      id: `${date}-${out.length + 1}`,
      orderId: `${date}-${order}`,
      soldAt: `${date}T12:00:00+02:00`,
      storeId: store,
      productId: product,
      quantity,
      unitPrice,
      amount: quantity * unitPrice,
    });
  let n1 = weekday(day) === 6 ? 60 : 30;
  if (day === DROP) n1 = 5;
  if (day === HOLIDAY_SPIKE) n1 = 60;
  for (let k = 0; k < n1; k++) add(1, 'P1', 1, 10, `a${k}`);
  if (day !== STORE2_CLOSED) for (let k = 0; k < 25; k++) add(2, 'P2', 1, 5, `b${k}`);
  if (day < STOCK_OUT_FROM) add(1, 'P3', 3, 20, 'c');
  return out;
}

async function upstream(t: Parameters<typeof startServer>[0]) {
  return startServer(t, (req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/stores')
      return json(res, 200, [
        { id: 1, name: 'Paris Centre', city: 'Paris', region: 'IDF', employees: 10 },
        { id: 2, name: 'Lyon Centre', city: 'Lyon', region: 'ARA', employees: 8 },
      ]);
    if (u.pathname === '/products')
      return json(res, 200, [
        { id: 'P1', sku: 'S1', name: 'Coffee', category: 'Grocery', brand: 'B1', price: 10 },
        { id: 'P2', sku: 'S2', name: 'Tea', category: 'Grocery', brand: 'B2', price: 5 },
        { id: 'P3', sku: 'S3', name: 'Kettle', category: 'Kitchen', brand: 'B3', price: 20 },
      ]);
    if (u.pathname === '/stock')
      return json(res, 200, [
        { storeId: 1, productId: 'P1', quantity: 500, reorderLevel: 50 },
        { storeId: 1, productId: 'P3', quantity: 0, reorderLevel: 5 },
        { storeId: 2, productId: 'P2', quantity: 500, reorderLevel: 50 },
      ]);
    const content = linesOf(D(u.searchParams.get('from') ?? ''));
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

interface Fired {
  ruleId: string;
  entity: { id: string; level: string };
  kind: string;
  startedOn: string;
  firedOn: string;
  resolvedOn: string | null;
  candidate: {
    actual: number;
    expected: number;
    score: number | null;
    holiday?: string;
    lostRevenue?: number;
    baselineDays?: string[];
    explanation: { summary: string; contributors: { kind: string; id: string; share: number }[] };
  };
}

test('a backtest finds the drop and the holiday spike, and not the closed days', async (t) => {
  const up = await upstream(t);
  const app = await build(t, { UPSTREAM_URL: up.url, ANALYTICS_TODAY: TODAY, HOLIDAYS_COUNTRY: 'FR' });
  const res = await app.inject({
    url: '/api/v1/alerts/backtest?from=2026-04-15&to=2026-06-30&rule=store-orders',
    headers: auth('analyst'),
  });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.deepEqual(body.rules, ['store-orders']);
  const alerts = body.alerts as Fired[];
  assert.deepEqual(
    alerts.map((a) => [a.entity.id, a.kind, a.firedOn, a.resolvedOn]),
    [
      ['1', 'spike', '2026-05-14', '2026-05-15'],
      ['1', 'drop', '2026-06-01', '2026-06-02'],
    ],
    'nothing on the closed store day, nor on Saturdays (compared with Saturdays)',
  );
  const [spike, drop] = alerts as [Fired, Fired];
  assert.match(spike.candidate.holiday ?? '', /Ascension/);
  // 30 receipts of P1 and one of P3, MAD 0: the spread is the floor √31 (counts); 6 score −25/√31.
  assert.equal(drop.candidate.expected, 31);
  assert.equal(drop.candidate.actual, 6);
  assert.equal(drop.candidate.score, Math.round((-25 / Math.sqrt(31)) * 100) / 100);
  // Whit Monday (2026-05-25) is left out: the six Mondays before it make the baseline.
  assert.deepEqual(drop.candidate.baselineDays, [
    '2026-05-18',
    '2026-05-11',
    '2026-05-04',
    '2026-04-27',
    '2026-04-20',
    '2026-04-13',
  ]);
  const named = drop.candidate.explanation.contributors.map((c) => `${c.kind}:${c.id}`);
  assert.ok(named.includes('product:P1'), named.join());
  assert.ok(named.includes('category:Grocery'), named.join());
  assert.match(drop.candidate.explanation.summary, /Paris Centre: orders down to 6 against 31 expected/);
  assert.ok(body.days.closed.includes('2026-05-01'), 'the day nobody sold anything is closed');
  assert.ok(
    body.days.holidays.some((h: { day: string }) => h.day === '2026-05-25'),
    'holidays of the window are listed',
  );
  assert.ok(body.skipped.closed >= 1, 'store 2 closed on 2026-06-10 is counted as closed');
});

test('out of stock with lost sales estimated from the baseline, on the last day only', async (t) => {
  const up = await upstream(t);
  const app = await build(t, { UPSTREAM_URL: up.url, ANALYTICS_TODAY: TODAY });
  const res = await app.inject({
    url: '/api/v1/alerts/backtest?from=2026-06-20&to=2026-06-30&rule=out-of-stock',
    headers: auth('analyst'),
  });
  assert.equal(res.statusCode, 200, res.body);
  const alerts = res.json().alerts as Fired[];
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.entity.id, '1/P3');
  assert.equal(a.kind, 'out_of_stock_lost_sales');
  assert.equal(a.firedOn, '2026-06-30');
  assert.equal(a.candidate.lostRevenue, 60, '3 units × 20.00 on a usual Tuesday');
  assert.equal(res.json().skipped.stockUnknown, 10, 'the ten earlier days have no stock history');
});

test('backtest input errors are problems; viewers may not run it', async (t) => {
  const app = await build(t, { ANALYTICS_TODAY: TODAY });
  const cases: [string, string, number][] = [
    ['from=2026-06-30&to=2026-06-01', 'analyst', 400],
    ['from=2024-01-01&to=2026-06-01', 'analyst', 400],
    ['from=2026-06-01&to=2026-06-30&rule=nope', 'analyst', 400],
    ['from=2026-06-01&to=2026-07-01', 'analyst', 400],
    ['from=2026-06-01', 'analyst', 400],
    ['from=2026-06-01&to=2026-06-30', 'viewer', 403],
  ];
  for (const [query, role, status] of cases) {
    const res = await app.inject({
      url: `/api/v1/alerts/backtest?${query}`,
      headers: auth(role as 'analyst'),
    });
    assert.equal(res.statusCode, status, `${query}: ${res.body}`);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
  }
});
