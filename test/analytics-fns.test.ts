/**
 * Pure functions of the analytics path: KPI formulas, calendar, partitions, the fast page validator,
 * the serialised answers of the result cache.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { fastParseSalesPage } from '../src/clients/upstream-client.ts';
import {
  businessDayFormatter,
  dayStartUtc,
  formatDay,
  isoWeekKey,
  localParts,
  monthKey,
  parseDay,
  shiftYears,
  todayIn,
} from '../src/lib/calendar.ts';
import { UpstreamSalesPage } from '../src/models/upstream.ts';
import { aggregate, createDayView, IdDictionary } from '../src/services/analytics/aggregate-fns.ts';
import {
  coverBucket,
  daysOfCover,
  growthPct,
  needsReorder,
  revenueAtStakeScaled,
  roundMoney,
  scaledToCents,
  stockStatus,
  toScaled,
} from '../src/services/analytics/kpi-fns.ts';
import {
  createPartitionBuilder,
  decodePartition,
  encodePartition,
} from '../src/services/analytics/partition.ts';
import { restamp, serializeAnswer } from '../src/services/result-cache.ts';

const day = (s: string) => parseDay(s)!;

test('money: summed exactly, rounded once to cents, half away from zero', () => {
  // 0.335 × 3 = 1.005 exactly in decimal; naive float sums give 1.0050000000000001 or 1.00499...
  const sum = toScaled(0.335) * 3;
  assert.equal(scaledToCents(sum), 1.01);
  assert.equal(scaledToCents(-sum), -1.01);
  let naive = 0;
  let exact = 0;
  for (let i = 0; i < 1_000_000; i++) {
    naive += 0.1;
    exact += toScaled(0.1);
  }
  assert.notEqual(naive, 100_000);
  assert.equal(scaledToCents(exact), 100_000);
  assert.equal(roundMoney(2.675), 2.68);
  assert.equal(Object.is(scaledToCents(-1), 0), true, 'no negative zero');
});

test('growth is null without a previous figure; stock status boundaries', () => {
  assert.equal(growthPct(10, 0), null);
  assert.equal(growthPct(10, null), null);
  assert.equal(growthPct(15, 10), 50);
  assert.equal(growthPct(0, 10), -100);
  assert.equal(stockStatus(0, 5), 'out');
  assert.equal(stockStatus(-2, 5), 'negative');
  assert.equal(daysOfCover(-2, 1), null, 'no negative cover');
  assert.equal(daysOfCover(3, 0), null, 'no cover without sales');
  assert.equal(needsReorder(3, 1, 7), true);
  assert.equal(needsReorder(7, 1, 7), false, 'exactly the lead time is enough');
  assert.equal(needsReorder(-4, 0, 7), false, 'an item that does not sell is not reordered');
  // 1.5 units a day for 7 days = 10.5; 4 on hand: 6.5 short at 2.40 = 15.60
  assert.equal(scaledToCents(revenueAtStakeScaled(4, 1.5, 2.4, 7)), 15.6);
  assert.equal(scaledToCents(revenueAtStakeScaled(-3, 1.5, 2.4, 7)), 25.2, 'negative stock counts as none');
  assert.equal(revenueAtStakeScaled(20, 1.5, 2.4, 7), 0);
  assert.equal(coverBucket(-1, null), 'negative');
  assert.equal(coverBucket(0, null), 'out');
  assert.equal(coverBucket(5, null), 'noSales');
  assert.equal(coverBucket(5, 6.9), 'lt7');
  assert.equal(coverBucket(5, 7), '7to14');
  assert.equal(coverBucket(5, 56), 'ge56');
  assert.equal(stockStatus(5, 5), 'low');
  assert.equal(stockStatus(6, 5), 'ok');
});

test('calendar: "today" is cached per day, exact across midnight and both DST changes', () => {
  const tz = 'Europe/Paris';
  const at = (iso: string) => formatDay(todayIn(tz, Date.parse(iso)));
  // Spring forward (a 23-hour day) and fall back (25 hours), at their edges.
  assert.equal(at('2026-03-28T22:59:59.999Z'), '2026-03-28');
  assert.equal(at('2026-03-28T23:00:00.000Z'), '2026-03-29');
  assert.equal(at('2026-03-29T21:59:59.999Z'), '2026-03-29');
  assert.equal(at('2026-03-29T22:00:00.000Z'), '2026-03-30');
  assert.equal(at('2026-10-24T21:59:59.999Z'), '2026-10-24');
  assert.equal(at('2026-10-24T22:00:00.000Z'), '2026-10-25');
  assert.equal(at('2026-10-25T22:59:59.999Z'), '2026-10-25');
  assert.equal(at('2026-10-25T23:00:00.000Z'), '2026-10-26');
  // Every 7 minutes through both changes, forwards then backwards (a clock set back), as Intl says.
  for (const [start, end] of [
    ['2026-03-27T00:00:00Z', '2026-03-31T00:00:00Z'],
    ['2026-10-23T00:00:00Z', '2026-10-27T00:00:00Z'],
  ] as const) {
    const instants: number[] = [];
    for (let t = Date.parse(start); t < Date.parse(end); t += 7 * 60_000) instants.push(t);
    for (const t of [...instants, ...instants.reverse()]) {
      assert.equal(todayIn(tz, t), localParts(t, tz).day, new Date(t).toISOString());
    }
  }
  assert.equal(formatDay(todayIn('Asia/Tokyo', Date.parse('2026-06-30T15:00:00Z'))), '2026-07-01');
  assert.equal(formatDay(todayIn('America/New_York', Date.parse('2026-07-01T03:59:00Z'))), '2026-06-30');
});

test('calendar: ISO weeks, months, a year earlier with 29 February', () => {
  assert.equal(isoWeekKey(day('2026-01-01')), '2026-W01'); // a Thursday
  assert.equal(isoWeekKey(day('2027-01-01')), '2026-W53'); // a Friday: still 2026's last week
  assert.equal(isoWeekKey(day('2024-12-30')), '2025-W01'); // a Monday
  assert.equal(isoWeekKey(day('2026-03-29')), '2026-W13'); // a Sunday ends its week
  assert.equal(monthKey(day('2026-03-31')), '2026-03');
  assert.equal(formatDay(shiftYears(day('2024-02-29'), -1)), '2023-02-28');
  assert.equal(formatDay(shiftYears(day('2026-03-15'), -1)), '2025-03-15');
  // Years 0 to 99 are themselves (Date.UTC would read them as 1900 to 1999), and round-trip.
  assert.equal(formatDay(day('0000-01-01')), '0000-01-01');
  assert.equal(formatDay(day('0099-12-31')), '0099-12-31');
  assert.equal(parseDay('0000-02-30'), undefined);
  // Paris: winter offset +01:00, so 2026-03-29 starts at 23:00Z the day before.
  assert.equal(
    new Date(dayStartUtc(day('2026-03-29'), 'Europe/Paris')).toISOString(),
    '2026-03-28T23:00:00.000Z',
  );
  assert.equal(
    new Date(dayStartUtc(day('2026-03-30'), 'Europe/Paris')).toISOString(),
    '2026-03-29T22:00:00.000Z',
  );
  // The cached business-day labeller agrees with the definition, in and out of time order.
  const businessDay = businessDayFormatter('Europe/Paris');
  const stamps = [
    '2026-03-28T22:59:59Z',
    '2026-03-28T23:00:00Z',
    '2026-03-29T21:59:59Z',
    '2026-03-29T22:00:00Z',
    '2026-03-28T10:00:00+01:00',
    '2026-03-30T00:30:00+02:00',
  ];
  assert.deepEqual(stamps.map(businessDay), [
    '2026-03-28',
    '2026-03-29',
    '2026-03-29',
    '2026-03-30',
    '2026-03-28',
    '2026-03-30',
  ]);
});

function line(o: Partial<Record<string, unknown>> = {}) {
  return {
    id: '1',
    orderId: 'o1',
    soldAt: '2026-03-29T10:00:00+02:00',
    storeId: '1',
    productId: 'p1',
    quantity: 1,
    unitPrice: 2,
    amount: 2,
    unitCost: 1,
    ...o,
  } as Parameters<ReturnType<typeof createPartitionBuilder>['add']>[0];
}

test('a partition counts distinct orders per cell and per store, and round-trips through its encoding', () => {
  const d = day('2026-03-29');
  const b = createPartitionBuilder(d, dayStartUtc(d, 'Europe/Paris'), dayStartUtc(d + 1, 'Europe/Paris'));
  b.add(line({ id: 'a', orderId: 'o1', productId: 'p1', quantity: 2, amount: 4 }));
  b.add(line({ id: 'b', orderId: 'o1', productId: 'p1', quantity: 1, amount: 2 })); // same order, same product
  b.add(line({ id: 'c', orderId: 'o1', productId: 'p2', amount: 3, unitCost: undefined }));
  b.add(line({ id: 'd', orderId: 'o2', productId: 'p1', storeId: '2', amount: 2 }));
  b.add(line({ id: 'e', orderId: 'o3', soldAt: '2026-03-28T21:30:00Z', amount: 1 })); // 22:30 Paris the 28th
  const data = b.finish(Date.parse('2026-03-30T01:00:00Z'), true);
  assert.equal(data.lineCount, 5);
  assert.equal(data.offDayLines, 1);
  assert.deepEqual([...data.orders], [2, 1, 1]); // (1,p1): o1,o3; (1,p2): o1; (2,p1): o2
  assert.deepEqual([...data.units], [4, 1, 1]);
  assert.deepEqual([...data.unitsNoCost], [0, 1, 0]);

  const back = decodePartition(encodePartition(data));
  assert.equal(back.version, data.version);
  assert.deepEqual([...back.revenue], [...data.revenue]);
  assert.deepEqual([...back.basketCell], [...data.basketCell]);
  assert.deepEqual(back.productIds, data.productIds);
  // A Buffer at an odd offset (as from a pool) decodes too, by copying.
  const shifted = Buffer.concat([Buffer.alloc(3), encodePartition(data)]).subarray(3);
  assert.deepEqual([...decodePartition(shifted).units], [...data.units]);

  const stores = new IdDictionary();
  const products = new IdDictionary();
  const view = createDayView(back, stores, products);
  assert.deepEqual(Object.fromEntries(view.storeOrders), { 0: 2, 1: 1 });
  const attrs = {
    version: 'x',
    regionOfStore: Int32Array.from([0, 0]),
    categoryOfProduct: Int32Array.from([0, 0]),
    brandOfProduct: Int32Array.from([0, 0]),
    costOfProduct: Float64Array.from([toScaled(1), toScaled(1.5)]),
    regions: ['R'],
    categories: ['C'],
    brands: ['B'],
    storeCount: 2,
    productCount: 2,
  };
  // One brand: o1 has two products of it but counts once.
  const byBrand = aggregate(
    [{ view, buckets: {} }],
    { dims: ['brand'], storeMask: null, productMask: null },
    attrs,
    {},
  );
  assert.deepEqual(byBrand.orders, [3]);
  assert.equal(scaledToCents(byBrand.cost[0]!), 5 + 1.5); // 5 units × 1 + 1 unit without unitCost × 1.5
  const p2only = aggregate(
    [{ view, buckets: {} }],
    { dims: ['store'], storeMask: null, productMask: Uint8Array.from([0, 1]) },
    attrs,
    {},
  );
  assert.deepEqual(p2only.orders, [1]);
  assert.equal(scaledToCents(p2only.revenue[0]!), 3);
});

test('the fast sales-page check accepts only what the zod schema accepts, with the same result', () => {
  const variants: unknown[] = [
    {},
    { id: 12 },
    { id: 1.5 },
    { id: '' },
    { id: null },
    { orderId: 2 ** 60 },
    { soldAt: '2026-03-29T10:00:00Z' },
    { soldAt: '2026-03-29T10:00:00.123+05:30' },
    { soldAt: '2026-03-29 10:00:00+02:00' },
    { soldAt: '2026-13-29T10:00:00+02:00' },
    { soldAt: '2026-02-30T10:00:00+02:00' },
    { soldAt: '2026-02-29T10:00:00+02:00' },
    { soldAt: '2024-02-29T10:00:00+02:00' },
    { soldAt: '2026-04-31T10:00:00+02:00' },
    { soldAt: '2026-03-29T10:00+02:00' },
    { soldAt: '2026-03-29T24:00:00+02:00' },
    { soldAt: '2026-03-29T10:00:00' },
    { amount: '12.5x' },
    { amount: '12.5' },
    { quantity: null },
    { unitCost: null },
    { unitCost: undefined },
    { unitCost: 'x' },
    { storeId: true },
    { extra: 'ignored' },
  ];
  for (const v of variants) {
    const page = {
      content: [{ ...line(), ...(v as object) }],
      number: 0,
      size: 10,
      totalElements: 1,
      totalPages: 1,
      last: true,
    };
    const text = JSON.stringify(page);
    const fast = fastParseSalesPage(JSON.parse(text));
    const slow = UpstreamSalesPage.safeParse(JSON.parse(text));
    if (fast !== undefined) {
      assert.ok(slow.success, `fast accepted what zod refuses: ${JSON.stringify(v)}`);
      // Same values for every field of the contract (the fast path leaves unknown keys in place).
      const known = (p: unknown) =>
        JSON.parse(JSON.stringify(p, (k, val) => (k === 'extra' ? undefined : val)));
      assert.deepEqual(known(fast), known(slow.data), JSON.stringify(v));
    }
  }
  for (const broken of [
    null,
    [],
    { content: 'x' },
    { content: [], number: -1, size: 1, totalElements: 0, totalPages: 0, last: true },
  ]) {
    assert.equal(fastParseSalesPage(broken), undefined);
  }
});

test('a stored answer is served with only meta.cached and meta.computeMs restamped, whatever its strings spell', () => {
  const Answer = z.object({
    rows: z.array(z.object({ label: z.string(), value: z.number() })),
    meta: z.object({ stale: z.boolean(), cached: z.boolean(), computeMs: z.number(), currency: z.string() }),
  });
  // A label that spells the marker the restamp looks for, quotes, a backslash, non-ASCII text.
  const label = 'Zürich ","meta":{"stale":true,"cached":true} \\ «7»';
  const answer = {
    // members out of the schema's order, and one the schema does not know: it writes its own
    meta: { currency: 'EUR', computeMs: 12.5, cached: false, stale: false },
    rows: [{ value: 1.5, label, extra: 'dropped' }],
  };
  const stored = serializeAnswer(Answer, answer);
  const expected = {
    rows: [{ label, value: 1.5 }],
    meta: { stale: false, cached: false, computeMs: 12.5, currency: 'EUR' },
  };
  assert.equal(stored.toString('utf8'), JSON.stringify(expected));

  const served = restamp(stored, performance.now());
  assert.equal(served.cached, true);
  assert.equal(served.stale, false);
  const body = JSON.parse(served.body.toString('utf8'));
  assert.equal(typeof body.meta.computeMs, 'number');
  assert.notEqual(body.meta.computeMs, 12.5);
  assert.equal(
    served.body.toString('utf8'),
    JSON.stringify({ ...expected, meta: { ...expected.meta, cached: true, computeMs: body.meta.computeMs } }),
  );
  assert.equal(stored.toString('utf8'), JSON.stringify(expected), 'the stored bytes are left as they were');
  // Bodies are kept per computeMs: a later, slower hit of the same answer gets its own.
  const slower = JSON.parse(restamp(stored, performance.now() - 5).body.toString('utf8'));
  assert.ok(slower.meta.computeMs >= 5, `computeMs ${slower.meta.computeMs}`);
  assert.deepEqual(slower.rows, expected.rows);
  assert.equal(
    restamp(serializeAnswer(Answer, { ...answer, meta: { ...answer.meta, stale: true } }), 0).stale,
    true,
  );

  assert.throws(
    () => serializeAnswer(Answer, { ...answer, rows: [{ label: 3 }] } as never),
    /response schema/,
  );
  const metaFirst = z.object({ meta: Answer.shape.meta, rows: Answer.shape.rows });
  assert.throws(() => serializeAnswer(metaFirst, answer), /last member/);
});
