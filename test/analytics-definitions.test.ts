/**
 * Independent oracle for GET /api/v1/analytics/sales, GET /api/v1/analytics/stock and the sync
 * endpoints: every expected figure below was computed BY HAND from the dataset in
 * test/fixtures/analytics-upstream.ts (the arithmetic is in the comments), never by code that
 * mirrors the implementation.
 *
 * Money is rounded to cents only in the answer, half away from zero on the exact decimal sum
 * (three lines of 0.335 → 1.005 → 1.01); percentages to 2 decimals.
 *
 * "Today" is fixed with ANALYTICS_TODAY (2026-04-02 unless a test says otherwise).
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { parseDay } from '../src/lib/calendar.ts';
import { businessDay, SALE_LINES, startAnalyticsUpstream } from './fixtures/analytics-upstream.ts';
import { auth, build } from './helpers/app.ts';

const TODAY = '2026-04-02';

interface Row {
  keys: Record<string, string | undefined>;
  labels: Record<string, string | undefined>;
  revenue: number;
  units: number;
  lines: number;
  orders: number;
  avgOrderValue: number | null;
  profit: number;
  marginPct: number | null;
  share: number;
  previousRevenue: number | null;
  revenueGrowthPct: number | null;
  revenuePerEmployee?: number | null;
  sharePct: number | null;
  partial?: boolean;
}

interface TrendPoint {
  date: string;
  revenue: number;
  units: number;
  orders: number;
  rolling7dAvgRevenue: number;
}

interface SalesAnswer {
  period: { from: string; to: string; days: number };
  comparison: { mode: string; from: string; to: string } | null;
  kpis: {
    revenue: number;
    units: number;
    lines: number;
    orders: number;
    avgOrderValue: number | null;
    cost: number;
    profit: number;
    marginPct: number | null;
    previous: { revenue: number; units: number; orders: number; profit: number } | null;
    revenueGrowthPct: number | null;
    unitsGrowthPct: number | null;
    ordersGrowthPct: number | null;
  };
  rows: Row[];
  totalRows: number;
  trend: TrendPoint[];
  meta: { dataAsOf: unknown; complete: unknown; cached: unknown; computeMs: unknown; currency: string };
}

interface StockRow {
  storeId: string;
  productId: string;
  sku: string;
  name: string;
  category: string;
  brand: string;
  quantity: number;
  reorderLevel: number;
  avgDailyUnits: number;
  daysOfCover: number | null;
  status: 'negative' | 'low' | 'out' | 'ok';
  storeName: string;
  reorderNow: boolean;
  revenueAtStake: number;
}

interface StockAnswer {
  kpis: {
    storeProducts: number;
    products: number;
    units: number;
    stockValue: number;
    negativeStockCount: number;
    lowStockCount: number;
    outOfStockCount: number;
    reorderNowCount: number;
    revenueAtStake: number;
  };
  rows: StockRow[];
  coverDistribution: { bucket: string; storeProducts: number; stockValue: number }[];
  byCategory: {
    category: string;
    storeProducts: number;
    units: number;
    stockValue: number;
    lowStockCount: number;
    outOfStockCount: number;
  }[];
  meta: { currency: string };
}

async function setup(t: TestContext, env: Record<string, string> = {}) {
  const fixture = await startAnalyticsUpstream(t);
  const app = await build(t, {
    UPSTREAM_URL: fixture.url,
    BUSINESS_TZ: 'Europe/Paris',
    ANALYTICS_TODAY: TODAY,
    ...env,
  });
  return { app, fixture };
}

type App = Awaited<ReturnType<typeof setup>>['app'];

async function sales(app: App, query: string): Promise<SalesAnswer> {
  const res = await app.inject({ url: `/api/v1/analytics/sales?${query}`, headers: auth('viewer') });
  assert.equal(res.statusCode, 200, `GET sales?${query} answered ${res.statusCode}: ${res.body}`);
  return res.json() as SalesAnswer;
}

async function stock(app: App, query = ''): Promise<StockAnswer> {
  const res = await app.inject({ url: `/api/v1/analytics/stock?${query}`, headers: auth('viewer') });
  assert.equal(res.statusCode, 200, `GET stock?${query} answered ${res.statusCode}: ${res.body}`);
  return res.json() as StockAnswer;
}

/** Asserts each listed field (only those) of `actual`. */
function expectFields(actual: object, expected: Record<string, unknown>, what: string) {
  const got = actual as Record<string, unknown>;
  for (const [field, value] of Object.entries(expected)) {
    assert.deepEqual(got[field], value, `${what}.${field}: got ${JSON.stringify(got[field])}, want ${value}`);
  }
}

function definedKeys(keys: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined && v !== null));
}

/** The row whose keys are exactly `keys`. */
function rowOf(body: { rows: Row[] }, keys: Record<string, string>): Row {
  const found = body.rows.filter((r) => {
    const k = definedKeys(r.keys);
    return (
      Object.keys(k).length === Object.keys(keys).length && Object.entries(keys).every(([d, v]) => k[d] === v)
    );
  });
  assert.equal(
    found.length,
    1,
    `expected one row ${JSON.stringify(keys)} among ${JSON.stringify(body.rows.map((r) => r.keys))}`,
  );
  return found[0]!;
}

function keyList(body: { rows: Row[] }, dimension: string) {
  return body.rows.map((r) => r.keys[dimension]);
}

function near(actual: number | null | undefined, expected: number, tolerance: number, what: string) {
  assert.equal(typeof actual, 'number', `${what}: got ${actual}, want ≈${expected}`);
  assert.ok(
    Math.abs((actual as number) - expected) <= tolerance,
    `${what}: got ${actual}, want ${expected} ± ${tolerance}`,
  );
}

/** An amount rounded to cents from the exact value `exact` (either neighbour when exactly half). */
function centsOf(actual: number | undefined, exact: number, what: string) {
  near(actual, exact, 0.005 + 1e-9, what);
  assert.ok(Math.abs(actual! * 100 - Math.round(actual! * 100)) < 1e-6, `${what}: ${actual} is not in cents`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------

test('fixture self-check: business days are the calendar dates in Europe/Paris, across the DST switch', () => {
  const dayOf = (id: number) => businessDay(SALE_LINES.find((l) => l.id === id)!.soldAt);
  assert.equal(dayOf(101), '2026-03-25'); // 00:05+01:00 (23:05Z on the 24th)
  assert.equal(dayOf(111), '2026-03-27'); // 23:10Z on the 26th = 00:10 CET
  assert.equal(dayOf(114), '2026-03-28'); // 18:30-05:00 on the 27th = 00:30 CET on the 28th
  assert.equal(dayOf(117), '2026-03-29'); // 23:30Z on the 28th = 00:30 CET on the 29th
  assert.equal(dayOf(118), '2026-03-29'); // 21:59Z on the 29th = 23:59 CEST
  assert.equal(dayOf(119), '2026-03-30'); // 22:30Z on the 29th = 00:30 CEST on the 30th
  assert.equal(dayOf(121), '2026-03-31'); // 00:15+02:00 (22:15Z on the 30th)
  assert.equal(dayOf(404), '2026-01-01'); // 23:30Z on 31 Dec = 00:30 CET on 1 Jan
});

test('kpis of the main week: revenue, units, lines, orders, cost with the unitCost fallback, profit, margin', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, 'from=2026-03-25&to=2026-03-31&compare=none');
  assert.deepEqual(body.period, { from: '2026-03-25', to: '2026-03-31', days: 7 });
  assert.equal(body.comparison, null);
  // Per day (Paris):      revenue   units  lines  orders  cost
  //   03-25              76.00      8      5      3      14+9+4+10.5+6 = 43.5
  //   03-26              28.505     6      5      3      14+0.375+2 = 16.375
  //   03-27              26.00      3.5    3      3      2+6+6 = 14
  //   03-28              52.50      4      3      2      18+7+6 = 31
  //   03-29              28.50      3      2      2      7+8 = 15
  //   03-30              20.99      2      2      2      2.5+9 = 11.5
  //   03-31              57.50      5      2      2      20.4+12 = 32.4
  // revenue = 76+28.505+26+52.5+28.5+20.99+57.5 = 289.995 → 290.00 (exact half: away from zero)
  // units = 8+6+3.5+4+3+2+5 = 31.5; lines = 22; orders O1..O17 = 17
  // cost = 43.5+16.375+14+31+15+11.5+32.4 = 163.775 → 163.78
  // profit = 289.995 - 163.775 = 126.22; marginPct = 126.22 / 289.995 × 100 = 43.5249 → 43.52
  // avgOrderValue = 289.995 / 17 = 17.0585 → 17.06
  expectFields(
    body.kpis,
    {
      revenue: 290,
      units: 31.5,
      lines: 22,
      orders: 17,
      avgOrderValue: 17.06,
      cost: 163.78,
      profit: 126.22,
      marginPct: 43.52,
      previous: null,
      revenueGrowthPct: null,
      unitsGrowthPct: null,
      ordersGrowthPct: null,
    },
    'kpis',
  );
  assert.equal(typeof body.meta.computeMs, 'number');
  assert.equal(typeof body.meta.complete, 'boolean');
  assert.equal(typeof body.meta.cached, 'boolean');
  assert.ok(body.meta.dataAsOf !== undefined, 'meta.dataAsOf is present');
});

