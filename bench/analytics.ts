/**
 * The analytics engine end to end: cold sync of the day partitions, warm and cached queries, and a
 * straightforward baseline (fetch the raw lines of the window, group them per request), in embedded
 * and/or redis mode, against the sample upstream running in its own process.
 *
 *   npm run bench:analytics                      # 50 stores, 2,000 products, 730 days, 14,000 lines/day
 *   npm run bench:analytics -- --quick           # a smoke test: 10 stores, 200 products, 120 days
 *   npm run bench:analytics -- --mode embedded --runs 11 --baseline-days 30
 *
 * Each mode runs in a fresh child process of this script (so its peak RSS is its own, not what the
 * previous mode left behind), which builds the container in-process and calls the services directly:
 * this measures the engine, not HTTP. The sample upstream gets the other core.
 */
import { loadavg } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import { createContainer } from '../src/container.ts';
import { formatDay, parseDay, todayIn } from '../src/lib/calendar.ts';
import { type SalesAnswer, SalesQuery } from '../src/models/analytics.ts';
import type { UpstreamSaleLine } from '../src/models/upstream.ts';
import { parseBenchArgs } from './lib/args.ts';
import { memorySampler } from './lib/measure.ts';
import {
  childMain,
  NO_REDIS_SERVER,
  onPath,
  type RedisProcess,
  runInChild,
  startDatasetUpstream,
  startRedisServer,
  stopAll,
  stopChildrenOnExit,
  terminate,
  type UpstreamProcess,
} from './lib/processes.ts';
import { benchSqliteFile, codeVersion, machineFacts, verdict } from './lib/run-facts.ts';
import { int, median, mib, ms, percentile, table } from './lib/stats.ts';

type Mode = 'embedded' | 'redis';

const BUSINESS_TZ = 'Europe/Paris';
const SEED = 42;
const QUERY_WINDOW_DAYS = 365;
const CHILD_ENV = 'SALESFLOW_BENCH_ANALYTICS_CHILD';

const TARGETS = {
  syncLinesPerSecond: 300_000,
  peakRssMib: 1024,
  warmP50Ms: 50,
  cachedMedianMs: 5,
};

/** What the parent tells a mode's child process. */
interface ChildSpec {
  mode: Mode;
  upstreamUrl: string;
  redisUrl?: string;
  /** ANALYTICS_TODAY: the day after the data's last day */
  today: string;
  /** first and last day of the data (the sync range) */
  dataFrom: string;
  dataTo: string;
  /** the warm queries' window, ending on dataTo */
  windowFrom: string;
  runs: number;
  baselineDays: number;
  baselineRuns: number;
}

interface Timings {
  samples: number[];
  median: number;
  p90: number;
}

interface ModeResult {
  mode: Mode;
  sync: {
    days: number;
    fetched: number;
    failed: number;
    /** counted from the partitions held after the sync */
    lines: number;
    ms: number;
    linesPerSecond: number;
    /** what SyncReport said (lines, lines/s), when it differs from the count */
    reported: { lines: number; linesPerSecond: number };
    rssBeforeMib: number;
    peakRssMib: number;
    peakHeapUsedMib: number;
    peakArrayBuffersMib: number;
    rssAfterGcMib: number;
    redisUsedMemoryMib?: number;
    redisKeys?: number;
  };
  queryDays: number;
  firstQueryMs: { store: number; product: number };
  warm: { store: Timings; product: Timings };
  cached: { store: Timings; product: Timings };
  cacheMissesVerified: boolean;
  cacheHitsVerified: boolean;
  baseline: {
    days: number;
    lines: number;
    runs: number;
    fetchMs: number;
    groupMs: number;
    totalMs: number;
    /** totalMs scaled to the query window when the baseline read a smaller one */
    windowEstimateMs: number;
    extrapolated: boolean;
    peakRssMib: number;
    /** the engine's answer over the baseline's window agrees with the baseline, store by store */
    agrees: boolean;
    disagreement?: string;
  };
}

const gc = (globalThis as { gc?: () => void }).gc;

function timings(samples: number[]): Timings {
  return { samples, median: median(samples), p90: percentile(samples, 90) };
}

// ---------------------------------------------------------------------------------------------
// The child: one mode, measured in a fresh process.

function say(mode: Mode, message: string): void {
  console.log(`  [${mode}] ${message}`);
}

