/**
 * The alert lifecycle and its notifications on hand-made inputs: pending periods, repeat
 * interval, resolution, acknowledgement, snooze, silences, retired rules; then who gets what.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertRecord } from '../src/models/alert-book.ts';
import { type AlertCandidate, type AlertEntity, AlertRule } from '../src/models/alerts.ts';
import {
  applyDay,
  type DayInput,
  daysBetween,
  durationMs,
  type LifecycleRule,
  type SilenceMatcher,
  silenceMatches,
  type Transition,
} from '../src/services/alerts/lifecycle-fns.ts';
import {
  alertIdOf,
  groupByRecipient,
  type Hierarchy,
  type Notice,
  noticeSetId,
  sliceCovers,
} from '../src/services/alerts/notify-fns.ts';
import { alertMessage } from '../src/services/alerts/notify-message.ts';

const STORE: AlertEntity = { level: 'store', id: '7', name: 'Lyon Part-Dieu', storeId: '7' };
const ITEM: AlertEntity = {
  level: 'product',
  id: '7/P1',
  name: 'Coffee at Lyon Part-Dieu',
  storeId: '7',
  productId: 'P1',
};

function candidate(ruleId: string, entity: AlertEntity, day: string, over: Partial<AlertCandidate> = {}) {
  return {
    ruleId,
    day,
    entity,
    metric: 'orders',
    kind: 'drop',
    direction: 'drop',
    actual: 6,
    expected: 31,
    score: -4.49,
    severity: 'warning',
    moneyAtStake: 250,
    explanation: {
      summary: `${entity.name}: orders down to 6 against 31 expected (-81 %).`,
      contributors: [],
    },
    ...over,
  } satisfies AlertCandidate;
}

const rule = (over: Partial<LifecycleRule> = {}): LifecycleRule => ({
  id: 'store-orders',
  pendingPeriods: 1,
  repeatInterval: '1d',
  notifyOnResolve: false,
  ...over,
});

/** Runs the days in order, feeding each day's result back as the stored state, as the check does. */
function run(
  days: { day: string; found: AlertCandidate[]; now?: string; silences?: SilenceMatcher[] }[],
  rules: LifecycleRule[],
  patch: (stored: Map<string, AlertRecord>, day: string) => void = () => {},
) {
  const stored = new Map<string, AlertRecord>();
  const out: Transition[][] = [];
  for (const d of days) {
    patch(stored, d.day);
    const input: DayInput = {
      day: d.day,
      now: d.now ?? `${d.day}T23:00:00.000Z`,
      evaluated: new Map(rules.map((r) => [r.id, r])),
      enabled: new Set(rules.map((r) => r.id)),
      candidates: d.found,
      stored: [...stored.values()],
      silences: d.silences ?? [],
      idOf: alertIdOf,
    };
    const ts = applyDay(input);
    for (const t of ts) stored.set(t.alert.id, t.alert);
    out.push(ts);
  }
  return { out, stored };
}

const brief = (ts: Transition[]) => ts.map((t) => [t.change, t.alert.state, t.notify, t.suppressed]);

test('pending periods: two anomalous days in a row before it fires; one alert across the days', () => {
  const r = rule({ pendingPeriods: 2, repeatInterval: '2d' });
  const c = (day: string) => candidate(r.id, STORE, day);
  const { out, stored } = run(
    [
      { day: '2026-06-01', found: [c('2026-06-01')] },
      { day: '2026-06-02', found: [c('2026-06-02')] },
      { day: '2026-06-03', found: [c('2026-06-03')] },
      { day: '2026-06-04', found: [c('2026-06-04')] },
    ],
    [r],
  );
  assert.deepEqual(out.map(brief), [
    [['opened', 'pending', null, null]],
    [['fired', 'firing', 'firing', null]],
    [['continued', 'firing', null, null]], // 1 day since the notification, repeat every 2
    [['continued', 'firing', 'repeat', null]],
  ]);
  assert.equal(stored.size, 1, 'the same (rule, entity) is one alert');
  const a = [...stored.values()][0]!;
  assert.equal(a.id, alertIdOf('store-orders', '7'));
  assert.deepEqual(
    [a.firstSeen, a.firedOn, a.lastSeen, a.consecutive],
    ['2026-06-01', '2026-06-02', '2026-06-04', 4],
  );
  assert.equal(a.lastNotifiedDay, '2026-06-04');
});