test('business day: lines near midnight count on their Paris date, across the DST switch', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, 'from=2026-03-25&to=2026-03-31&groupBy=day&compare=none&sort=revenue');
  assert.equal(body.totalRows, 7);
  // 03-25: L101 (00:05+01:00 = 23:05Z on the 24th) 25 + L102 15 + L103 8 + L104 18 + L105 10 = 76
  expectFields(rowOf(body, { day: '2026-03-25' }), { revenue: 76, units: 8, lines: 5, orders: 3 }, '03-25');
  // 03-26: 22.5 + 3 × 0.335 + 5 = 28.505 → 28.51 (L111 at 23:10Z is NOT here)
  expectFields(
    rowOf(body, { day: '2026-03-26' }),
    { revenue: 28.51, units: 6, lines: 5, orders: 3 },
    '03-26',
  );
  // 03-27: L111 4 (23:10Z the day before) + L112 10 + L113 12 = 26; units 0.5+1+2 = 3.5
  expectFields(rowOf(body, { day: '2026-03-27' }), { revenue: 26, units: 3.5, lines: 3, orders: 3 }, '03-27');
  // 03-28: L114 30 (18:30-05:00 on the 27th) + L115 12.5 + L116 10 = 52.5; orders O10, O11
  expectFields(rowOf(body, { day: '2026-03-28' }), { revenue: 52.5, units: 4, lines: 3, orders: 2 }, '03-28');
  // 03-29: L117 12.5 (23:30Z on the 28th = 00:30 CET) + L118 16 (21:59Z = 23:59 CEST) = 28.5
  expectFields(rowOf(body, { day: '2026-03-29' }), { revenue: 28.5, units: 3, lines: 2, orders: 2 }, '03-29');
  // 03-30: L119 6 (22:30Z on the 29th = 00:30 CEST) + L120 14.99 = 20.99
  expectFields(
    rowOf(body, { day: '2026-03-30' }),
    { revenue: 20.99, units: 2, lines: 2, orders: 2 },
    '03-30',
  );
  // 03-31: L121 37.5 (00:15+02:00 = 22:15Z on the 30th) + L122 20 = 57.5
  expectFields(rowOf(body, { day: '2026-03-31' }), { revenue: 57.5, units: 5, lines: 2, orders: 2 }, '03-31');

  // 03-24 alone: L206 25 + L207 12 = 37 (L101, 23:05Z on the 24th, belongs to the 25th)
  const day24 = await sales(app, 'from=2026-03-24&to=2026-03-24&compare=none');
  expectFields(day24.kpis, { revenue: 37, units: 4, lines: 2, orders: 2 }, '03-24 kpis');
});

test('store rows: labels, revenuePerEmployee, share, unknown store kept; previous_period growth per store', async (t) => {
  const { app } = await setup(t);
  const body = await sales(
    app,
    'from=2026-03-25&to=2026-03-31&groupBy=store&compare=previous_period&sort=revenue',
  );
  assert.deepEqual(body.comparison, { mode: 'previous_period', from: '2026-03-18', to: '2026-03-24' });
  assert.equal(body.totalRows, 4);
  // Store 1: L101 25, L102 15, L103 8, L106 22.5, L114 30, L118 16, L119 6, L122 20 = 142.5
  //   units 2+1+1+2+2+2+1+2 = 13; lines 8; orders O1,O4,O10,O13,O14,O17 = 6
  //   cost 14+9+4+14+18+8+2.5+12 = 81.5 → profit 61, margin 61/142.5 = 42.807 → 42.81
  //   previous (18..24): L201 25 + L204 20 + L206 25 = 70 → growth (142.5-70)/70 = 103.571 → 103.57
  // Store 2: L104 18, L107-109 1.005, L113 12, L117 12.5, L120 14.99 = 58.495 → 58.50
  //   units 3+3+2+1+1 = 10; lines 7; orders O2,O5,O9,O12,O15 = 5; cost 10.5+0.375+6+7+9 = 32.875
  //   profit 25.62, margin 25.62/58.495 = 43.7986 → 43.80; avgOrderValue 58.495/5 = 11.699 → 11.70
  //   revenuePerEmployee 58.495/5 = 11.699 → 11.70; previous L202 15 + L205 20 = 35 → 67.1286 → 67.13
  // S3: L105 10, L110 5, L111 4, L115 12.5, L116 10, L121 37.5 = 79; units 1+1+0.5+1+1+3 = 7.5
  //   orders O3,O6,O7,O11,O16 = 5; cost 6+2+2+7+6+20.4 = 43.4; profit 35.6; margin 45.0633 → 45.06
  //   revenuePerEmployee 79/4 = 19.75; previous L203 30 + L207 12 = 42 → (79-42)/42 = 88.0952 → 88.10
  // S9 (not in the catalogue): L112 10; cost 6; profit 4; margin 40; previous 0 → growth null
  // Sorted by revenue: 1 (142.5), S3 (79), 2 (58.495), S9 (10)
  assert.deepEqual(keyList(body, 'store'), ['1', 'S3', '2', 'S9']);
  const s1 = rowOf(body, { store: '1' });
  expectFields(
    s1,
    {
      revenue: 142.5,
      units: 13,
      lines: 8,
      orders: 6,
      avgOrderValue: 23.75, // 142.5 / 6
      profit: 61,
      marginPct: 42.81,
      previousRevenue: 70,
      revenueGrowthPct: 103.57,
      revenuePerEmployee: 14.25, // 142.5 / 10
    },
    'store 1',
  );
  assert.equal(s1.labels.store, 'Paris Rivoli');
  near(s1.share, 142.5 / 289.995, 0.005, 'store 1 share'); // 0.4914
  const s2 = rowOf(body, { store: '2' });
  expectFields(
    s2,
    {
      revenue: 58.5,
      units: 10,
      lines: 7,
      orders: 5,
      avgOrderValue: 11.7,
      profit: 25.62,
      marginPct: 43.8,
      previousRevenue: 35,
      revenueGrowthPct: 67.13,
      revenuePerEmployee: 11.7,
    },
    'store 2',
  );
  assert.equal(s2.labels.store, 'Lille Centre');
  const s3 = rowOf(body, { store: 'S3' });
  expectFields(
    s3,
    {
      revenue: 79,
      units: 7.5,
      lines: 6,
      orders: 5,
      avgOrderValue: 15.8, // 79 / 5
      profit: 35.6,
      marginPct: 45.06,
      previousRevenue: 42,
      revenueGrowthPct: 88.1,
      revenuePerEmployee: 19.75,
    },
    'store S3',
  );
  assert.equal(s3.labels.store, 'Lyon Part-Dieu');
  const s9 = rowOf(body, { store: 'S9' });
  expectFields(
    s9,
    {
      revenue: 10,
      units: 1,
      lines: 1,
      orders: 1,
      profit: 4,
      marginPct: 40,
      previousRevenue: 0,
      revenueGrowthPct: null,
    },
    'store S9',
  );
  assert.equal(s9.labels.store, 'unknown');
  // shares add up to 1 (142.5 + 58.495 + 79 + 10 = 289.995)
  near(
    body.rows.reduce((sum, r) => sum + r.share, 0),
    1,
    0.02,
    'sum of shares',
  );

  // Regions: North = stores 1 and 2 = 142.5 + 58.495 = 200.995 → 201.00, previous 70 + 35 = 105
  //   → growth 95.995/105 = 91.4238 → 91.42; orders 6 + 5 = 11; units 13 + 10 = 23
  // South = S3: 79, previous 42, 88.10; unknown = S9: 10, previous 0 → null
  const regions = await sales(app, 'from=2026-03-25&to=2026-03-31&groupBy=region&compare=previous_period');
  assert.equal(regions.totalRows, 3);
  expectFields(
    rowOf(regions, { region: 'North' }),
    { revenue: 201, units: 23, orders: 11, previousRevenue: 105, revenueGrowthPct: 91.42 },
    'North',
  );
  expectFields(
    rowOf(regions, { region: 'South' }),
    { revenue: 79, units: 7.5, orders: 5, previousRevenue: 42, revenueGrowthPct: 88.1 },
    'South',
  );
  expectFields(
    rowOf(regions, { region: 'unknown' }),
    { revenue: 10, units: 1, orders: 1, revenueGrowthPct: null },
    'unknown region',
  );
});