async function runChild(spec: ChildSpec): Promise<ModeResult> {
  const { mode } = spec;
  const logger = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;
  const config = loadConfig({
    DATABASE_URL: benchSqliteFile(),
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    UPSTREAM_URL: spec.upstreamUrl,
    API_KEYS: 'bench-viewer-key:viewer',
    REDIS_URL: spec.redisUrl,
    REDIS_KEY_PREFIX: 'bench:',
    BUSINESS_TZ,
    ANALYTICS_TODAY: spec.today,
    PARTITION_MEMORY_MB: '2048',
    CACHE_MAX_MB: '2048',
    UPSTREAM_PAGE_SIZE: '5000',
    UPSTREAM_PAGE_CONCURRENCY: '4',
    SYNC_DAY_CONCURRENCY: '4',
  });
  const container = createContainer(config, logger);
  try {
    const redis = container.redis;
    if (redis && redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`redis at ${spec.redisUrl} is not ready`)), 10_000);
        redis.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }

    // 1. Cold sync of the whole data range.
    const dataFrom = parseDay(spec.dataFrom)!;
    const dataTo = parseDay(spec.dataTo)!;
    say(mode, `cold sync of ${dataTo - dataFrom + 1} days (${spec.dataFrom} .. ${spec.dataTo})...`);
    gc?.();
    const rssBefore = process.memoryUsage().rss;
    const sampler = memorySampler();
    const syncStarted = performance.now();
    const report = await container.partitions.sync(dataFrom, dataTo);
    const syncMs = performance.now() - syncStarted;
    const peak = sampler.stop();
    // Lines counted from the partitions themselves (from memory, no upstream call), not trusted to
    // SyncReport: its own count is checked against this one.
    let lines = 0;
    for (let d = dataFrom; d <= dataTo; d++)
      lines += (await container.partitions.getDay(d)).view.data.lineCount;
    const linesPerSecond = lines / (syncMs / 1000);
    gc?.();
    const rssAfterGc = process.memoryUsage().rss;
    let redisUsedMemoryMib: number | undefined;
    let redisKeys: number | undefined;
    if (redis) {
      const info = await redis.info('memory');
      const used = /used_memory:(\d+)/.exec(info)?.[1];
      redisUsedMemoryMib = used ? mib(Number(used)) : undefined;
      redisKeys = await redis.dbsize();
    }
    say(
      mode,
      `synced ${int(lines)} lines in ${(syncMs / 1000).toFixed(1)} s: ` +
        `${int(linesPerSecond)} lines/s, peak RSS ${int(mib(peak.rss))} MiB` +
        (report.lines !== lines ? ` (SyncReport says ${int(report.lines)} lines)` : '') +
        (report.failed.length
          ? `, ${report.failed.length} days FAILED (first: ${report.failed[0]!.error})`
          : ''),
    );

    // 2. Warm queries over the window (partitions decoded, result not cached: the limit changes the key).
    const query = (groupBy: string, limit: number, extra: Record<string, string> = {}) =>
      SalesQuery.parse({ from: spec.windowFrom, to: spec.dataTo, groupBy, limit, ...extra });
    const timed = async (q: SalesQuery): Promise<{ ms: number; answer: SalesAnswer }> => {
      const started = performance.now();
      const answer = await container.salesAnalytics.sales(q);
      return { ms: performance.now() - started, answer };
    };
    const kinds = { store: { groupBy: 'store', limit: 1000 }, product: { groupBy: 'product', limit: 50 } };
    const first = {
      store: (await timed(query('store', kinds.store.limit - 1))).ms,
      product: (await timed(query('product', kinds.product.limit - 1))).ms,
    };
    say(mode, `first queries after the sync: store ${ms(first.store)} ms, product ${ms(first.product)} ms`);
    let missesVerified = true;
    const warmSamples = { store: [] as number[], product: [] as number[] };
    for (let i = 0; i < spec.runs; i++) {
      for (const kind of ['store', 'product'] as const) {
        const r = await timed(query(kinds[kind].groupBy, kinds[kind].limit + i));
        if (r.answer.meta.cached) missesVerified = false;
        warmSamples[kind].push(r.ms);
      }
    }
    const warm = { store: timings(warmSamples.store), product: timings(warmSamples.product) };
    say(
      mode,
      `warm: store p50 ${ms(warm.store.median)} ms, product p50 ${ms(warm.product.median)} ms ` +
        `(${spec.runs} runs each)`,
    );

    // 3. The same queries again, from the result cache.
    let hitsVerified = true;
    const cachedSamples = { store: [] as number[], product: [] as number[] };
    for (const kind of ['store', 'product'] as const) {
      const q = query(kinds[kind].groupBy, kinds[kind].limit);
      await timed(q);
      for (let i = 0; i < spec.runs; i++) {
        const r = await timed(q);
        if (!r.answer.meta.cached) hitsVerified = false;
        cachedSamples[kind].push(r.ms);
      }
    }
    const cached = { store: timings(cachedSamples.store), product: timings(cachedSamples.product) };
    say(mode, `cached: store ${ms(cached.store.median)} ms, product ${ms(cached.product.median)} ms`);

    // 4. Baseline: the raw lines of the window, fetched and grouped by store per request.
    const windowDays = dataTo - parseDay(spec.windowFrom)! + 1;
    const baselineDays = Math.min(spec.baselineDays, windowDays);
    const baselineFrom = formatDay(dataTo - baselineDays + 1);
    say(mode, `baseline: fetch + group ${baselineDays} days of raw lines, ${spec.baselineRuns} runs...`);
    const fetchSamples: number[] = [];
    const groupSamples: number[] = [];
    let baselineLines = 0;
    let grouped: Map<string, StoreGroup> | undefined;
    gc?.();
    const baselineSampler = memorySampler();
    for (let i = 0; i < spec.baselineRuns; i++) {
      grouped = undefined;
      gc?.();
      const t0 = performance.now();
      let lines: UpstreamSaleLine[] | undefined = await container.upstream.getSales(
        baselineFrom,
        spec.dataTo,
      );
      const t1 = performance.now();
      grouped = groupByStore(lines);
      const t2 = performance.now();
      baselineLines = lines.length;
      lines = undefined;
      fetchSamples.push(t1 - t0);
      groupSamples.push(t2 - t1);
      say(mode, `  baseline run ${i + 1}: fetch ${ms(t1 - t0)} ms + group ${ms(t2 - t1)} ms`);
    }
    const baselinePeak = baselineSampler.stop();
    const totals = fetchSamples.map((f, i) => f + groupSamples[i]!);
    const totalMs = median(totals);

    // The engine over the same window must say the same, store by store.
    const check = await container.salesAnalytics.sales(
      SalesQuery.parse({
        from: baselineFrom,
        to: spec.dataTo,
        groupBy: 'store',
        compare: 'none',
        limit: 5000,
      }),
    );
    const disagreement = grouped ? compareWithBaseline(check, grouped) : 'no baseline run';

    return {
      mode,
      sync: {
        days: report.days,
        fetched: report.fetched,
        failed: report.failed.length,
        lines,
        ms: syncMs,
        linesPerSecond,
        reported: { lines: report.lines, linesPerSecond: report.linesPerSecond },
        rssBeforeMib: mib(rssBefore),
        peakRssMib: mib(peak.rss),
        peakHeapUsedMib: mib(peak.heapUsed),
        peakArrayBuffersMib: mib(peak.arrayBuffers),
        rssAfterGcMib: mib(rssAfterGc),
        redisUsedMemoryMib,
        redisKeys,
      },
      queryDays: windowDays,
      firstQueryMs: first,
      warm,
      cached,
      cacheMissesVerified: missesVerified,
      cacheHitsVerified: hitsVerified,
      baseline: {
        days: baselineDays,
        lines: baselineLines,
        runs: spec.baselineRuns,
        fetchMs: median(fetchSamples),
        groupMs: median(groupSamples),
        totalMs,
        windowEstimateMs: (totalMs * windowDays) / baselineDays,
        extrapolated: baselineDays < windowDays,
        peakRssMib: mib(baselinePeak.rss),
        agrees: disagreement === undefined,
        ...(disagreement ? { disagreement } : {}),
      },
    };
  } finally {
    await container.close();
  }
}

