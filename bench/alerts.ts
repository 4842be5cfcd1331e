/**
 * npm run bench:alerts [-- --runs 5 --stores 50 --products 2000 --lines-per-day 12500 --backtest-days 365
 *                         --seeds 3 --quick]
 *
 * 1. Speed, on warm partitions of the sample upstream (50 stores × 2,000 products): a daily check of
 *    every entity at every level (the default rules plus one rule on each product in each store, so
 *    ~100,000 series are scored), median of --runs (target ≤ 2 s); in the same process, the same
 *    check written as a naive per-entity loop (string-keyed maps per day, a sort per median) as the
 *    baseline; then a backtest over --backtest-days days (target ≤ 60 s); then the whole alert check
 *    (detection, lifecycle, alerts stored) on two days and the second again, once each.
 * 2. Accuracy of the default rules against the generator's injected events, over 730 days of
 *    12 stores × 400 products, for --seeds seeds (targets: recall ≥ 0.9, ≤ 1 false alert per store
 *    per month). Compared with the seed design's z-score over the whole history on store receipts.
 */
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { createContainer } from '../src/container.ts';
import { formatDay, parseDay, weekday } from '../src/lib/calendar.ts';
import { AlertRule, DEFAULT_RULES } from '../src/models/alerts.ts';
import type { PartitionData } from '../src/services/analytics/partition.ts';
import { measureAccuracy } from './lib/alert-accuracy.ts';
import { parseBenchArgs } from './lib/args.ts';
import { startDatasetUpstream, stopAll, stopChildrenOnExit } from './lib/processes.ts';
import { benchSqliteFile, codeVersion, load1, machineFacts, verdict } from './lib/run-facts.ts';
import { int, median, ms, table } from './lib/stats.ts';
import { zscoreStoreAlerts } from './lib/zscore-baseline.ts';

const USAGE =
  'npm run bench:alerts [-- --runs 5 --stores 50 --products 2000 --lines-per-day 12500 --backtest-days 365 --seeds 3 --quick]';
const args = parseBenchArgs('bench:alerts', USAGE, [
  'runs',
  'stores',
  'products',
  'lines-per-day',
  'backtest-days',
  'seeds',
]);
const runs = args.num('runs', args.quick ? 3 : 5, 1);
const stores = args.num('stores', 50, 1);
const products = args.num('products', args.quick ? 500 : 2000, 1);
const linesPerDay = args.num('lines-per-day', 250 * stores, 1);
const backtestDays = args.num('backtest-days', args.quick ? 90 : 365, 7);
const seeds = args.num('seeds', args.quick ? 1 : 3, 0);
stopChildrenOnExit();

/** The bench's rule set: the defaults plus every product in every store (the 100,000 series). */
const RULES = [
  ...DEFAULT_RULES.filter((r) => r.enabled),
  AlertRule.parse({
    id: 'store-product-orders',
    name: 'Product receipts in a store',
    metric: 'orders',
    level: 'product',
    perStore: true,
    thresholds: { minScore: 5, minExpected: 3 },
    pendingPeriods: 2,
  }),
];

// --- 1. speed -----------------------------------------------------------------------------------
const lookback = 70;
const days = backtestDays + lookback + 1;
const endDate = formatDay(Math.floor(Date.now() / 86_400_000) - 1);
const today = parseDay(endDate)! + 1;
console.log(
  `starting the sample upstream: ${stores} stores, ${products} products, ${days} days, ${int(linesPerDay)} lines/day…`,
);
const upstream = await startDatasetUpstream(
  { stores, products, days, linesPerDay },
  { seed: 42, endDate, tz: 'Europe/Paris' },
);
const config = loadConfig({
  DATABASE_URL: benchSqliteFile(),
  UPSTREAM_URL: upstream.url,
  API_KEYS: 'bench-key-0001:analyst',
  ANALYTICS_TODAY: formatDay(today),
  UPSTREAM_PAGE_SIZE: '5000',
  PARTITION_MEMORY_MB: '4096',
  CACHE_MAX_MB: '4096',
  LOG_LEVEL: 'silent',
});
const container = createContainer(config, pino({ level: 'silent' }));
const sync = await container.partitions.sync(today - days, today - 1);
console.log(`synced ${int(sync.lines)} lines in ${ms(sync.ms)} ms`);