test('a store that sold only in the comparison window appears with revenue 0 and growth -100', async (t) => {
  const { app } = await setup(t);
  // Period 03-29..03-30 (2 days) → previous_period 03-27..03-28.
  // Current: store 1 = L118 16 + L119 6 = 22; store 2 = L117 12.5 + L120 14.99 = 27.49; total 49.49
  // Previous: store 1 = L114 30; store 2 = L113 12; S3 = L111 4 + L115 12.5 + L116 10 = 26.5; S9 = L112 10
  //   total 78.5
  const body = await sales(
    app,
    'from=2026-03-29&to=2026-03-30&groupBy=store&compare=previous_period&sort=revenue',
  );
  assert.deepEqual(body.comparison, { mode: 'previous_period', from: '2026-03-27', to: '2026-03-28' });
  // revenue: 2 (27.49), 1 (22), then S3 and S9 tied at 0 → by key ascending
  assert.deepEqual(keyList(body, 'store'), ['2', '1', 'S3', 'S9']);
  assert.equal(body.totalRows, 4);
  expectFields(
    rowOf(body, { store: '2' }),
    // (27.49-12)/12 = 129.083 → 129.08; 27.49/5 = 5.498 → 5.50
    { revenue: 27.49, previousRevenue: 12, revenueGrowthPct: 129.08, revenuePerEmployee: 5.5 },
    'store 2',
  );
  expectFields(
    rowOf(body, { store: '1' }),
    // (22-30)/30 = -26.667 → -26.67
    { revenue: 22, previousRevenue: 30, revenueGrowthPct: -26.67, revenuePerEmployee: 2.2 },
    'store 1',
  );
  const s3 = rowOf(body, { store: 'S3' });
  expectFields(
    s3,
    { revenue: 0, units: 0, lines: 0, orders: 0, previousRevenue: 26.5, revenueGrowthPct: -100 },
    'store S3',
  );
  assert.equal(s3.labels.store, 'Lyon Part-Dieu');
  expectFields(
    rowOf(body, { store: 'S9' }),
    { revenue: 0, previousRevenue: 10, revenueGrowthPct: -100 },
    'store S9',
  );
  // kpis: revenue 49.49 vs 78.5 → -29.01/78.5 = -36.955 → -36.96
  //   units 1+2+1+1 = 5 vs 0.5+1+2+2+1+1 = 7.5 → -33.33; orders O12..O15 = 4 vs O7..O11 = 5 → -20
  expectFields(
    body.kpis,
    {
      revenue: 49.49,
      units: 5,
      orders: 4,
      revenueGrowthPct: -36.96,
      unitsGrowthPct: -33.33,
      ordersGrowthPct: -20,
    },
    'kpis',
  );
  expectFields(body.kpis.previous ?? {}, { revenue: 78.5, units: 7.5, orders: 5 }, 'kpis.previous');
});

test('orders are distinct per brand and per category: an order with two lines of a group counts once', async (t) => {
  const { app } = await setup(t);
  // Brands over 03-25..03-31:
  // Lavazza (P1, 5): L101 25 O1, L102 15 O1, L106 22.5 O4, L114 30 O10, L115 12.5 O11, L117 12.5 O12,
  //   L120 14.99 O15, L121 37.5 O16 = 169.99; units 2+1+2+2+1+1+1+3 = 13; lines 8;
  //   orders O1,O4,O10,O11,O12,O15,O16 = 7 (O1 has two Lavazza lines); cost 14+9+14+18+7+7+9+20.4 = 98.4
  //   profit 71.59; avgOrderValue 169.99/7 = 24.284 → 24.28
  // Illy (P2): L105 10, L112 10, L116 10, L122 20 = 50; units 5; lines 4; orders 4; cost 30
  // Kusmi (P3, P4, P6): L103 8, L104 18, L107-109 1.005, L111 4, L113 12, L118 16, L119 6 = 65.005
  //   → 65.01; units 1+3+3+0.5+2+2+1 = 12.5; lines 9; orders O1,O2,O5,O7,O9,O13,O14 = 7; cost 33.375
  // unknown (P99): L110 5; 1 unit; 1 line; 1 order; cost 2
  // Σ orders over brands = 7+4+7+1 = 19 > 17 (O1 and O11 span two brands)
  const brands = await sales(app, 'from=2026-03-25&to=2026-03-31&groupBy=brand&compare=none');
  assert.equal(brands.totalRows, 4);
  expectFields(
    rowOf(brands, { brand: 'Lavazza' }),
    { revenue: 169.99, units: 13, lines: 8, orders: 7, avgOrderValue: 24.28, profit: 71.59 },
    'Lavazza',
  );
  expectFields(
    rowOf(brands, { brand: 'Illy' }),
    { revenue: 50, units: 5, lines: 4, orders: 4, profit: 20 },
    'Illy',
  );
  expectFields(
    rowOf(brands, { brand: 'Kusmi' }),
    { revenue: 65.01, units: 12.5, lines: 9, orders: 7, profit: 31.63 }, // 65.005 - 33.375 = 31.63
    'Kusmi',
  );
  expectFields(
    rowOf(brands, { brand: 'unknown' }),
    { revenue: 5, units: 1, lines: 1, orders: 1 },
    'unknown brand',
  );
  assert.equal(brands.kpis.orders, 17);

  // Categories:
  // Coffee (P1, P2): 25+10+22.5+10+12.5+10+12.5+37.5+20 = 160; units 14; lines 9;
  //   orders O1,O3,O4,O8,O11,O12,O16,O17 = 8 (O11 has two Coffee lines); cost 92.4 → profit 67.6
  // Tea (P3, P4): 8+18+4+12+16+6 = 64; units 9.5; lines 6; orders 6; cost 33 → profit 31
  // Accessories (5, P6): 15+1.005+30+14.99 = 60.995 → 61.00; units 7; lines 6; orders O1,O5,O10,O15 = 4
  //   cost 9+0.375+18+9 = 36.375 → profit 24.62
  // unknown: P99 5
  const categories = await sales(app, 'from=2026-03-25&to=2026-03-31&groupBy=category&compare=none');
  assert.equal(categories.totalRows, 4);
  expectFields(
    rowOf(categories, { category: 'Coffee' }),
    { revenue: 160, units: 14, lines: 9, orders: 8, profit: 67.6, avgOrderValue: 20 },
    'Coffee',
  );
  expectFields(
    rowOf(categories, { category: 'Tea' }),
    { revenue: 64, units: 9.5, lines: 6, orders: 6, profit: 31 },
    'Tea',
  );
  expectFields(
    rowOf(categories, { category: 'Accessories' }),
    { revenue: 61, units: 7, lines: 6, orders: 4, profit: 24.62 },
    'Accessories',
  );
  expectFields(rowOf(categories, { category: 'unknown' }), { revenue: 5, orders: 1 }, 'unknown category');
});

test('product rows: cost falls back to the product cost × quantity, unknown product kept, cents at the end', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, 'from=2026-03-25&to=2026-03-31&groupBy=product&compare=none&sort=revenue');
  assert.equal(body.totalRows, 7);
  // P1: L101 25 (uc 7: 14), L106 22.5 (no unitCost, qty 2: 2×7 = 14), L115 12.5 (7), L117 12.5 (7),
  //   L121 37.5 (uc 6.8 × 3 = 20.4) = 110; cost 62.4; profit 47.6; margin 47.6/110 = 43.27; orders 5
  const p1 = rowOf(body, { product: 'P1' });
  expectFields(
    p1,
    { revenue: 110, units: 9, lines: 5, orders: 5, avgOrderValue: 22, profit: 47.6, marginPct: 43.27 },
    'P1',
  );
  assert.equal(p1.labels.product, 'Espresso beans');
  near(p1.share, 110 / 289.995, 0.005, 'P1 share'); // 0.3793
  // P2: L105 10 (6), L112 10 (6), L116 10 (unitCost null → 6), L122 20 (none, qty 2 → 12) = 50; cost 30
  expectFields(
    rowOf(body, { product: 'P2' }),
    { revenue: 50, units: 5, lines: 4, orders: 4, profit: 20, marginPct: 40 },
    'P2',
  );
  // P4 has no product cost; every line carries unitCost: 3×3.5 + 2×3 + 1×2.5 = 19; revenue 18+12+6 = 36
  //   profit 17; margin 17/36 = 47.22
  expectFields(
    rowOf(body, { product: 'P4' }),
    { revenue: 36, units: 6, lines: 3, orders: 3, profit: 17, marginPct: 47.22 },
    'P4',
  );
  // 5 (integer id): L102 15 (fallback 9), L114 30 (18), L120 14.99 (9) = 59.99; cost 36; profit 23.99
  //   margin 23.99/59.99 = 39.99
  const cup = rowOf(body, { product: '5' });
  expectFields(cup, { revenue: 59.99, units: 4, orders: 3, profit: 23.99, marginPct: 39.99 }, 'product 5');
  assert.equal(cup.labels.product, 'Espresso cup');
  // P6: three lines of 0.335 in one order: revenue 1.005 → 1.01 (not 3 × 0.34 = 1.02, not 1.00);
  //   cost 3 × 0.125 = 0.375; profit 1.005 - 0.375 = 0.63; margin 0.63/1.005 = 62.687 → 62.69
  //   avgOrderValue 1.005 / 1 → 1.01
  expectFields(
    rowOf(body, { product: 'P6' }),
    { revenue: 1.01, units: 3, lines: 3, orders: 1, avgOrderValue: 1.01, profit: 0.63, marginPct: 62.69 },
    'P6',
  );
  // P3: L103 8, L111 4 (qty 0.5), L118 16 = 28; units 3.5; cost 4+2+8 = 14
  expectFields(rowOf(body, { product: 'P3' }), { revenue: 28, units: 3.5, profit: 14, marginPct: 50 }, 'P3');
  // P99 is not in the catalogue: counted, its key stays P99, label 'unknown'; 5 - 2 = 3 → margin 60
  const unknown = rowOf(body, { product: 'P99' });
  expectFields(unknown, { revenue: 5, units: 1, lines: 1, orders: 1, profit: 3, marginPct: 60 }, 'P99');
  assert.equal(unknown.labels.product, 'unknown');
  // Totals include the unknown product (290.00, see the kpis test)
  assert.equal(body.kpis.revenue, 290);
  assert.equal(body.kpis.cost, 163.78);
});