interface StoreGroup {
  revenue: number;
  units: number;
  lines: number;
  orders: Set<string>;
}

/** What a service without partitions would do on every request. */
function groupByStore(lines: readonly UpstreamSaleLine[]): Map<string, StoreGroup> {
  const groups = new Map<string, StoreGroup>();
  for (const line of lines) {
    let g = groups.get(line.storeId);
    if (!g) {
      g = { revenue: 0, units: 0, lines: 0, orders: new Set() };
      groups.set(line.storeId, g);
    }
    g.revenue += line.amount;
    g.units += line.quantity;
    g.lines++;
    g.orders.add(line.orderId);
  }
  return groups;
}

function compareWithBaseline(answer: SalesAnswer, groups: Map<string, StoreGroup>): string | undefined {
  if (answer.rows.length !== groups.size)
    return `${answer.rows.length} stores in the engine's answer, ${groups.size} in the baseline`;
  for (const row of answer.rows) {
    const store = row.keys.store ?? '';
    const g = groups.get(store);
    if (!g) return `store ${store} is missing from the baseline`;
    if (Math.abs(row.revenue - g.revenue) > Math.max(0.05, Math.abs(g.revenue) * 1e-9))
      return `store ${store}: revenue ${row.revenue} vs ${g.revenue.toFixed(2)}`;
    if (Math.abs(row.units - g.units) > 1e-6) return `store ${store}: units ${row.units} vs ${g.units}`;
    if (row.lines !== g.lines) return `store ${store}: lines ${row.lines} vs ${g.lines}`;
    if (row.orders !== g.orders.size) return `store ${store}: orders ${row.orders} vs ${g.orders.size}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The parent: options, the upstream and Redis processes, one child per mode, the report.

const USAGE = `usage: npm run bench:analytics -- [options]
  --stores N          generated stores (default 50)
  --products N        generated products (default 2000)
  --days N            days of data, ending yesterday (default 730)
  --lines-per-day N   average sale lines per day (default 14000)
  --mode M            embedded, redis or both (default both)
  --runs N            measured runs of each query (default 7)
  --baseline-days N   days of raw lines the baseline reads (default: the query window; less is
                      extrapolated linearly to the window, and the output says so). The full
                      365-day window holds ~5.4M line objects: ~3.5 GB RSS; on a small machine
                      use e.g. --baseline-days 30
  --baseline-runs N   baseline runs (default 3)
  --quick             a smoke test: 10 stores, 200 products, 120 days, 3000 lines/day
  --help`;

interface Options {
  stores: number;
  products: number;
  days: number;
  linesPerDay: number;
  modes: Mode[];
  runs: number;
  baselineDays: number | undefined;
  baselineRuns: number;
  quick: boolean;
}

function parseOptions(): Options {
  const { values, quick, num, usageError } = parseBenchArgs('bench:analytics', USAGE, [
    'stores',
    'products',
    'days',
    'lines-per-day',
    'mode',
    'runs',
    'baseline-days',
    'baseline-runs',
  ]);
  const mode = (values.mode as string | undefined) ?? 'both';
  if (!['embedded', 'redis', 'both'].includes(mode)) usageError(`--mode must be embedded, redis or both`);
  return {
    stores: num('stores', quick ? 10 : 50, 1),
    products: num('products', quick ? 200 : 2000, 1),
    days: num('days', quick ? 120 : 730, 1),
    linesPerDay: num('lines-per-day', quick ? 3000 : 14_000, 1),
    modes: mode === 'both' ? ['embedded', 'redis'] : [mode as Mode],
    runs: num('runs', 7, 1),
    baselineDays: values['baseline-days'] === undefined ? undefined : num('baseline-days', 0, 1),
    baselineRuns: num('baseline-runs', 3, 1),
    quick,
  };
}

/** Runs one mode in a fresh process of this script (with --expose-gc); resolves with its result or its failure. */
function runMode(spec: ChildSpec): Promise<ModeResult> {
  return runInChild<ModeResult>(import.meta.url, CHILD_ENV, spec, `${spec.mode} run`, ['--expose-gc']);
}

/** The commit measured, and whether src/ or sample-upstream/ differ from it; undefined without git. */
/** The line count in the upstream's summary ("..., 10,283,113 sale lines over 730 days ..."). */
function upstreamLines(summary: string): number | undefined {
  const m = /([\d,]+) sale lines/.exec(summary);
  return m ? Number(m[1]!.replaceAll(',', '')) : undefined;
}

function report(options: Options, facts: Record<string, string>, results: ModeResult[], crashed: string[]) {
  const header = ['', ...results.map((r) => r.mode), 'target'];
  const row = (label: string, target: string, cell: (r: ModeResult) => string) => [
    label,
    ...results.map(cell),
    target,
  ];
  const first = results[0];
  const queryDays = first?.queryDays ?? 0;
  const rows: string[][] = [
    header,
    row(
      'cold sync: days',
      '',
      (r) => `${int(r.sync.days)}${r.sync.failed ? ` (${r.sync.failed} failed)` : ''}`,
    ),
    row('cold sync: lines', '', (r) => int(r.sync.lines)),
    row('  (lines per SyncReport)', '', (r) => int(r.sync.reported.lines)),
    row('cold sync: seconds', '', (r) => (r.sync.ms / 1000).toFixed(1)),
    row(
      'cold sync: lines/s',
      `≥ ${int(TARGETS.syncLinesPerSecond)}`,
      (r) => `${int(r.sync.linesPerSecond)} ${verdict(r.sync.linesPerSecond >= TARGETS.syncLinesPerSecond)}`,
    ),
    row(
      'cold sync: peak RSS, MiB',
      `< ${int(TARGETS.peakRssMib)}`,
      (r) => `${int(r.sync.peakRssMib)} ${verdict(r.sync.peakRssMib < TARGETS.peakRssMib)}`,
    ),
    row(
      '  (RSS before sync / after, gc)',
      '',
      (r) => `${int(r.sync.rssBeforeMib)} / ${int(r.sync.rssAfterGcMib)}`,
    ),
    row(
      '  (peak heap used / buffers, MiB)',
      '',
      (r) => `${int(r.sync.peakHeapUsedMib)} / ${int(r.sync.peakArrayBuffersMib)}`,
    ),
    row('  (redis used_memory MiB / keys)', '', (r) =>
      r.sync.redisUsedMemoryMib === undefined
        ? '-'
        : `${int(r.sync.redisUsedMemoryMib)} / ${int(r.sync.redisKeys ?? 0)}`,
    ),
    row(
      `first query after sync (store / product), ms`,
      '',
      (r) => `${ms(r.firstQueryMs.store)} / ${ms(r.firstQueryMs.product)}`,
    ),
    row(
      `warm ${queryDays} d groupBy=store: p50, ms`,
      `≤ ${TARGETS.warmP50Ms}`,
      (r) => `${ms(r.warm.store.median)} ${verdict(r.warm.store.median <= TARGETS.warmP50Ms)}`,
    ),
    row('  p90, ms', '', (r) => ms(r.warm.store.p90)),
    row(
      `warm ${queryDays} d groupBy=product limit 50: p50, ms`,
      `≤ ${TARGETS.warmP50Ms}`,
      (r) => `${ms(r.warm.product.median)} ${verdict(r.warm.product.median <= TARGETS.warmP50Ms)}`,
    ),
    row('  p90, ms', '', (r) => ms(r.warm.product.p90)),
    row(
      'cached groupBy=store: median, ms',
      `≤ ${TARGETS.cachedMedianMs}`,
      (r) => `${ms(r.cached.store.median)} ${verdict(r.cached.store.median <= TARGETS.cachedMedianMs)}`,
    ),
    row(
      'cached groupBy=product: median, ms',
      `≤ ${TARGETS.cachedMedianMs}`,
      (r) => `${ms(r.cached.product.median)} ${verdict(r.cached.product.median <= TARGETS.cachedMedianMs)}`,
    ),
    row('baseline: days read / lines', '', (r) => `${r.baseline.days} / ${int(r.baseline.lines)}`),
    row(
      'baseline: fetch + group, median ms',
      '',
      (r) => `${ms(r.baseline.fetchMs)} + ${ms(r.baseline.groupMs)}`,
    ),
    row(`baseline over ${queryDays} d, ms`, '', (r) =>
      r.baseline.extrapolated ? `~${ms(r.baseline.windowEstimateMs)} (extrapolated)` : ms(r.baseline.totalMs),
    ),
    row(
      'baseline / warm groupBy=store',
      '',
      (r) => `${int(r.baseline.windowEstimateMs / r.warm.store.median)}×`,
    ),
    row('baseline: peak RSS, MiB', '', (r) => int(r.baseline.peakRssMib)),
    row('baseline agrees with the engine', '', (r) => (r.baseline.agrees ? 'yes' : 'NO')),
  ];

  console.log('\n== SalesFlow analytics benchmark ==');
  for (const [k, v] of Object.entries(facts)) console.log(`${`${k}:`.padEnd(12)} ${v}`);
  console.log('');
  console.log(table(rows));
  console.log('');
  console.log(
    `Warm = partitions decoded in memory, result cache missed (each run changes the limit); ` +
      `queries use the API's default compare=previous_period, so they read ${queryDays} + ${queryDays} + 6 days. ` +
      `p50 = median, p90 = nearest rank over ${options.runs} runs. ` +
      `Baseline = upstream.getSales over the window + group by store (revenue, units, Set of orders), ` +
      `no comparison period.`,
  );
  const served = upstreamLines(facts.dataset ?? '');
  for (const r of results) {
    if (served !== undefined && r.sync.lines !== served)
      console.log(
        `[${r.mode}] WARNING: ${int(r.sync.lines)} lines synced, the upstream serves ${int(served)}`,
      );
    if (r.sync.reported.lines !== r.sync.lines)
      console.log(
        `[${r.mode}] WARNING: SyncReport says ${int(r.sync.reported.lines)} lines ` +
          `(${int(r.sync.reported.linesPerSecond)} lines/s) for the ${int(r.sync.lines)} lines its partitions hold; ` +
          "the figures above use the partitions' count.",
      );
    if (r.baseline.extrapolated)
      console.log(
        `[${r.mode}] the baseline read ${r.baseline.days} of ${r.queryDays} days; its time is extrapolated linearly.`,
      );
    if (!r.cacheMissesVerified)
      console.log(`[${r.mode}] WARNING: a warm run was answered from the result cache`);
    if (!r.cacheHitsVerified)
      console.log(`[${r.mode}] WARNING: a cached run was not answered from the result cache`);
    if (r.baseline.disagreement)
      console.log(`[${r.mode}] WARNING: baseline disagrees: ${r.baseline.disagreement}`);
  }
  for (const c of crashed) console.log(`CRASHED: ${c}`);
}