const checkTimes: number[] = [];
let check: Awaited<ReturnType<typeof container.alerts.detectDay>> | undefined;
for (let i = 0; i <= runs; i++) {
  const t = performance.now();
  check = await container.alerts.detectDay(undefined, RULES);
  if (i > 0) checkTimes.push(performance.now() - t); // the first run also decodes partitions
}
const series = stores * products + stores + products;

// Like for like with the naive loop: only store receipts and store × product receipts.
const SAME = RULES.filter((r) => r.id === 'store-orders' || r.id === 'store-product-orders');
const sameTimes: number[] = [];
for (let i = 0; i <= runs; i++) {
  const t = performance.now();
  await container.alerts.detectDay(undefined, SAME);
  if (i > 0) sameTimes.push(performance.now() - t);
}

// The naive loop over the same partitions: per day a Map keyed "store|product", per entity a sort.
const held = await container.partitions.getDays(Array.from({ length: 71 }, (_, i) => today - 71 + i));
const naiveTimes: number[] = [];
let naiveFound = 0;
for (let i = 0; i < Math.max(1, Math.min(runs, 3)); i++) {
  const t = performance.now();
  naiveFound = naiveCheck(held.map((h) => h.view.data));
  naiveTimes.push(performance.now() - t);
}

const backtestTimes: number[] = [];
let backtest: Awaited<ReturnType<typeof container.alerts.backtest>> | undefined;
for (let i = 0; i < (args.quick ? 1 : 2); i++) {
  const t = performance.now();
  backtest = await container.alerts.backtest(
    { from: formatDay(today - backtestDays), to: formatDay(today - 1) },
    RULES,
  );
  backtestTimes.push(performance.now() - t);
}

// The whole check (detection, lifecycle, the alerts stored), the bench's rules stored as data,
// no recipients: a first day opens every alert, the next continues or resolves them and adds the
// stock rules, and the same day again finds nothing to do.
await container.db.migrate();
await container.alertRules.create(RULES.find((r) => r.id === 'store-product-orders')!);
const lifecycle: { label: string; ms: number; changed: number }[] = [];
for (const [label, day] of [
  ['first day (every alert opens)', today - 2],
  ['next day (continue, resolve; stock rules)', today - 1],
  ['the same day again (nothing to do)', today - 1],
] as const) {
  const t = performance.now();
  const answer = await container.alertChecks.check({ date: formatDay(day) });
  lifecycle.push({ label, ms: performance.now() - t, changed: answer.alerts.length });
}
await container.close();
await upstream.stop();

/** Same-weekday median and MAD per (store, product) and per store, the straightforward way. */
function naiveCheck(parts: PartitionData[]): number {
  const byDay = parts.map((p) => {
    const m = new Map<string, number>();
    for (let c = 0; c < p.cellStore.length; c++) {
      const store = p.storeIds[p.cellStore[c]!]!;
      const key = `${store}|${p.productIds[p.cellProduct[c]!]!}`;
      m.set(key, (m.get(key) ?? 0) + p.orders[c]!);
      m.set(store, (m.get(store) ?? 0) + p.orders[c]!);
    }
    return m;
  });
  const last = byDay.length - 1;
  const keys = new Set<string>();
  for (const m of byDay) for (const k of m.keys()) keys.add(k);
  let found = 0;
  for (const key of keys) {
    const values: number[] = [];
    for (let k = 1; k <= 6; k++) values.push(byDay[last - 7 * k]?.get(key) ?? 0);
    values.sort((a, b) => a - b);
    const med = (values[2]! + values[3]!) / 2;
    const dev = values.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
    const spread = Math.max(((dev[2]! + dev[3]!) / 2) * 1.4826, 0.1 * med, 1, Math.sqrt(med));
    if (med >= 3 && Math.abs(((byDay[last]!.get(key) ?? 0) - med) / spread) >= 5) found++;
  }
  return found;
}