test('a pending alert that ends before its pending periods resolves without a word', () => {
  const r = rule({ pendingPeriods: 3, notifyOnResolve: true });
  const { out } = run(
    [
      { day: '2026-06-01', found: [candidate(r.id, STORE, '2026-06-01')] },
      { day: '2026-06-02', found: [] },
    ],
    [r],
  );
  assert.deepEqual(out.map(brief), [
    [['opened', 'pending', null, null]],
    [['resolved', 'resolved', null, null]],
  ]);
});

test('checking a day again, or an earlier day, changes nothing', () => {
  const r = rule();
  const c = candidate(r.id, STORE, '2026-06-02');
  const { out } = run(
    [
      { day: '2026-06-02', found: [c] },
      { day: '2026-06-02', found: [c] },
      { day: '2026-06-01', found: [] },
    ],
    [r],
  );
  assert.deepEqual(out.map(brief), [[['fired', 'firing', 'firing', null]], [], []]);
});

test('resolution: notified once when the rule asks and the firing was notified; a later episode reopens it', () => {
  for (const notifyOnResolve of [true, false]) {
    const r = rule({ notifyOnResolve, repeatInterval: '1w' });
    const { out, stored } = run(
      [
        { day: '2026-06-01', found: [candidate(r.id, STORE, '2026-06-01')] },
        { day: '2026-06-02', found: [candidate(r.id, STORE, '2026-06-02')] },
        { day: '2026-06-03', found: [] },
        { day: '2026-06-04', found: [] },
        { day: '2026-06-10', found: [candidate(r.id, STORE, '2026-06-10')] },
      ],
      [r],
    );
    assert.deepEqual(out.map(brief), [
      [['fired', 'firing', 'firing', null]],
      [['continued', 'firing', null, null]],
      [['resolved', 'resolved', notifyOnResolve ? 'resolved' : null, null]],
      [],
      [['fired', 'firing', 'firing', null]],
    ]);
    assert.equal(out[4]![0]!.newEpisode, true);
    const a = [...stored.values()][0]!;
    assert.equal(a.episodes, 2);
    assert.equal(a.firstSeen, '2026-06-10');
    assert.equal(a.resolvedOn, null);
  }
});

test('acknowledged: no repeats in this episode, the resolution still goes; a new episode clears it', () => {
  const r = rule({ notifyOnResolve: true });
  const id = alertIdOf(r.id, STORE.id);
  const { out } = run(
    [
      { day: '2026-06-01', found: [candidate(r.id, STORE, '2026-06-01')] },
      { day: '2026-06-02', found: [candidate(r.id, STORE, '2026-06-02')] },
      { day: '2026-06-03', found: [] },
      { day: '2026-06-05', found: [candidate(r.id, STORE, '2026-06-05')] },
    ],
    [r],
    (stored, day) => {
      if (day === '2026-06-02') stored.set(id, { ...stored.get(id)!, acknowledged: { at: 'x', by: 'anna' } });
    },
  );
  assert.deepEqual(out.map(brief), [
    [['fired', 'firing', 'firing', null]],
    [['continued', 'firing', null, 'acknowledged']],
    [['resolved', 'resolved', 'resolved', null]],
    [['fired', 'firing', 'firing', null]],
  ]);
  assert.equal(out[3]![0]!.newEpisode, true);
  assert.equal(out[3]![0]!.alert.acknowledged, null);
});

