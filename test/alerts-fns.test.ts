/** Alert detection's pure parts, on baselines computed by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDay, weekday } from '../src/lib/calendar.ts';
import { holidayLookup, isKnownHolidayCountry } from '../src/lib/holidays.ts';
import { type AlertCandidate, AlertRule, DEFAULT_RULES, type FiredAlert } from '../src/models/alerts.ts';
import { accuracy, type KnownEvent } from '../src/services/alerts/accuracy-fns.ts';
import {
  baselineDays,
  flooredSpread,
  isPriceCut,
  median,
  minHistory,
  robustBaseline,
  robustScore,
  severityOf,
} from '../src/services/alerts/detection-fns.ts';
import { episodes, repeatDays } from '../src/services/alerts/episode-fns.ts';
import { topContributors } from '../src/services/alerts/explain-fns.ts';
import { stockVerdict } from '../src/services/alerts/stock-rule-fns.ts';

test('robust baseline: median and MAD × 1.4826, floored at 10 % of the expected value', () => {
  // sorted 90 95 100 100 105 110 → median 100; |deviations| 0 0 5 5 10 10 → MAD 5 → 7.413
  const b = robustBaseline([100, 110, 90, 105, 95, 100]);
  assert.equal(b.expected, 100);
  assert.ok(Math.abs(b.rawSpread - 7.413) < 1e-9);
  assert.equal(b.spread, 10, 'the 10 % floor is above the MAD here');
  assert.equal(robustScore(50, b), -5);
  // A wide baseline: MAD decides. 60 80 100 120 140 → median 100, MAD 20 → 29.652
  const wide = robustBaseline([140, 60, 100, 120, 80]);
  assert.ok(Math.abs(wide.spread - 29.652) < 1e-9);
  assert.ok(Math.abs(robustScore(200, wide) - 100 / 29.652) < 1e-9);
  // One outlier in the baseline (a promotion week) moves neither the median nor the MAD much.
  assert.equal(robustBaseline([100, 100, 100, 100, 100, 900]).expected, 100);
});

test('MAD of 0 uses the floor: never a division by zero', () => {
  const flat = robustBaseline([50, 50, 50, 50, 50, 50]);
  assert.equal(flat.rawSpread, 0);
  assert.equal(flat.spread, 5);
  assert.equal(robustScore(40, flat), -2);
  const zero = robustBaseline([0, 0, 0, 0]);
  assert.equal(zero.spread, 1, 'the absolute floor');
  assert.equal(robustScore(3, zero), 3);
  // Counts: √expected, the Poisson noise, is the floor: 12 against six days of exactly 6 is no anomaly.
  const counts = robustBaseline([6, 6, 6, 6, 6, 6], true);
  assert.equal(counts.spread, Math.sqrt(6));
  assert.ok(robustScore(12, counts) < 4);
  assert.equal(flooredSpread(0, 400, true), 40, '10 % beats √400 = 20');
  assert.equal(median([3, 1, 2, 4]), 2.5);
});

test('weekday seasonality: the baseline is the same weekday of earlier weeks, holidays and closed days skipped', () => {
  const day = parseDay('2026-06-13')!; // a Saturday
  const all = baselineDays(day, 6, () => true);
  assert.deepEqual(
    all.map((d) => d - day),
    [-7, -14, -21, -28, -35, -42],
  );
  assert.ok(all.every((d) => weekday(d) === weekday(day)));
  // Saturdays sell 1.45 × a Monday: a Saturday is compared with Saturdays only.
  const values = new Map(all.map((d, i) => [d, [145, 150, 140, 146, 144, 160][i]!]));
  const b = robustBaseline(all.map((d) => values.get(d)!));
  assert.equal(b.expected, 145.5); // sorted 140 144 145 146 150 160
  assert.ok(Math.abs(robustScore(145, b)) < 0.1, 'a normal Saturday is not a spike');
  // Two skipped weeks (a holiday, a closed day): the lookback reaches further back for six days.
  const skipped = new Set([day - 14, day - 28]);
  const some = baselineDays(day, 6, (d) => !skipped.has(d));
  assert.deepEqual(
    some.map((d) => d - day),
    [-7, -21, -35, -42, -49, -56],
  );
  // …but not forever: at most N + 4 weeks back; too little history is said by the caller.
  assert.equal(baselineDays(day, 6, (d) => d > day - 20).length, 2);
  assert.ok(2 < minHistory(6));
  assert.equal(minHistory(6), 4);
  assert.equal(baselineDays(day, 6, () => true, day - 22).length, 3, 'data starts 22 days before');
});

test('severity needs both the score and the money at stake', () => {
  const map = { warning: { minScore: 5, minMoney: 100 }, critical: { minScore: 8, minMoney: 1000 } };
  assert.equal(severityOf(-12, 5000, map), 'critical');
  assert.equal(severityOf(-12, 500, map), 'warning', 'a wild swing on little money is not critical');
  assert.equal(severityOf(4.5, 5000, map), 'info', 'a lot of money on a mild score stays info');
  assert.equal(severityOf(null, 2000, map), 'critical', 'stock rules: money only');
});

test('a price cut marks a promotion', () => {
  assert.equal(isPriceCut(8, 10), true);
  assert.equal(isPriceCut(9.5, 10), false);
  assert.equal(isPriceCut(8, 0), false);
});

function cand(day: string, score: number, money = 10): AlertCandidate {
  return {
    ruleId: 'r',
    day,
    entity: { level: 'store', id: '1', name: 'S1', storeId: '1' },
    metric: 'orders',
    kind: score < 0 ? 'drop' : 'spike',
    direction: score < 0 ? 'drop' : 'spike',
    actual: 1,
    expected: 2,
    score,
    severity: Math.abs(score) > 8 ? 'critical' : 'info',
    moneyAtStake: money,
    explanation: { summary: '', contributors: [] },
  };
}

test('pending periods: a rule fires after N consecutive anomalous checked days, once per run', () => {
  const d = (s: string) => parseDay(s)!;
  const f = (s: string, score: number) => ({ day: d(s), candidate: cand(s, score) });
  const checked = ['01', '02', '03', '04', '05', '06', '07', '08'].map((x) => d(`2026-03-${x}`));
  const findings = [f('2026-03-01', -5), f('2026-03-03', -6), f('2026-03-04', -9), f('2026-03-05', -7)];
  const opts = { pendingPeriods: 2, repeatInterval: '1d', notifyOnResolve: true };
  const fired = episodes(findings, checked, opts, (x) => new Date(x * 86_400_000).toISOString().slice(0, 10));
  assert.equal(fired.length, 1, 'the lone day 1 never fired');
  const a = fired[0]!;
  assert.equal(a.startedOn, '2026-03-03');
  assert.equal(a.firedOn, '2026-03-04');
  assert.equal(a.lastOn, '2026-03-05');
  assert.equal(a.resolvedOn, '2026-03-06');
  assert.equal(a.days, 3);
  assert.equal(a.peakScore, -9);
  assert.equal(a.severity, 'critical');
  assert.equal(a.moneyAtStake, 30);
  assert.deepEqual(a.notifications, ['2026-03-04', '2026-03-05', '2026-03-06']);
  // A closed day (not checked) neither breaks nor extends a run.
  const gap = episodes(
    [f('2026-03-01', -5), f('2026-03-03', -5)],
    checked.filter((x) => x !== d('2026-03-02')),
    { ...opts, notifyOnResolve: false },
    String,
  );
  assert.equal(gap.length, 1);
  assert.equal(gap[0]!.days, 2);
});

test('repeat interval: a still-firing alert is notified again at most once per interval', () => {
  assert.equal(repeatDays('12h'), 1);
  assert.equal(repeatDays('3d'), 3);
  assert.equal(repeatDays('1w'), 7);
  const days = Array.from({ length: 10 }, (_, i) => 100 + i);
  const fired = episodes(
    days.map((day) => ({ day, candidate: cand('x', -5) })),
    days,
    { pendingPeriods: 1, repeatInterval: '3d', notifyOnResolve: false },
    String,
  );
  assert.deepEqual(fired[0]!.notifications, ['100', '103', '106', '109']);
  assert.equal(fired[0]!.resolvedOn, null, 'still firing at the end');
});

test('explanation: the children that make 80 % of the gap, largest first', () => {
  const children = [
    { kind: 'product' as const, id: 'a', name: 'A', actual: 10, expected: 70 }, // −60
    { kind: 'product' as const, id: 'b', name: 'B', actual: 0, expected: 25 }, // −25
    { kind: 'product' as const, id: 'c', name: 'C', actual: 5, expected: 10 }, // −5
    { kind: 'product' as const, id: 'd', name: 'D', actual: 30, expected: 20 }, // +10, the other way
  ];
  const top = topContributors(children, -80, 'drop');
  assert.deepEqual(
    top.map((c) => [c.id, c.gap, c.share]),
    [
      ['a', -60, 0.75],
      ['b', -25, 0.313],
    ],
  );
  assert.deepEqual(topContributors(children, 0, 'drop'), []);
});

test('stock rules use the stock analytics definitions, for items that sell', () => {
  const facts = { quantity: 0, reorderLevel: 5, avgDailyUnits: 2, unitRevenue: 10 };
  assert.deepEqual(stockVerdict('stock_out', facts, 7, 0.5), {
    kind: 'out_of_stock',
    daysOfCover: 0,
    moneyAtStake: 140,
  });
  assert.equal(stockVerdict('stock_out', { ...facts, avgDailyUnits: 0 }, 7, 0), undefined, 'does not sell');
  assert.equal(
    stockVerdict('stock_out', { ...facts, avgDailyUnits: 0.2 }, 7, 0.5),
    undefined,
    'sells too little',
  );
  const low = stockVerdict('low_cover', { ...facts, quantity: 6 }, 7, 0.5)!;
  assert.equal(low.kind, 'low_cover');
  assert.equal(low.daysOfCover, 3);
  assert.equal(low.moneyAtStake, 80, '4 uncovered days × 2 units × 10');
  assert.equal(stockVerdict('low_cover', { ...facts, quantity: 20 }, 7, 0.5), undefined, '10 days of cover');
  assert.equal(stockVerdict('below_reorder', { ...facts, quantity: 4 }, 7, 0.5)!.kind, 'below_reorder');
});

test('holidays: date-holidays public holidays by country; none without a country', () => {
  const fr = holidayLookup('FR');
  assert.match(fr(parseDay('2026-07-14')!) ?? '', /Fête Nationale/);
  assert.equal(fr(parseDay('2026-07-15')!), undefined);
  assert.equal(fr(parseDay('2026-05-24')!), undefined, 'Pentecost Sunday is an observance, not a holiday');
  assert.equal(holidayLookup(undefined)(parseDay('2026-07-14')!), undefined);
  assert.ok(isKnownHolidayCountry('FR'));
  assert.ok(isKnownHolidayCountry('DE-BY'));
  assert.ok(!isKnownHolidayCountry('XX'));
  assert.ok(!isKnownHolidayCountry('DE-XX'));
});

test('default rules are valid rules; filters that do not fit a level are refused', () => {
  assert.ok(DEFAULT_RULES.length >= 5);
  assert.equal(new Set(DEFAULT_RULES.map((r) => r.id)).size, DEFAULT_RULES.length);
  const bad = AlertRule.safeParse({
    id: 'x',
    name: 'x',
    metric: 'units',
    level: 'category',
    filters: { storeId: ['1'] },
  });
  assert.equal(bad.success, false);
  assert.equal(
    AlertRule.safeParse({ id: 'y', name: 'y', metric: 'stock_out', level: 'store' }).success,
    false,
  );
});

test('accuracy: an event counts once, related alerts are true, promotions are no anomalies', () => {
  const alert = (
    id: string,
    level: 'store' | 'region' | 'product',
    from: string,
    to: string,
  ): FiredAlert => ({
    ruleId: 'r',
    entity: { level, id, name: id, ...(level === 'store' ? { storeId: id } : {}) },
    kind: 'drop',
    startedOn: from,
    firedOn: from,
    lastOn: to,
    resolvedOn: null,
    days: 1,
    peakScore: -5,
    severity: 'info',
    moneyAtStake: 0,
    notifications: [],
    candidate: cand(from, -5),
  });
  const events: KnownEvent[] = [
    { kind: 'store_drop', storeId: '3', from: '2026-05-01', to: '2026-05-07', expected: false },
    { kind: 'product_spike', productId: 'P9', from: '2026-05-10', to: '2026-05-13', expected: false },
    { kind: 'promotion', productId: 'P5', from: '2026-05-02', to: '2026-05-05', expected: true },
  ];
  const h = {
    regionOfStore: (s: string) => (s === '3' ? 'North' : 'South'),
    categoryOfProduct: () => 'C',
    brandOfProduct: () => 'B',
  };
  const acc = accuracy(
    [
      alert('3', 'store', '2026-05-01', '2026-05-03'),
      alert('3', 'store', '2026-05-05', '2026-05-06'),
      alert('North', 'region', '2026-05-02', '2026-05-02'),
      alert('P5', 'product', '2026-05-03', '2026-05-03'),
      alert('4', 'store', '2026-05-20', '2026-05-20'),
    ],
    events,
    h,
    { stores: 2, days: 30.44 },
  );
  assert.equal(acc.events, 2, 'the promotion is not an anomaly to find');
  assert.equal(acc.found, 1);
  assert.equal(acc.recall, 0.5);
  assert.equal(acc.trueAlerts, 3, 'two alerts on the store and one on its region');
  assert.equal(acc.falseAlerts, 2, 'the promotion alert and the unrelated store');
  assert.equal(acc.falsePerStoreMonth, 1);
  assert.equal(acc.missed[0]!.kind, 'product_spike');
});