// --- 2. accuracy ----------------------------------------------------------------------------------
interface AccRow {
  seed: number;
  recall: number;
  alerts: number;
  trueAlerts: number;
  precision: number;
  falsePerStoreMonth: number;
  zAlerts: number;
  zFalsePerStoreMonth: number;
  zRecall: number;
  backtestMs: number;
}
const accRows: AccRow[] = [];
const SHAPE = { stores: 12, products: 400, days: 730 };
for (let seed = 1; seed <= seeds; seed++) {
  console.log(
    `accuracy: seed ${seed}, ${SHAPE.stores} stores × ${SHAPE.products} products × ${SHAPE.days} days…`,
  );
  const [r] = await measureAccuracy({ seed, ...SHAPE });
  const z = zscoreStoreAlerts(r!);
  accRows.push({
    seed,
    recall: r!.recall,
    alerts: r!.alerts,
    trueAlerts: r!.trueAlerts,
    precision: r!.precision,
    falsePerStoreMonth: r!.falsePerStoreMonth,
    zAlerts: z.alerts,
    zFalsePerStoreMonth: z.falsePerStoreMonth,
    zRecall: z.recall,
    backtestMs: r!.backtestMs,
  });
}

// --- report ---------------------------------------------------------------------------------------
const facts = machineFacts();
console.log(`\nSalesFlow alerts benchmark: ${facts.machine}, Node ${facts.node}, load ${load1()}`);
const version = codeVersion();
if (version) console.log(version);
const c = median(checkTimes);
const n = median(naiveTimes);
const sc = median(sameTimes);
const b = median(backtestTimes);
console.log(
  table([
    ['measure', 'median', 'target', ''],
    [
      `daily check, ${int(series)} series (${RULES.length} rules), warm`,
      `${ms(c)} ms`,
      '≤ 2,000 ms',
      verdict(c <= 2000),
    ],
    ['  the same check, store and store × product receipts only', `${ms(sc)} ms`, '', ''],
    [
      '  baseline: the same, naive per-entity loop (string maps, a sort per median)',
      `${ms(n)} ms`,
      '',
      `×${(n / sc).toFixed(1)} the time`,
    ],
    [`backtest over ${backtestDays} days, same rules`, `${ms(b)} ms`, '≤ 60,000 ms', verdict(b <= 60_000)],
  ]),
);
console.log(
  table([
    ['full check: detection + lifecycle + store (one run each)', 'time', 'alerts changed'],
    ...lifecycle.map((l) => [`  ${l.label}`, `${ms(l.ms)} ms`, int(l.changed)]),
  ]),
);
console.log(
  `check of ${check?.day}: ${check?.candidates.length} candidates; skipped ${JSON.stringify(check?.skipped)}; ` +
    `naive loop found ${naiveFound} (store|product and store orders, score ≥ 5)`,
);
console.log(
  `backtest: ${backtest?.alerts.length} alerts fired over ${backtest?.days.checked} days; skipped ${JSON.stringify(backtest?.skipped)}`,
);
if (accRows.length) {
  const sum = (f: (r: AccRow) => number) => accRows.reduce((s, r) => s + f(r), 0);
  const recall = median(accRows.map((r) => r.recall));
  const fpsm = sum((r) => r.falsePerStoreMonth) / accRows.length;
  console.log(
    '\nAccuracy of the default rules on the generator’s injected anomalies (store drop, product spike;',
  );
  console.log('promotions are expected business: an alert on one is false), 730 days each:');
  console.log(
    table([
      [
        'seed',
        'recall',
        'alerts',
        'true',
        'precision',
        'false/store/month',
        'z-score: alerts',
        'false/store/month',
        'recall',
      ],
      ...accRows.map((r) => [
        String(r.seed),
        r.recall.toFixed(2),
        String(r.alerts),
        String(r.trueAlerts),
        r.precision.toFixed(2),
        r.falsePerStoreMonth.toFixed(3),
        String(r.zAlerts),
        r.zFalsePerStoreMonth.toFixed(2),
        r.zRecall.toFixed(2),
      ]),
    ]),
  );
  console.log(
    table([
      ['accuracy', 'value', 'target', ''],
      ['recall (median over seeds)', recall.toFixed(2), '≥ 0.9', verdict(recall >= 0.9)],
      ['false alerts per store per month (mean)', fpsm.toFixed(3), '≤ 1', verdict(fpsm <= 1)],
      [
        'precision (all seeds)',
        (
          sum((r) => r.trueAlerts) /
          Math.max(
            1,
            sum((r) => r.alerts),
          )
        ).toFixed(2),
        '',
        '',
      ],
    ]),
  );
}
await stopAll();
// Weekday of the check, for the reader comparing with Saturdays.
console.log(`checked day ${formatDay(today - 1)} is weekday ${weekday(today - 1)} (0 = Sunday)`);