test('two levels of groupBy: region × category', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, 'from=2026-03-25&to=2026-03-31&groupBy=region,category&compare=none');
  // North × Coffee: L101 25 + L106 22.5 + L117 12.5 + L122 20 = 80; units 2+2+1+2 = 7; orders 4
  // North × Tea: L103 8 + L104 18 + L113 12 + L118 16 + L119 6 = 60; units 1+3+2+2+1 = 9; orders 5
  // North × Accessories: L102 15 + 1.005 + L114 30 + L120 14.99 = 60.995 → 61.00; units 7; orders 4
  // South × Coffee: L105 10 + L115 12.5 + L116 10 + L121 37.5 = 70; units 6; orders O3,O11,O16 = 3
  // South × Tea: L111 4; units 0.5; South × unknown: L110 5; unknown × Coffee: L112 10
  // Σ = 80+60+60.995+70+4+5+10 = 289.995
  assert.equal(body.totalRows, 7);
  const expected: [string, string, Record<string, number>][] = [
    ['North', 'Coffee', { revenue: 80, units: 7, orders: 4 }],
    ['North', 'Tea', { revenue: 60, units: 9, orders: 5 }],
    ['North', 'Accessories', { revenue: 61, units: 7, orders: 4 }],
    ['South', 'Coffee', { revenue: 70, units: 6, orders: 3 }],
    ['South', 'Tea', { revenue: 4, units: 0.5, orders: 1 }],
    ['South', 'unknown', { revenue: 5, units: 1, orders: 1 }],
    ['unknown', 'Coffee', { revenue: 10, units: 1, orders: 1 }],
  ];
  for (const [region, category, fields] of expected) {
    expectFields(rowOf(body, { region, category }), fields, `${region} × ${category}`);
  }
});

test('week = ISO week (Monday first, YYYY-Www), month = calendar month, both in Paris time', async (t) => {
  const { app } = await setup(t);
  // 2025-12-28 (Sun) L402 8 → 2025-W52, 2025-12
  // 2025-12-29 (Mon) L401 12.5 → 2026-W01, 2025-12
  // 2026-01-01 (Thu) L404 8 (23:30Z on 31 Dec) + L403 10 → 2026-W01, 2026-01
  const weeks = await sales(app, 'from=2025-12-28&to=2026-01-01&groupBy=week&compare=none');
  assert.equal(weeks.totalRows, 2);
  expectFields(rowOf(weeks, { week: '2025-W52' }), { revenue: 8, units: 1, orders: 1 }, '2025-W52');
  // 12.5 + 8 + 10 = 30.5
  expectFields(rowOf(weeks, { week: '2026-W01' }), { revenue: 30.5, units: 3, orders: 3 }, '2026-W01');

  const months = await sales(app, 'from=2025-12-28&to=2026-01-01&groupBy=month&compare=none');
  assert.equal(months.totalRows, 2);
  // 2025-12: 8 + 12.5 = 20.5; 2026-01: 8 + 10 = 18
  expectFields(rowOf(months, { month: '2025-12' }), { revenue: 20.5, orders: 2 }, '2025-12');
  expectFields(rowOf(months, { month: '2026-01' }), { revenue: 18, orders: 2 }, '2026-01');

  // Days: rows only for days with data (12-28, 12-29, 01-01); the trend has all 5 days
  const days = await sales(app, 'from=2025-12-28&to=2026-01-01&groupBy=day&compare=none');
  assert.equal(days.totalRows, 3);
  expectFields(rowOf(days, { day: '2026-01-01' }), { revenue: 18, lines: 2 }, '2026-01-01');
  assert.deepEqual(
    days.trend.map((p) => [p.date, p.revenue]),
    [
      ['2025-12-28', 8],
      ['2025-12-29', 12.5],
      ['2025-12-30', 0],
      ['2025-12-31', 0],
      ['2026-01-01', 18],
    ],
  );

  // The main week: 03-25..03-29 are in 2026-W13, 03-30..03-31 in 2026-W14
  //   W13: 76 + 28.505 + 26 + 52.5 + 28.5 = 211.505 → 211.51; units 8+6+3.5+4+3 = 24.5; orders O1..O13 = 13
  //   W14: 20.99 + 57.5 = 78.49; units 2+5 = 7; orders O14..O17 = 4
  // Months over 03-25..04-01: 2026-03 = 289.995 → 290.00; 2026-04 = L123 8
  const mainWeeks = await sales(app, 'from=2026-03-25&to=2026-03-31&groupBy=week&compare=none');
  expectFields(rowOf(mainWeeks, { week: '2026-W13' }), { revenue: 211.51, units: 24.5, orders: 13 }, 'W13');
  expectFields(rowOf(mainWeeks, { week: '2026-W14' }), { revenue: 78.49, units: 7, orders: 4 }, 'W14');
  const mainMonths = await sales(app, 'from=2026-03-25&to=2026-04-01&groupBy=month&compare=none');
  expectFields(rowOf(mainMonths, { month: '2026-03' }), { revenue: 290, lines: 22 }, '2026-03');
  expectFields(rowOf(mainMonths, { month: '2026-04' }), { revenue: 8, lines: 1 }, '2026-04');
});

test('time groupings come in time order by default (sort=key), flag the periods the window cuts, sharePct', async (t) => {
  const { app } = await setup(t, { CURRENCY: 'usd' });
  // days with data: 12-28 (8), 12-29 (12.5), 01-01 (18): by revenue 01-01 would come first
  const days = await sales(app, 'from=2025-12-28&to=2026-01-01&groupBy=day&compare=none');
  assert.deepEqual(
    days.rows.map((r) => r.keys.day),
    ['2025-12-28', '2025-12-29', '2026-01-01'],
  );
  const byRevenue = await sales(app, 'from=2025-12-28&to=2026-01-01&groupBy=day&compare=none&sort=revenue');
  assert.deepEqual(
    byRevenue.rows.map((r) => r.keys.day),
    ['2026-01-01', '2025-12-29', '2025-12-28'],
  );
  const keyed = await sales(app, 'from=2025-12-28&to=2026-01-01&groupBy=day&compare=none&sort=key');
  assert.deepEqual(keyed.rows, days.rows);
  assert.equal('partial' in (days.rows[0] ?? {}), false, 'a day is never cut');

  // 2025-W52 is cut (only its Sunday is in the window), 2026-W01 too (Monday to Thursday);
  // 03-23..03-31: 2026-W13 is whole (Monday to Sunday), 2026-W14 cut
  const weeks = await sales(app, 'from=2025-12-28&to=2026-01-01&groupBy=week&compare=none');
  assert.deepEqual(
    weeks.rows.map((r) => [r.keys.week, r.partial]),
    [
      ['2025-W52', true],
      ['2026-W01', true],
    ],
  );
  const whole = await sales(app, 'from=2026-03-23&to=2026-03-31&groupBy=week&compare=none');
  assert.deepEqual(
    whole.rows.map((r) => [r.keys.week, r.partial]),
    [
      ['2026-W13', false],
      ['2026-W14', true],
    ],
  );
  // months: 20.5 and 18 of 38.5; the percentage and the fraction say the same
  const months = await sales(app, 'from=2025-12-28&to=2026-01-01&groupBy=month&compare=none');
  assert.deepEqual(
    months.rows.map((r) => [r.keys.month, r.partial, r.sharePct, r.share]),
    [
      ['2025-12', true, 53.25, 0.532468],
      ['2026-01', true, 46.75, 0.467532],
    ],
  );
  // the currency of every money figure (CURRENCY, upper-cased), on sales and stock answers
  assert.equal(months.meta.currency, 'USD');
  assert.equal((await stock(app)).meta.currency, 'USD');
  const stores = await sales(app, 'from=2026-03-23&to=2026-03-31&groupBy=store&compare=none');
  assert.equal('partial' in (stores.rows[0] ?? {}), false);
});

test('day and week buckets carry the comparison mapped onto them (previous_period: date - period days)', async (t) => {
  const { app } = await setup(t);
  // Period 03-29..03-30 (2 days): 03-29 ← 03-27 (4+10+12 = 26), 03-30 ← 03-28 (30+12.5+10 = 52.5)
  const days = await sales(app, 'from=2026-03-29&to=2026-03-30&groupBy=day&compare=previous_period');
  // (28.5-26)/26 = 9.615 → 9.62; (20.99-52.5)/52.5 = -60.019 → -60.02
  expectFields(
    rowOf(days, { day: '2026-03-29' }),
    { revenue: 28.5, previousRevenue: 26, revenueGrowthPct: 9.62 },
    '03-29',
  );
  expectFields(
    rowOf(days, { day: '2026-03-30' }),
    { revenue: 20.99, previousRevenue: 52.5, revenueGrowthPct: -60.02 },
    '03-30',
  );

  // Period 03-25..03-31 (7 days), comparison 03-18..03-24 shifted by +7 days:
  //   18→25: 25, 19→26: 15, 20→27: 30, 21→28: 0, 22→29: 40 → W13 previous = 110
  //   23→30: 0, 24→31: 37 → W14 previous = 37
  // W13 growth (211.505-110)/110 = 92.277 → 92.28; W14 (78.49-37)/37 = 112.135 → 112.14
  const weeks = await sales(app, 'from=2026-03-25&to=2026-03-31&groupBy=week&compare=previous_period');
  expectFields(
    rowOf(weeks, { week: '2026-W13' }),
    { revenue: 211.51, previousRevenue: 110, revenueGrowthPct: 92.28 },
    'W13',
  );
  expectFields(
    rowOf(weeks, { week: '2026-W14' }),
    { revenue: 78.49, previousRevenue: 37, revenueGrowthPct: 112.14 },
    'W14',
  );
});