test('snoozed: nothing until it ends, then the firing is notified at the next check', () => {
  const r = rule({ repeatInterval: '1w' });
  const id = alertIdOf(r.id, STORE.id);
  const { out } = run(
    [
      { day: '2026-06-01', found: [candidate(r.id, STORE, '2026-06-01')] },
      { day: '2026-06-02', found: [candidate(r.id, STORE, '2026-06-02')] },
      { day: '2026-06-03', found: [candidate(r.id, STORE, '2026-06-03')] },
    ],
    [r],
    (stored, day) => {
      if (day === '2026-06-01')
        stored.set(id, {
          ...(candidateRecord(r.id, STORE) as AlertRecord),
          snoozedUntil: '2026-06-03T06:00:00.000Z',
        });
    },
  );
  assert.deepEqual(out.map(brief), [
    [['fired', 'firing', null, 'snoozed until 2026-06-03T06:00:00.000Z']],
    [['continued', 'firing', null, 'snoozed until 2026-06-03T06:00:00.000Z']],
    [['continued', 'firing', 'firing', null]],
  ]);
});

/** A resolved alert from an earlier episode, as stored. */
function candidateRecord(ruleId: string, entity: AlertEntity): AlertRecord {
  const c = candidate(ruleId, entity, '2026-05-01');
  return {
    id: alertIdOf(ruleId, entity.id),
    ruleId,
    entity,
    metric: c.metric,
    kind: c.kind,
    direction: 'drop',
    state: 'resolved',
    severity: c.severity,
    score: c.score,
    moneyAtStake: c.moneyAtStake,
    firstSeen: '2026-05-01',
    lastSeen: '2026-05-01',
    lastChecked: '2026-05-02',
    consecutive: 0,
    episodes: 1,
    firedOn: '2026-05-01',
    resolvedOn: '2026-05-02',
    acknowledged: null,
    snoozedUntil: null,
    lastNotifiedAt: null,
    lastNotifiedDay: '2026-05-01',
    detection: c,
    createdAt: '2026-05-01T23:00:00.000Z',
    updatedAt: '2026-05-02T23:00:00.000Z',
  };
}

test('silences: by rule, by entity (a store silences its store-product alerts), only while in force', () => {
  const r = rule();
  const other = rule({ id: 'out-of-stock' });
  const sil = (over: Partial<SilenceMatcher>): SilenceMatcher => ({
    id: 'sil-test0001',
    ruleId: null,
    entityId: null,
    startsAt: '2026-06-01T00:00:00.000Z',
    endsAt: '2026-06-02T00:00:00.000Z',
    ...over,
  });
  const now = '2026-06-01T12:00:00.000Z';
  const store = { ruleId: r.id, entity: STORE };
  const item = { ruleId: other.id, entity: ITEM };
  assert.ok(silenceMatches(sil({ ruleId: r.id }), store, now));
  assert.ok(!silenceMatches(sil({ ruleId: r.id }), item, now));
  assert.ok(silenceMatches(sil({ entityId: '7' }), item, now), 'store 7 silences its store-product alerts');
  assert.ok(silenceMatches(sil({ entityId: 'P1' }), item, now), 'and so does the product');
  assert.ok(!silenceMatches(sil({ entityId: '7', ruleId: r.id }), item, now), 'both given: both must match');
  assert.ok(!silenceMatches(sil({ ruleId: r.id }), store, '2026-06-02T00:00:00.000Z'), 'ended');
  assert.ok(!silenceMatches(sil({ ruleId: r.id }), store, '2026-05-31T23:59:59.000Z'), 'not started');
  assert.ok(!silenceMatches(sil({}), store, now), 'a silence matching nothing silences nothing');

  const { out } = run(
    [
      {
        day: '2026-06-01',
        now,
        found: [candidate(r.id, STORE, '2026-06-01'), candidate(other.id, ITEM, '2026-06-01')],
        silences: [sil({ entityId: 'P1' })],
      },
    ],
    [r, other],
  );
  assert.deepEqual(
    out[0]!.map((t) => [t.alert.ruleId, t.notify, t.suppressed]),
    [
      ['store-orders', 'firing', null],
      ['out-of-stock', null, 'silenced by sil-test0001'],
    ],
  );
});

