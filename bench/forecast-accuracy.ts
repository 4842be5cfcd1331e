/**
 * npm run bench:forecast-accuracy [-- --data ../shared/forecast-data --origins 4 --days 1461 ...]
 *
 * Forecast accuracy, out of sample, on two sources:
 * 1. the public monthly series in ../shared/forecast-data/ (beside the repository root; --data
 *    overrides): fit on all but the last 12 months, forecast 12, MASE against R's forecast 8.20
 *    (`snaive`, `ets`, `auto.arima`, `thetaf`, from the folder's reference file) and 80 % interval
 *    coverage; then the same 12-month holdout moved back a year at a time (--origins of them), for
 *    a coverage figure on four times the points;
 * 2. the sample upstream's series (total revenue by day, week and month; revenue by region and by
 *    category by month), synced through the analytics engine: rolling origins over the last
 *    --origins horizons, ours against the seasonal naive forecast.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { createContainer } from '../src/container.ts';
import { formatDay, parseDay } from '../src/lib/calendar.ts';
import { bucketize } from '../src/services/forecast/forecast-service.ts';
import { parseBenchArgs } from './lib/args.ts';
import { type HoldoutScore, scoreHoldout } from './lib/forecast-holdout.ts';
import { REPO_ROOT, startDatasetUpstream, stopAll, stopChildrenOnExit } from './lib/processes.ts';
import { benchSqliteFile } from './lib/run-facts.ts';
import { int, median, ms, table } from './lib/stats.ts';

const USAGE = `npm run bench:forecast-accuracy [-- options]
  --data DIR           the public monthly series (default: ../shared/forecast-data beside the repository)
  --origins N          holdouts per series, each one horizon earlier (default 4)
  --stores N --products N --days N --lines-per-day N   the sample upstream's data set
                       (default 20, 200, 1461, 800: four years, so monthly models train on three)
  --quick              the shared series only`;
const args = parseBenchArgs('bench:forecast-accuracy', USAGE, [
  'data',
  'origins',
  'stores',
  'products',
  'days',
  'lines-per-day',
]);
const origins = args.num('origins', 4, 1);
stopChildrenOnExit();

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const fixed = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

// --- 1. the shared public series ---------------------------------------------------------------
const dataArg = typeof args.values.data === 'string' ? args.values.data : '../shared/forecast-data';
const dataDir = isAbsolute(dataArg) ? dataArg : resolve(REPO_ROOT, dataArg);
const referenceFile = join(dataDir, 'reference-r-forecast-8.20.csv');
if (!existsSync(referenceFile)) {
  console.error(
    `bench:forecast-accuracy: ${referenceFile} is missing. The public monthly series live in ` +
      'shared/forecast-data/ beside the repository checkout (../shared/forecast-data from its root); ' +
      'pass --data DIR if they are elsewhere.',
  );
  process.exit(1);
}

function csv(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.split(','));
}

interface Reference {
  series: string;
  snaive: number;
  ets: number;
  arima: number;
  theta: number;
  etsCover: number;
  arimaCover: number;
}
const references: Reference[] = csv(referenceFile).map((r) => ({
  series: r[0]!,
  snaive: Number(r[4]),
  ets: Number(r[5]),
  arima: Number(r[6]),
  theta: Number(r[7]),
  etsCover: Number(r[8]),
  arimaCover: Number(r[9]),
}));

const started = performance.now();
const shared = references.map((ref) => {
  const rows = csv(join(dataDir, `${ref.series}.csv`));
  const values = rows.map((r) => Number(r[1]));
  const phase = Number(rows[0]![0]!.slice(5, 7)) - 1;
  const byOrigin: HoldoutScore[] = [];
  for (let j = 0; j < origins; j++) {
    byOrigin.push(
      scoreHoldout(values, values.length - 12 * (j + 1), 12, { period: 12, phase, model: 'auto' }),
    );
  }
  return { ref, months: values.length, last: byOrigin[0]!, byOrigin };
});
const sharedMs = performance.now() - started;

const inside = (scores: HoldoutScore[]) =>
  scores.reduce((s, x) => s + x.inside80, 0) / scores.reduce((s, x) => s + x.points, 0);
const lastScores = shared.map((s) => s.last);
const ours = median(lastScores.map((s) => s.mase));
const naive = median(lastScores.map((s) => s.naive));
const cover = inside(lastScores);
const rolling = inside(shared.flatMap((s) => s.byOrigin));

console.log('\nShared public series: fit on all but the last 12 months, MASE on those 12 (lower is better)');
console.log(
  table([
    [
      'series',
      'months',
      'ours',
      'model',
      'snaive',
      'R ets',
      'R arima',
      'R theta',
      'ours in 80%',
      'ets in 80%',
      'arima in 80%',
    ],
    ...shared.map(({ ref, months, last }) => [
      ref.series,
      String(months),
      fixed(last.mase),
      last.model,
      fixed(last.naive),
      fixed(ref.ets),
      fixed(ref.arima),
      fixed(ref.theta),
      pct(last.inside80 / last.points),
      pct(ref.etsCover),
      pct(ref.arimaCover),
    ]),
    [
      'median',
      '',
      fixed(ours),
      '',
      fixed(naive),
      fixed(median(references.map((r) => r.ets))),
      fixed(median(references.map((r) => r.arima))),
      fixed(median(references.map((r) => r.theta))),
      pct(cover),
      pct(references.reduce((s, r) => s + r.etsCover, 0) / references.length),
      pct(references.reduce((s, r) => s + r.arimaCover, 0) / references.length),
    ],
  ]),
);
console.log(
  `(our snaive column is computed here; R's snaive median is ${fixed(median(references.map((r) => r.snaive)))}; ` +
    `${shared.length * origins} forecasts in ${ms(sharedMs)} ms)`,
);
if (origins > 1) {
  console.log(`\nThe 12-month holdout moved back 0..${origins - 1} years (median MASE per holdout year):`);
  console.log(
    table([
      ['holdout', 'ours', 'snaive', 'ours / snaive', 'ours in 80%'],
      ...Array.from({ length: origins }, (_, j) => {
        const scores = shared.map((s) => s.byOrigin[j]!);
        const o = median(scores.map((s) => s.mase));
        const n = median(scores.map((s) => s.naive));
        return [
          j === 0 ? 'last 12 months' : `${j} year${j > 1 ? 's' : ''} earlier`,
          fixed(o),
          fixed(n),
          (o / n).toFixed(2),
          pct(inside(scores)),
        ];
      }),
      ['all holdouts', '', '', '', pct(rolling)],
    ]),
  );
}

const verdicts: string[][] = [
  ['shared: our median MASE ≤ R ets (0.599)', fixed(ours), '≤ 0.599', verdict(ours <= 0.599)],
  ['shared: aim, R auto.arima (0.560)', fixed(ours), '≤ 0.560', verdict(ours <= 0.56)],
  [
    'shared: 80 % interval coverage, last 12 months',
    pct(cover),
    '75–85 %',
    verdict(cover >= 0.75 && cover <= 0.85),
  ],
];
if (origins > 1) {
  verdicts.push([
    `shared: 80 % interval coverage, ${origins} holdout years`,
    pct(rolling),
    '75–85 %',
    verdict(rolling >= 0.75 && rolling <= 0.85),
  ]);
}

// --- 2. the sample upstream's series -------------------------------------------------------------
if (!args.quick) {
  const days = args.num('days', 1461, 400);
  const shape = {
    stores: args.num('stores', 20, 1),
    products: args.num('products', 200, 1),
    days,
    linesPerDay: args.num('lines-per-day', 800, 1),
  };
  const endDate = formatDay(Math.floor(Date.now() / 86_400_000) - 1);
  console.log(
    `\nstarting the sample upstream: ${shape.stores} stores, ${shape.products} products, ${days} days, ${shape.linesPerDay} lines/day…`,
  );
  const upstream = await startDatasetUpstream(shape, { seed: 42, endDate, tz: 'Europe/Paris' });
  const today = parseDay(endDate)! + 1;
  const config = loadConfig({
    DATABASE_URL: benchSqliteFile(),
    UPSTREAM_URL: upstream.url,
    API_KEYS: 'bench-key-0001:viewer',
    ANALYTICS_TODAY: formatDay(today),
    UPSTREAM_PAGE_SIZE: '5000',
    PARTITION_MEMORY_MB: '2048',
    CACHE_MAX_MB: '2048',
    LOG_LEVEL: 'silent',
  });
  const container = createContainer(config, pino({ level: 'silent' }));
  const sync = await container.partitions.sync(today - days, today - 1);
  console.log(`synced ${int(sync.lines)} lines in ${ms(sync.ms)} ms`);

  const plans = [
    { name: 'revenue', granularity: 'day', horizon: 28, groupBy: undefined },
    { name: 'revenue', granularity: 'week', horizon: 8, groupBy: undefined },
    { name: 'revenue', granularity: 'month', horizon: 3, groupBy: undefined },
    { name: 'region', granularity: 'month', horizon: 3, groupBy: 'region' },
    { name: 'category', granularity: 'month', horizon: 3, groupBy: 'category' },
  ] as const;
  const rows: {
    series: string;
    mase: number;
    naive: number;
    model: string;
    inside: number;
    points: number;
  }[] = [];
  for (const plan of plans) {
    const daily = await container.salesAnalytics.dailySeries({
      from: today - days,
      to: today - 1,
      filters: {},
      groupBy: plan.groupBy,
      top: 10,
      target: 'revenue',
    });
    for (const s of daily.series) {
      const b = bucketize(daily.days, s.values, plan.granularity);
      const scores: HoldoutScore[] = [];
      for (let j = 0; j < origins; j++) {
        const origin = b.values.length - plan.horizon * (j + 1);
        scores.push(
          scoreHoldout(b.values, origin, plan.horizon, { period: b.period, phase: b.phase, model: 'auto' }),
        );
      }
      const label = plan.groupBy
        ? `${s.labels[plan.groupBy]} (${plan.granularity})`
        : `total (${plan.granularity})`;
      rows.push({
        series: `${plan.name}: ${label}`,
        mase: scores.reduce((a, x) => a + x.mase, 0) / scores.length,
        naive: scores.reduce((a, x) => a + x.naive, 0) / scores.length,
        model: [...new Set(scores.map((x) => x.model))].join('/'),
        inside: scores.reduce((a, x) => a + x.inside80, 0),
        points: scores.reduce((a, x) => a + x.points, 0),
      });
    }
  }
  const upOurs = median(rows.map((r) => r.mase));
  const upNaive = median(rows.map((r) => r.naive));
  const upCover = rows.reduce((a, r) => a + r.inside, 0) / rows.reduce((a, r) => a + r.points, 0);
  console.log(
    `\nSample upstream series: MASE over the last ${origins} horizons, each forecast from the data before it`,
  );
  console.log(
    table([
      ['series', 'ours', 'model(s)', 'snaive', 'ours / snaive', 'ours in 80%'],
      ...rows.map((r) => [
        r.series,
        fixed(r.mase),
        r.model,
        fixed(r.naive),
        (r.mase / r.naive).toFixed(2),
        pct(r.inside / r.points),
      ]),
      ['median', fixed(upOurs), '', fixed(upNaive), (upOurs / upNaive).toFixed(2), pct(upCover)],
    ]),
  );
  verdicts.push([
    'sample upstream: our median MASE ≤ 0.85 × snaive',
    `${(upOurs / upNaive).toFixed(2)} ×`,
    '≤ 0.85 ×',
    verdict(upOurs <= 0.85 * upNaive),
  ]);
  await container.close();
  await upstream.stop();
}

console.log('\nFloors');
console.log(table([['measure', 'value', 'floor', ''], ...verdicts]));
await stopAll();