test('previous_period (the default compare): plain totals of the same number of days before from', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, 'from=2026-03-25&to=2026-03-31');
  assert.deepEqual(body.comparison, { mode: 'previous_period', from: '2026-03-18', to: '2026-03-24' });
  // Previous 03-18..03-24: revenue 147, units 14, orders 7, cost 84 → profit 63
  // growth: revenue (289.995-147)/147 = 97.2755 → 97.28; units (31.5-14)/14 = 125; orders (17-7)/7 = 142.857 → 142.86
  assert.deepEqual(body.kpis.previous, { revenue: 147, units: 14, orders: 7, profit: 63 });
  expectFields(
    body.kpis,
    { revenue: 290, revenueGrowthPct: 97.28, unitsGrowthPct: 125, ordersGrowthPct: 142.86 },
    'kpis',
  );
});

test('rolling_7d: average daily revenue against the 7 days before from, days without sales counted as zero', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, 'from=2026-03-25&to=2026-03-26&compare=rolling_7d');
  assert.deepEqual(body.comparison, { mode: 'rolling_7d', from: '2026-03-18', to: '2026-03-24' });
  // Current 03-25..03-26: revenue 76 + 28.505 = 104.505 → 104.51; units 8 + 6 = 14; orders 6;
  //   cost 43.5 + 16.375 = 59.875 → profit 44.63
  // 7 days 03-18..03-24 (sales on 5 of them, 21 and 23 count as 0): revenue 147, units 14, orders 7, profit 63
  // previous = total / 7 × 2 days: revenue 42, units 4, orders 2, profit 18
  // (dividing by the 5 days with sales instead would give 58.80)
  assert.deepEqual(body.kpis.previous, { revenue: 42, units: 4, orders: 2, profit: 18 });
  // growth: (104.505-42)/42 = 148.821 → 148.82; units (14-4)/4 = 250; orders (6-2)/2 = 200
  expectFields(
    body.kpis,
    {
      revenue: 104.51,
      units: 14,
      orders: 6,
      profit: 44.63,
      revenueGrowthPct: 148.82,
      unitsGrowthPct: 250,
      ordersGrowthPct: 200,
    },
    'kpis',
  );
});

test('same_weekday_4w: a one-day period against the mean of the same weekday in the 4 previous weeks', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, 'from=2026-03-31&to=2026-03-31&compare=same_weekday_4w');
  // Tuesday 03-31 against Tuesdays 03-24, 03-17, 03-10, 03-03: comparison from 03-31-28 to 03-31-7
  assert.deepEqual(body.comparison, { mode: 'same_weekday_4w', from: '2026-03-03', to: '2026-03-24' });
  // 03-24: revenue 37, units 4, orders 2, profit 37-20 = 17
  // 03-17: revenue 8 + 12.5 = 20.5, units 2, orders 2, profit 20.5-11 = 9.5
  // 03-10: revenue 30, units 2, orders 1, profit 12
  // 03-03: nothing (counts as 0)
  // mean: revenue 87.5/4 = 21.875 → 21.88; units 8/4 = 2; orders 5/4 = 1.25; profit 38.5/4 = 9.625 → 9.63
  assert.deepEqual(body.kpis.previous, { revenue: 21.88, units: 2, orders: 1.25, profit: 9.63 });
  // Current 03-31: revenue 57.5, units 5, orders 2, cost 32.4 → profit 25.1
  // growth: (57.5-21.875)/21.875 = 162.857 → 162.86; units (5-2)/2 = 150; orders (2-1.25)/1.25 = 60
  expectFields(
    body.kpis,
    {
      revenue: 57.5,
      units: 5,
      orders: 2,
      profit: 25.1,
      revenueGrowthPct: 162.86,
      unitsGrowthPct: 150,
      ordersGrowthPct: 60,
    },
    'kpis',
  );
});

test('previous_year: the same dates a year earlier, 29 Feb compared with 28 Feb', async (t) => {
  const { app } = await setup(t);
  // 2024-02-29 (L302 25) vs 2023-02-28 (L301 12.5): growth 100. Not 2023-03-01 (L305 10).
  const leap = await sales(app, 'from=2024-02-29&to=2024-02-29&compare=previous_year&groupBy=day');
  assert.deepEqual(leap.comparison, { mode: 'previous_year', from: '2023-02-28', to: '2023-02-28' });
  expectFields(leap.kpis, { revenue: 25, units: 2, orders: 1, revenueGrowthPct: 100 }, 'kpis 2024-02-29');
  assert.deepEqual(leap.kpis.previous, { revenue: 12.5, units: 1, orders: 1, profit: 5.5 }); // 12.5 - 7
  expectFields(
    rowOf(leap, { day: '2024-02-29' }),
    { revenue: 25, previousRevenue: 12.5, revenueGrowthPct: 100 },
    'day 2024-02-29',
  );

  // 2026-02-28 (L304 24) vs 2025-02-28 (L303 8): growth 200; units 3 vs 1
  const plain = await sales(app, 'from=2026-02-28&to=2026-02-28&compare=previous_year');
  assert.deepEqual(plain.comparison, { mode: 'previous_year', from: '2025-02-28', to: '2025-02-28' });
  expectFields(plain.kpis, { revenue: 24, revenueGrowthPct: 200, unitsGrowthPct: 200 }, 'kpis 2026-02-28');

  // 2025-02-28 (L303 8) vs 2024-02-28 (no sales; the 29th is another day): growth null
  const none = await sales(app, 'from=2025-02-28&to=2025-02-28&compare=previous_year');
  assert.deepEqual(none.comparison, { mode: 'previous_year', from: '2024-02-28', to: '2024-02-28' });
  assert.deepEqual(none.kpis.previous, { revenue: 0, units: 0, orders: 0, profit: 0 });
  expectFields(
    none.kpis,
    { revenue: 8, revenueGrowthPct: null, unitsGrowthPct: null, ordersGrowthPct: null },
    'kpis 2025-02-28',
  );
});

test('compare=none: no comparison, no previous, growth fields null', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, 'from=2026-03-25&to=2026-03-26&compare=none&groupBy=store');
  assert.equal(body.comparison, null);
  assert.equal(body.kpis.previous, null);
  expectFields(body.kpis, { revenueGrowthPct: null, unitsGrowthPct: null, ordersGrowthPct: null }, 'kpis');
  for (const r of body.rows) assert.equal(r.revenueGrowthPct, null, `row ${JSON.stringify(r.keys)}`);
  // stores in 03-25..03-26: 1 (25+15+8+22.5 = 70.5), 2 (18+1.005 = 19.005 → 19.01), S3 (10+5 = 15)
  assert.equal(body.totalRows, 3);
  assert.equal(rowOf(body, { store: '2' }).revenue, 19.01);
});

test('trend: one entry per day, zeros for days without sales, rolling 7-day mean counting zeros', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, 'from=2026-03-25&to=2026-03-31&compare=none');
  // Daily revenue before the period: 03-19 15, 03-20 30, 03-21 0, 03-22 40, 03-23 0, 03-24 37
  // rolling7dAvgRevenue (7 days ending that day, inclusive):
  //   03-25: 15+30+0+40+0+37+76 = 198 / 7 = 28.2857 → 28.29
  //   03-26: 30+0+40+0+37+76+28.505 = 211.505 / 7 = 30.215 (exactly half a cent)
  //   03-27: 0+40+0+37+76+28.505+26 = 207.505 / 7 = 29.6436 → 29.64
  //   03-28: 40+0+37+76+28.505+26+52.5 = 260.005 / 7 = 37.1436 → 37.14
  //   03-29: 0+37+76+28.505+26+52.5+28.5 = 248.505 / 7 = 35.5007 → 35.50
  //   03-30: 37+76+28.505+26+52.5+28.5+20.99 = 269.495 / 7 = 38.4993 → 38.50
  //   03-31: 289.995 / 7 = 41.4279 → 41.43
  const expected: [string, number, number, number, number][] = [
    ['2026-03-25', 76, 8, 3, 198 / 7],
    ['2026-03-26', 28.51, 6, 3, 30.215],
    ['2026-03-27', 26, 3.5, 3, 207.505 / 7],
    ['2026-03-28', 52.5, 4, 2, 260.005 / 7],
    ['2026-03-29', 28.5, 3, 2, 248.505 / 7],
    ['2026-03-30', 20.99, 2, 2, 269.495 / 7],
    ['2026-03-31', 57.5, 5, 2, 289.995 / 7],
  ];
  assert.deepEqual(
    body.trend.map((p) => p.date),
    expected.map((e) => e[0]),
  );
  for (const [i, [date, revenue, units, orders, rolling]] of expected.entries()) {
    const p = body.trend[i]!;
    expectFields(p, { revenue, units, orders }, `trend ${date}`);
    centsOf(p.rolling7dAvgRevenue, rolling, `trend ${date}.rolling7dAvgRevenue`);
  }

  // 03-20..03-24: 03-21 and 03-23 have no sales but are present with zeros
  // 03-21 rolling: 03-15..03-21 = 0+0+20.5+25+15+30+0 = 90.5 / 7 = 12.93
  const gaps = await sales(app, 'from=2026-03-20&to=2026-03-24&compare=none');
  assert.deepEqual(
    gaps.trend.map((p) => [p.date, p.revenue, p.units, p.orders]),
    [
      ['2026-03-20', 30, 3, 1],
      ['2026-03-21', 0, 0, 0],
      ['2026-03-22', 40, 4, 2],
      ['2026-03-23', 0, 0, 0],
      ['2026-03-24', 37, 4, 2],
    ],
  );
  centsOf(gaps.trend[1]!.rolling7dAvgRevenue, 90.5 / 7, 'trend 03-21.rolling7dAvgRevenue');
});