async function main(): Promise<number> {
  const options = parseOptions();
  if (options.modes.includes('redis') && !onPath('redis-server')) {
    console.error(`bench:analytics: ${NO_REDIS_SERVER}`);
    return 1;
  }
  let interrupted = false;
  stopChildrenOnExit((signal) => {
    interrupted = true;
    console.error(`\n${signal}: stopping the upstream, Redis and the runs...`);
  });

  const today = todayIn(BUSINESS_TZ);
  const dataTo = today - 1;
  const dataFrom = dataTo - options.days + 1;
  const windowDays = Math.min(QUERY_WINDOW_DAYS, options.days);
  const spec = {
    upstreamUrl: '',
    today: formatDay(today),
    dataFrom: formatDay(dataFrom),
    dataTo: formatDay(dataTo),
    windowFrom: formatDay(dataTo - windowDays + 1),
    runs: options.runs,
    baselineDays: options.baselineDays ?? windowDays,
    baselineRuns: options.baselineRuns,
  };

  const facts: Record<string, string> = {
    ...machineFacts(),
    dataset: `${options.stores} stores, ${options.products} products, ${options.days} days ending ${spec.dataTo}, ~${int(options.linesPerDay)} lines/day, seed ${SEED}${options.quick ? ' (--quick)' : ''}`,
    upstream: 'sample upstream in its own process, pages of 5,000, 4 pages × 4 days in flight',
  };
  const code = codeVersion();
  if (code) facts.code = code;
  // Other work on the machine skews everything; say how busy it was before we started.
  facts.load = `load average ${loadavg()[0]!.toFixed(2)} (1 min) before the run`;
  console.log(`SalesFlow analytics benchmark: ${facts.dataset}`);
  console.log(`${facts.machine}, Node ${process.version}`);

  let upstream: UpstreamProcess | undefined;
  const results: ModeResult[] = [];
  const crashed: string[] = [];
  try {
    upstream = await startDatasetUpstream(options, { seed: SEED, endDate: spec.dataTo, tz: BUSINESS_TZ });
    facts.dataset += ` (${upstream.summary})`;
    console.log(`sample upstream: ${upstream.url}, ${upstream.summary}`);
    for (const mode of options.modes) {
      let redis: RedisProcess | undefined;
      try {
        if (mode === 'redis') redis = await startRedisServer();
        console.log(`\n${mode} mode${redis ? ` (private redis-server at ${redis.url})` : ''}:`);
        results.push(await runMode({ ...spec, mode, upstreamUrl: upstream.url, redisUrl: redis?.url }));
      } catch (err) {
        if (interrupted) break;
        crashed.push(`${mode}: ${(err as Error).message}`);
        console.error(`${mode} mode failed: ${(err as Error).stack ?? err}`);
      } finally {
        await redis?.stop();
      }
    }
  } finally {
    if (upstream) await terminate(upstream.child);
    await stopAll();
  }
  if (interrupted) return 130;
  facts.load += `, ${loadavg()[0]!.toFixed(2)} after`;
  report(options, facts, results, crashed);
  return crashed.length > 0 || results.length === 0 ? 1 : 0;
}

if (process.env[CHILD_ENV]) {
  // A mode's run: report to the parent over IPC; die with it.
  await childMain(CHILD_ENV, runChild);
} else {
  process.exitCode = await main();
}