test('rules not evaluated keep their alerts; deleted or disabled rules retire theirs silently', () => {
  const stock = rule({ id: 'out-of-stock' });
  const sales = rule();
  const open = (ruleId: string, entity: AlertEntity): AlertRecord => ({
    ...candidateRecord(ruleId, entity),
    state: 'firing',
    resolvedOn: null,
    lastChecked: '2026-05-31',
  });
  const input: DayInput = {
    day: '2026-06-01',
    now: '2026-06-01T23:00:00.000Z',
    evaluated: new Map([[sales.id, sales]]), // stock unknown on this day
    enabled: new Set([sales.id, stock.id]),
    candidates: [],
    stored: [open(stock.id, ITEM), open('gone-rule', STORE)],
    silences: [],
    idOf: alertIdOf,
  };
  assert.deepEqual(
    applyDay(input).map((t) => [t.alert.ruleId, t.change, t.alert.state, t.notify]),
    [['gone-rule', 'retired', 'resolved', null]],
  );
});

test('durations and day gaps', () => {
  assert.equal(durationMs('12h'), 12 * 3_600_000);
  assert.equal(durationMs('2w'), 14 * 86_400_000);
  assert.equal(daysBetween('2026-03-28', '2026-03-30'), 2, 'across the DST change');
});

const h: Hierarchy = {
  regionOfStore: (id) => ({ '7': 'ARA', '3': 'PACA' })[id],
  categoryOfProduct: (id) => ({ P1: 'Grocery' })[id],
  brandOfProduct: (id) => ({ P1: 'B1' })[id],
};

test('slices: a store manager gets their store and its items, not the region nor other stores', () => {
  const region: AlertEntity = { level: 'region', id: 'ARA', name: 'ARA' };
  const product: AlertEntity = { level: 'product', id: 'P1', name: 'Coffee', productId: 'P1' };
  assert.ok(sliceCovers({ storeId: ['7'] }, STORE, h));
  assert.ok(sliceCovers({ storeId: ['7'] }, ITEM, h));
  assert.ok(!sliceCovers({ storeId: ['3'] }, STORE, h));
  assert.ok(!sliceCovers({ storeId: ['7'] }, region, h));
  assert.ok(!sliceCovers({ storeId: ['7'] }, product, h), 'a product over all stores is not the store');
  assert.ok(sliceCovers({ region: ['ARA'] }, region, h));
  assert.ok(sliceCovers({ region: ['ARA'] }, ITEM, h), 'via the store of the item');
  assert.ok(sliceCovers({ category: ['Grocery'] }, product, h));
  assert.ok(sliceCovers({ category: ['Grocery'], storeId: ['7'] }, ITEM, h));
  assert.ok(!sliceCovers({ category: ['Grocery'], storeId: ['3'] }, ITEM, h));
  assert.ok(sliceCovers(undefined, region, h));
});

function notice(
  ruleId: string,
  entity: AlertEntity,
  notify: Notice['notify'],
  over: Partial<AlertRecord> = {},
): Notice {
  return {
    alert: { ...candidateRecord(ruleId, entity), state: 'firing', ...over },
    notify,
    ruleName: ruleId,
  };
}