test('default window: the 30 days ending yesterday (ANALYTICS_TODAY), compared with the 30 days before', async (t) => {
  const { app } = await setup(t);
  const body = await sales(app, '');
  // today 2026-04-02 → 2026-03-03..2026-04-01; previous 2026-02-01..2026-03-02 (Feb 2026 has 28 days)
  assert.deepEqual(body.period, { from: '2026-03-03', to: '2026-04-01', days: 30 });
  assert.deepEqual(body.comparison, { mode: 'previous_period', from: '2026-02-01', to: '2026-03-02' });
  // Current: 03-04 350 + 03-10 30 + 03-17 20.5 + week 18..24 147 + main week 289.995 + 04-01 8
  //   = 845.495 → 845.50 (the 350 of 04-02, today, is not in it)
  //   units 28+2+2+14+31.5+1 = 78.5; orders 1+1+2+7+17+1 = 29; lines 1+1+2+7+22+1 = 34
  // Previous: 2026-02-28 L304: 24, 3 units, 1 order
  // growth: (845.495-24)/24 = 3422.896 → 3422.90; units (78.5-3)/3 = 2516.67; orders (29-1)/1 = 2800
  expectFields(
    body.kpis,
    {
      revenue: 845.5,
      units: 78.5,
      orders: 29,
      lines: 34,
      revenueGrowthPct: 3422.9,
      unitsGrowthPct: 2516.67,
      ordersGrowthPct: 2800,
    },
    'kpis',
  );
  expectFields(body.kpis.previous ?? {}, { revenue: 24, units: 3, orders: 1 }, 'kpis.previous');
  assert.equal(body.trend.length, 30);
});

test('filters: repeatable or comma-separated, exact and case-sensitive; share after filters', async (t) => {
  const { app } = await setup(t);
  const base = 'from=2026-03-25&to=2026-03-31&compare=none';
  // storeId 1 and S3: 142.5 + 79 = 221.5; units 13 + 7.5 = 20.5; orders 6 + 5 = 11
  for (const q of ['storeId=1&storeId=S3', 'storeId=1,S3']) {
    const body = await sales(app, `${base}&${q}&groupBy=store`);
    expectFields(body.kpis, { revenue: 221.5, units: 20.5, orders: 11 }, q);
    assert.deepEqual(keyList(body, 'store').sort(), ['1', 'S3'], q);
  }
  // region South and category Coffee: L105 10 + L115 12.5 + L116 10 + L121 37.5 = 70
  const southCoffee = await sales(app, `${base}&region=South&category=Coffee`);
  expectFields(southCoffee.kpis, { revenue: 70, units: 6, orders: 3 }, 'South Coffee');
  // brand Lavazza by store: 1 = 25+15+22.5+30 = 92.5 (orders O1,O4,O10 = 3), 2 = 12.5+14.99 = 27.49,
  //   S3 = 12.5+37.5 = 50; total 169.99; share of store 1 = 92.5/169.99 = 0.5442
  const lavazza = await sales(app, `${base}&brand=Lavazza&groupBy=store&sort=revenue`);
  assert.equal(lavazza.kpis.revenue, 169.99);
  assert.deepEqual(keyList(lavazza, 'store'), ['1', 'S3', '2']);
  expectFields(rowOf(lavazza, { store: '1' }), { revenue: 92.5, orders: 3, lines: 4 }, 'Lavazza store 1');
  near(rowOf(lavazza, { store: '1' }).share, 92.5 / 169.99, 0.005, 'Lavazza store 1 share');
  // productId P99 (not in the catalogue): still filterable, 5
  const p99 = await sales(app, `${base}&productId=P99`);
  expectFields(p99.kpis, { revenue: 5, lines: 1 }, 'productId=P99');
  // productId 5 and P6: 59.99 + 1.005 = 60.995 → 61.00
  const accessories = await sales(app, `${base}&productId=5&productId=P6`);
  expectFields(accessories.kpis, { revenue: 61, units: 7, orders: 4 }, 'productId=5,P6');
  // Case-sensitive exact matches; unknown values match nothing, not an error
  for (const q of ['region=south', 'brand=lavazza', 'storeId=NOPE', 'category=Cof']) {
    const body = await sales(app, `${base}&${q}&groupBy=store`);
    assert.deepEqual(body.rows, [], q);
    assert.equal(body.totalRows, 0, q);
    expectFields(body.kpis, { revenue: 0, units: 0, lines: 0, orders: 0 }, q);
  }
});

test('sort: revenue, units, orders, profit, growth, descending with ties by key ascending; limit', async (t) => {
  const { app } = await setup(t);
  const base = 'from=2026-03-25&to=2026-03-31&groupBy=product&compare=previous_period';
  const order = async (sort: string) => keyList(await sales(app, `${base}&sort=${sort}`), 'product');
  // revenue: P1 110, 5 59.99, P2 50, P4 36, P3 28, P99 5, P6 1.005
  assert.deepEqual(await order('revenue'), ['P1', '5', 'P2', 'P4', 'P3', 'P99', 'P6']);
  // units: P1 9, P4 6, P2 5, 5 4, P3 3.5, P6 3, P99 1
  assert.deepEqual(await order('units'), ['P1', 'P4', 'P2', '5', 'P3', 'P6', 'P99']);
  // orders: P1 5, P2 4, then 3 each for 5, P3, P4 (by key), then 1 each for P6, P99
  assert.deepEqual(await order('orders'), ['P1', 'P2', '5', 'P3', 'P4', 'P6', 'P99']);
  // profit: P1 47.6, 5 23.99, P2 20, P4 17, P3 14, P99 3, P6 0.63
  assert.deepEqual(await order('profit'), ['P1', '5', 'P2', 'P4', 'P3', 'P99', 'P6']);
  // growth vs 03-18..03-24 (P1 50, 5 15, P2 70, P4 12, others 0):
  //   5 (59.99-15)/15 = 299.93, P4 200, P1 120, P2 -28.57; P3, P6, P99 have no previous → null
  const growth = await sales(app, `${base}&sort=growth`);
  assert.deepEqual(keyList(growth, 'product').slice(0, 4), ['5', 'P4', 'P1', 'P2']);
  assert.deepEqual(keyList(growth, 'product').slice(4).sort(), ['P3', 'P6', 'P99']);
  expectFields(
    rowOf(growth, { product: '5' }),
    { previousRevenue: 15, revenueGrowthPct: 299.93 },
    'product 5',
  );
  expectFields(rowOf(growth, { product: 'P2' }), { previousRevenue: 70, revenueGrowthPct: -28.57 }, 'P2');
  expectFields(rowOf(growth, { product: 'P3' }), { previousRevenue: 0, revenueGrowthPct: null }, 'P3');

  const limited = await sales(app, `${base}&sort=revenue&limit=2`);
  assert.deepEqual(keyList(limited, 'product'), ['P1', '5']);
  assert.equal(limited.totalRows, 7);
  assert.equal(limited.kpis.revenue, 290, 'kpis are not limited');
});

test('bad input is a 400 problem naming the field', async (t) => {
  const { app } = await setup(t);
  const cases: [string, string[]][] = [
    ['from=2026-03-31&to=2026-03-25', ['query.from', 'query.to']],
    ['from=2026-03-25&to=2026-03-31&groupBy=colour', ['query.groupBy']],
    ['from=2026-03-25&to=2026-03-31&groupBy=store,colour', ['query.groupBy']],
    ['from=2026-03-25&to=2026-03-31&groupBy=store,product,day', ['query.groupBy']],
    // 2023-01-01..2026-01-01 = 365 + 366 + 365 + 1 = 1097 days > 1096
    ['from=2023-01-01&to=2026-01-01', ['query.from', 'query.to']],
    ['from=2026-03-25&to=2026-03-31&limit=0', ['query.limit']],
    ['from=2026-03-25&to=2026-03-31&limit=5001', ['query.limit']],
    ['from=2026-02-30&to=2026-03-05', ['query.from']],
    ['from=2026-03-25&to=2026-13-01', ['query.to']],
    ['from=2026-03-25&to=2026-03-31&compare=last_week', ['query.compare']],
    ['from=2026-03-25&to=2026-03-31&sort=price', ['query.sort']],
  ];
  for (const [query, fields] of cases) {
    const res = await app.inject({ url: `/api/v1/analytics/sales?${query}`, headers: auth('viewer') });
    assert.equal(res.statusCode, 400, `${query}: ${res.statusCode} ${res.body}`);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/, query);
    const body = res.json() as { type: string; errors?: { path: string }[] };
    assert.equal(body.type, 'urn:salesflow:problem:validation-failed', query);
    const paths = (body.errors ?? []).map((e) => e.path);
    assert.ok(
      paths.some((p) => fields.some((f) => p === f || p.startsWith(`${f}.`))),
      `${query}: errors name ${JSON.stringify(paths)}, want one of ${fields.join(', ')}`,
    );
  }
  // no key → 401
  const anonymous = await app.inject({ url: '/api/v1/analytics/sales?from=2026-03-25&to=2026-03-31' });
  assert.equal(anonymous.statusCode, 401);
});

test('paging: with UPSTREAM_PAGE_SIZE=3 every page of a day is fetched and the figures are unchanged', async (t) => {
  const { app, fixture } = await setup(t, { UPSTREAM_PAGE_SIZE: '3', ANALYTICS_TODAY: '2026-06-01' });
  const body = await sales(app, 'from=2026-03-25&to=2026-03-26&compare=none');
  // 03-25: 5 lines, 03-26: 5 lines → 2 pages each (3 + 2); revenue 76 + 28.505 = 104.505 → 104.51
  expectFields(body.kpis, { revenue: 104.51, units: 14, lines: 10, orders: 6 }, 'kpis');
  for (const day of ['2026-03-25', '2026-03-26']) {
    const pages = fixture
      .salesCalls()
      .filter((c) => c.from === day && c.to === day)
      .map((c) => c.page)
      .sort();
    assert.deepEqual(pages, [0, 1], `pages of ${day}`);
  }
  assert.ok(
    fixture.salesCalls().every((c) => c.size === 3),
    'every /sales call asks for size=3',
  );
});

test('partition reuse: an overlapping window makes no /sales call for the days already fetched', async (t) => {
  // Today far ahead: every day of March is closed.
  const { app, fixture } = await setup(t, { ANALYTICS_TODAY: '2026-06-01' });
  const first = await sales(app, 'from=2026-03-25&to=2026-03-28&compare=none');
  // 76 + 28.505 + 26 + 52.5 = 183.005 → 183.01
  assert.equal(first.kpis.revenue, 183.01);
  const second = await sales(app, 'from=2026-03-27&to=2026-03-31&compare=none');
  // 26 + 52.5 + 28.5 + 20.99 + 57.5 = 185.49
  assert.equal(second.kpis.revenue, 185.49);
  const calls = fixture.salesCalls();
  assert.ok(
    calls.every((c) => c.from === c.to),
    `one business day per /sales call: ${JSON.stringify(calls)}`,
  );
  for (const day of [
    '2026-03-25',
    '2026-03-26',
    '2026-03-27',
    '2026-03-28',
    '2026-03-29',
    '2026-03-30',
    '2026-03-31',
  ]) {
    assert.equal(fixture.dayFetches(day), 1, `${day} fetched once`);
  }
  const seen = new Set<string>();
  for (const c of calls) {
    const key = `${c.from}#${c.page}`;
    assert.ok(!seen.has(key), `${key} fetched twice`);
    seen.add(key);
  }
});

test('late data: a recent day is re-fetched after LATE_DATA_TTL_SECONDS; closed days are not', async (t) => {
  const { app, fixture } = await setup(t, { LATE_DATA_DAYS: '3', LATE_DATA_TTL_SECONDS: '1' });
  const query = 'from=2026-03-25&to=2026-04-01&groupBy=day&compare=none';
  const before = await sales(app, query);
  // 289.995 + 8 = 297.995 → 298.00; units 31.5 + 1 = 32.5
  expectFields(before.kpis, { revenue: 298, units: 32.5 }, 'kpis before');
  expectFields(rowOf(before, { day: '2026-04-01' }), { revenue: 8, units: 1 }, '04-01 before');

  // The system of record corrects yesterday's line L123: 2 units for 16.00 instead of 1 for 8.00
  const late = fixture.data.sales.find((l) => l.id === 123)!;
  late.quantity = 2;
  late.amount = 16;
  await sleep(1_300);

  const after = await sales(app, query);
  // 289.995 + 16 = 305.995 → 306.00; units 31.5 + 2 = 33.5
  expectFields(after.kpis, { revenue: 306, units: 33.5 }, 'kpis after');
  expectFields(rowOf(after, { day: '2026-04-01' }), { revenue: 16, units: 2 }, '04-01 after');
  assert.ok(fixture.dayFetches('2026-04-01') >= 2, '2026-04-01 was fetched again');
  for (const day of ['2026-03-25', '2026-03-26', '2026-03-27', '2026-03-28']) {
    assert.equal(fixture.dayFetches(day), 1, `closed day ${day} fetched once`);
  }
});

test('a cached answer follows its days: a day dropped from the partitions (a sales import) is read again', async (t) => {
  const { app, fixture } = await setup(t);
  // Closed days, held for PARTITION_TTL_DAYS: only an invalidation makes them read again.
  const url = '/api/v1/analytics/sales?from=2026-03-20&to=2026-03-22&compare=none';
  const get = () => app.inject({ url, headers: auth('viewer') });
  const first = await get();
  assert.equal(first.headers['x-cache'], 'MISS');
  const second = await get();
  assert.equal(second.headers['x-cache'], 'HIT');
  assert.equal(second.json().kpis.revenue, first.json().kpis.revenue);

  // The system of record changes 2026-03-22's line L204: 2 units for 30.00 instead of 20.00.
  fixture.data.sales.find((l) => l.id === 204)!.amount = 30;
  const held = await get();
  assert.equal(held.headers['x-cache'], 'HIT', 'the held partition is trusted');
  assert.equal(held.json().kpis.revenue, first.json().kpis.revenue);

  // An import of sales lines drops the days it touched: the next answer reads the day again.
  await app.services.partitions.invalidateDays([parseDay('2026-03-22')!]);
  const after = await get();
  assert.equal(after.headers['x-cache'], 'MISS');
  assert.equal(after.json().kpis.revenue, first.json().kpis.revenue + 10);
  assert.equal(fixture.dayFetches('2026-03-22'), 2);
  assert.equal(fixture.dayFetches('2026-03-21'), 1);
});

test('stock: status, avgDailyUnits over the 28 days ending yesterday, daysOfCover, stockValue, counts', async (t) => {
  const { app } = await setup(t);
  const body = await stock(app);
  assert.equal(body.rows.length, 8);
  // See the STOCK table in the fixture for the hand-counted sales (03-05..04-01).
  const expected: [string, string, number, number, StockRow['status'], number, number | null][] = [
    ['1', 'P1', 14, 5, 'ok', 8 / 28, 49], // 14 / (8/28)
    ['1', 'P3', 0, 3, 'out', 4 / 28, 0],
    // 2/P4 (quantity -2): negative stock, flagged on its own, and no cover (see its own test below)
    ['2', 'P4', -2, 2, 'negative', 5 / 28, null],
    ['2', 'P6', 3, 10, 'low', 3 / 28, 28],
    ['S3', 'P2', 5, 5, 'low', 5 / 28, 28], // quantity = reorderLevel → low
    ['1', '5', 1, 2, 'low', 5 / 28, 5.6],
    ['S3', '5', 6, 2, 'ok', 0, null], // no sales → no cover
    ['1', 'P2', 3, 1, 'ok', 4 / 28, 21],
  ];
  for (const [storeId, productId, quantity, reorderLevel, status, avg, cover] of expected) {
    const what = `stock ${storeId}/${productId}`;
    const row = body.rows.find((r) => r.storeId === storeId && r.productId === productId);
    assert.ok(row, `${what} missing`);
    expectFields(row, { quantity, reorderLevel, status }, what);
    near(row.avgDailyUnits, avg, 0.0006, `${what}.avgDailyUnits`);
    if (cover === null) assert.equal(row.daysOfCover, null, `${what}.daysOfCover`);
    else if (!Number.isNaN(cover)) near(row.daysOfCover, cover, 0.01, `${what}.daysOfCover`);
  }
  expectFields(
    body.rows.find((r) => r.storeId === '1' && r.productId === 'P1')!,
    { sku: 'COF-ESP', name: 'Espresso beans', category: 'Coffee', brand: 'Lavazza' },
    'stock 1/P1',
  );
  // stockValue = Σ max(quantity, 0) × price = 14×12.5 + 0 + 0 (-2 counts as 0) + 3×0.335 + 5×10 + 1×15
  //   + 6×15 + 3×10 = 175 + 1.005 + 50 + 15 + 90 + 30 = 361.005 → 361.01
  // low: 2/P6, S3/P2, 1/5 = 3; out: 1/P3 = 1; negative: 2/P4 = 1
  // reorder now (sells, stock < 7 days of sales): 1/P3 (0 of 1 unit needed), 2/P4 (negative, counts
  //   as none: 1.25 units needed), 1/5 (1 of 1.25): 3. Revenue at stake = units short × price:
  //   1/P3 (4/28×7 = 1) × 8 (Tea) = 8; 2/P4 (5/28×7 = 1.25) × 6 = 7.5; 1/5 (1.25 − 1 = 0.25) × 15 = 3.75
  expectFields(
    body.kpis,
    {
      storeProducts: 8,
      products: 6,
      stockValue: 361.01,
      lowStockCount: 3,
      outOfStockCount: 1,
      negativeStockCount: 1,
      reorderNowCount: 3,
    },
    'stock kpis',
  );
  expectFields(
    body.rows.find((r) => r.storeId === '1' && r.productId === 'P1')!,
    { storeName: 'Paris Rivoli', reorderNow: false, revenueAtStake: 0 },
    '1/P1',
  );
  // Default sort: negative stock first, then daysOfCover ascending: 1/P3 (0), 5.6, 21, 28 twice, 49; no cover last
  const order = body.rows.map((r) => `${r.storeId}/${r.productId}`);
  assert.deepEqual(order.slice(0, 2), ['2/P4', '1/P3']);
  assert.deepEqual(order.slice(2, 4), ['1/5', '1/P2']);
  assert.deepEqual(order.slice(4, 6).sort(), ['2/P6', 'S3/P2']);
  assert.deepEqual(order.slice(6), ['1/P1', 'S3/5']);
  // byCategory: Coffee = 1/P1, S3/P2, 1/P2: value 175+50+30 = 255, low 1, out 0
  //   Tea = 1/P3, 2/P4: value 0, low 0, out 2; Accessories = 2/P6, 1/5, S3/5: 1.005+15+90 = 106.005 → 106.01
  const cat = (name: string) => body.byCategory.find((c) => c.category === name);
  expectFields(cat('Coffee') ?? {}, { stockValue: 255, lowStockCount: 1, outOfStockCount: 0 }, 'Coffee');
  expectFields(
    cat('Tea') ?? {},
    { stockValue: 0, lowStockCount: 0, outOfStockCount: 1, negativeStockCount: 1 },
    'Tea',
  );
  expectFields(
    cat('Accessories') ?? {},
    { stockValue: 106.01, lowStockCount: 2, outOfStockCount: 0 },
    'Accessories',
  );
});