test('one bucket per recipient across rules, ranked by severity then money, resolutions last', () => {
  const rules = new Map([
    [
      'store-orders',
      AlertRule.parse({
        id: 'store-orders',
        name: 'Store receipts',
        metric: 'orders',
        level: 'store',
        recipients: [
          { channel: 'email', address: 'hq@example.com' },
          { channel: 'email', address: 'lyon@example.com', slice: { storeId: ['7'] } },
        ],
      }),
    ],
    [
      'out-of-stock',
      AlertRule.parse({
        id: 'out-of-stock',
        name: 'Out of stock',
        metric: 'stock_out',
        level: 'product',
        perStore: true,
        recipients: [{ channel: 'email', address: 'HQ@example.com', name: 'Head office' }],
      }),
    ],
  ]);
  const store3: AlertEntity = { level: 'store', id: '3', name: 'Marseille', storeId: '3' };
  const notices = [
    notice('store-orders', STORE, 'firing', { severity: 'warning', moneyAtStake: 900 }),
    notice('store-orders', store3, 'resolved', { severity: 'critical', moneyAtStake: 5000 }),
    notice('out-of-stock', ITEM, 'firing', { severity: 'critical', moneyAtStake: 100 }),
    notice('store-orders', store3, 'firing', { severity: 'warning', moneyAtStake: 1200, id: 'alr-other' }),
  ];
  const buckets = groupByRecipient(notices, rules, h);
  assert.deepEqual(
    buckets.map((b) => [b.address, b.name ?? null, b.notices.map((n) => `${n.alert.entity.id}:${n.notify}`)]),
    [
      ['hq@example.com', 'Head office', ['7/P1:firing', '3:firing', '7:firing', '3:resolved']],
      ['lyon@example.com', null, ['7:firing']],
    ],
  );
  assert.equal(noticeSetId(buckets[0]!.notices), noticeSetId([...buckets[0]!.notices].reverse()));
  assert.notEqual(noticeSetId(buckets[0]!.notices), noticeSetId(buckets[1]!.notices));

  const msg = alertMessage(buckets[0]!, {
    day: '2026-06-01',
    holiday: null,
    complete: true,
    money: (v) => `€${v.toFixed(2)}`,
  });
  assert.equal(msg.subject, '[critical] SalesFlow alerts 2026-06-01: 3 new, 1 resolved');
  assert.deepEqual(
    msg.headline.map((k) => `${k.label}=${k.value}`),
    ['New alerts=3', 'Still firing=0', 'Resolved=1', 'Largest at stake=€1200.00'],
  );
  const lines = msg.text.split('\n');
  assert.match(
    lines[0]!,
    /^CRITICAL · Coffee at Lyon Part-Dieu \(product\) · orders drop, score -4\.49, €100\.00 at stake/,
  );
  assert.match(lines[1]!, /orders down to 6 against 31 expected/, 'each line with its explanation');
  assert.match(msg.text, /RESOLVED · Marseille \(store\)/);
  assert.deepEqual(msg.files, []);
  assert.equal((msg.webhook as { alerts: unknown[] }).alerts.length, 4);
});

test('a long message lists the first 50 alerts and says how many more; the webhook body has them all', () => {
  const notices = Array.from({ length: 53 }, (_, i) =>
    notice('out-of-stock', { ...ITEM, id: `7/P${i}`, productId: `P${i}` }, 'firing', {
      id: `alr-${String(i).padStart(20, '0')}`,
      moneyAtStake: 1000 - i,
    }),
  );
  const msg = alertMessage(
    { channel: 'email', address: 'hq@example.com', name: undefined, notices },
    { day: '2026-06-01', holiday: 'Whit Monday', complete: false, money: (v) => `€${v}` },
  );
  assert.equal(msg.text.split('\n').filter((l) => l.startsWith('WARNING · ')).length, 50);
  assert.match(msg.text, /… and 3 more \(GET \/api\/v1\/alerts lists them all\)\.$/);
  assert.match(msg.text, /^2026-06-01 was a public holiday: Whit Monday\./);
  assert.equal(msg.incomplete, true);
  assert.equal((msg.webhook as { alerts: unknown[] }).alerts.length, 53);
});