test('stock: negative stock is its own status, without a (negative) cover; it is in the cover distribution', async (t) => {
  // 2/P4: quantity -2, sold 3 + 2 = 5 units in 28 days. Not "out of stock" with -11.2 days of cover:
  // flagged negative (oversold, or a data error), cover null, first in the default order.
  const { app } = await setup(t);
  const body = await stock(app);
  const row = body.rows.find((r) => r.storeId === '2' && r.productId === 'P4');
  assert.ok(row, 'stock 2/P4 missing');
  expectFields(row, { status: 'negative', daysOfCover: null }, 'stock 2/P4');
  assert.equal(`${body.rows[0]?.storeId}/${body.rows[0]?.productId}`, '2/P4', 'negative stock first');
  const buckets = Object.fromEntries(body.coverDistribution.map((b) => [b.bucket, b.storeProducts]));
  // negative 2/P4; out 1/P3; < 7 days 1/5 (5.6); 14–28: 1/P2 (21); 28–56: 2/P6, S3/P2 (28), 1/P1 (49); no sales S3/5
  assert.deepEqual(buckets, {
    negative: 1,
    out: 1,
    lt7: 1,
    '7to14': 0,
    '14to28': 1,
    '28to56': 3,
    ge56: 0,
    noSales: 1,
  });
  const negative = await stock(app, 'status=negative');
  assert.deepEqual(
    negative.rows.map((r) => `${r.storeId}/${r.productId}`),
    ['2/P4'],
  );
});

test('stock: reorder now, ranked by revenue at stake against the lead time', async (t) => {
  const { app } = await setup(t);
  // lead time 7: see the kpis of the first stock test for the figures
  const urgent = await stock(app, 'reorderNow=true&sort=urgency');
  assert.deepEqual(
    urgent.rows.map((r) => [`${r.storeId}/${r.productId}`, r.revenueAtStake]),
    [
      ['1/P3', 8],
      ['2/P4', 7.5],
      ['1/5', 3.75],
    ],
  );
  expectFields(urgent.kpis, { reorderNowCount: 3, revenueAtStake: 19.25 }, 'reorder kpis');
  // lead time 30: 1/P2 (21 days of cover) joins; S3/5 (no sales) never does
  const longer = await stock(app, 'reorderNow=true&leadTimeDays=30');
  assert.deepEqual(longer.rows.map((r) => `${r.storeId}/${r.productId}`).sort(), [
    '1/5',
    '1/P2',
    '1/P3',
    '2/P4',
    '2/P6',
    'S3/P2',
  ]);
});

test('stock: filters by store, category, brand and status', async (t) => {
  const { app } = await setup(t);
  // Store 1: 1/P1 (14), 1/P3 (0), 1/5 (1), 1/P2 (3): 4 SKUs, 18 units, value 175 + 0 + 15 + 30 = 220
  //   low 1 (1/5), out 1 (1/P3), reorder now 2 (covers 0 and 5.6); sorted by cover: P3 0, 5 5.6, P2 21, P1 49
  const s1 = await stock(app, 'storeId=1');
  assert.deepEqual(
    s1.rows.map((r) => r.productId),
    ['P3', '5', 'P2', 'P1'],
  );
  expectFields(
    s1.kpis,
    {
      storeProducts: 4,
      products: 4,
      units: 18,
      stockValue: 220,
      lowStockCount: 1,
      outOfStockCount: 1,
      reorderNowCount: 2,
    },
    'store 1 kpis',
  );
  // byCategory of store 1: Coffee 2 SKUs 17 units 205; Tea 1 SKU 0 units; Accessories 1 SKU 1 unit 15
  const cat = (name: string) => s1.byCategory.find((c) => c.category === name) ?? {};
  expectFields(
    cat('Coffee'),
    { storeProducts: 2, units: 17, stockValue: 205, lowStockCount: 0, outOfStockCount: 0 },
    'Coffee',
  );
  expectFields(
    cat('Tea'),
    { storeProducts: 1, units: 0, stockValue: 0, lowStockCount: 0, outOfStockCount: 1 },
    'Tea',
  );
  expectFields(
    cat('Accessories'),
    { storeProducts: 1, units: 1, stockValue: 15, lowStockCount: 1, outOfStockCount: 0 },
    'Accessories',
  );

  // Tea: 1/P3 (out, cover 0), 2/P4 (negative): value 0, both to reorder
  const tea = await stock(app, 'category=Tea');
  assert.deepEqual(tea.rows.map((r) => `${r.storeId}/${r.productId}`).sort(), ['1/P3', '2/P4']);
  expectFields(
    tea.kpis,
    { stockValue: 0, lowStockCount: 0, outOfStockCount: 1, negativeStockCount: 1, reorderNowCount: 2 },
    'Tea',
  );
  // Lavazza: 1/P1 (175), 1/5 (15, low, cover 5.6), S3/5 (90): 280
  const lavazza = await stock(app, 'brand=Lavazza');
  assert.deepEqual(lavazza.rows.map((r) => `${r.storeId}/${r.productId}`).sort(), ['1/5', '1/P1', 'S3/5']);
  expectFields(
    lavazza.kpis,
    { stockValue: 280, lowStockCount: 1, outOfStockCount: 0, reorderNowCount: 1 },
    'Lavazza',
  );
  // status low or out: 1/P3, 2/P6, S3/P2, 1/5 (2/P4 is negative, a status of its own)
  const lowOut = await stock(app, 'status=low&status=out');
  assert.deepEqual(lowOut.rows.map((r) => `${r.storeId}/${r.productId}`).sort(), [
    '1/5',
    '1/P3',
    '2/P6',
    'S3/P2',
  ]);
  const ok = await stock(app, 'status=ok');
  assert.deepEqual(ok.rows.map((r) => `${r.storeId}/${r.productId}`).sort(), ['1/P1', '1/P2', 'S3/5']);
  // Store S3: S3/P2 (5 units, 50) and S3/5 (6 units, 90): 2 SKUs, 11 units, 140
  const s3 = await stock(app, 'storeId=S3');
  expectFields(s3.kpis, { storeProducts: 2, units: 11, stockValue: 140 }, 'store S3');
  // sort=quantity orders by quantity (either direction)
  const byQuantity = (await stock(app, 'sort=quantity')).rows.map((r) => r.quantity);
  const asc = [...byQuantity].sort((a, b) => a - b);
  assert.ok(
    JSON.stringify(byQuantity) === JSON.stringify(asc) ||
      JSON.stringify(byQuantity) === JSON.stringify([...asc].reverse()),
    `sort=quantity: ${JSON.stringify(byQuantity)}`,
  );
});

test('sync: POST /api/v1/sync fetches each business day once; status has the watermark; admin only', async (t) => {
  const { app, fixture } = await setup(t, { ANALYTICS_TODAY: '2026-06-01' });
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/sync',
    headers: auth('admin'),
    payload: { from: '2026-03-25', to: '2026-03-31' },
  });
  assert.equal(res.statusCode, 200, res.body);
  // 7 days, each fetched (one page each at the default page size), 5+5+3+3+2+2+2 = 22 lines
  const report = res.json() as Record<string, unknown>;
  expectFields(report, { from: '2026-03-25', to: '2026-03-31', days: 7, fetched: 7 }, 'sync');
  const days = [
    '2026-03-25',
    '2026-03-26',
    '2026-03-27',
    '2026-03-28',
    '2026-03-29',
    '2026-03-30',
    '2026-03-31',
  ];
  for (const day of days) assert.equal(fixture.dayFetches(day), 1, `${day} fetched by the sync`);

  // Analytics over the synced week reuses the partitions
  const body = await sales(app, 'from=2026-03-25&to=2026-03-31&compare=none');
  assert.equal(body.kpis.revenue, 290);
  for (const day of days) assert.equal(fixture.dayFetches(day), 1, `${day} not fetched again`);

  const status = await app.inject({ url: '/api/v1/sync/status', headers: auth('admin') });
  assert.equal(status.statusCode, 200, status.body);
  const s = status.json() as { watermark: unknown; partitions: unknown };
  assert.equal(s.watermark, '2026-03-31');
  assert.ok(
    typeof s.partitions === 'number'
      ? s.partitions >= 7
      : typeof s.partitions === 'object' && s.partitions !== null,
    `partitions: ${JSON.stringify(s.partitions)}`,
  );

  const viewerSync = await app.inject({
    method: 'POST',
    url: '/api/v1/sync',
    headers: auth('viewer'),
    payload: { from: '2026-03-25', to: '2026-03-31' },
  });
  assert.equal(viewerSync.statusCode, 403);
  const viewerStatus = await app.inject({ url: '/api/v1/sync/status', headers: auth('viewer') });
  assert.equal(viewerStatus.statusCode, 403);

  // Last, so that the checks above run either way: lines of the 7 days = 5+5+3+3+2+2+2 = 22
  assert.equal(report.lines, 22, 'sync.lines: every line of the window');
});
