/**
 * Reports end to end, against the sample upstream running in its own process:
 *
 * 1. The daily report for yesterday from warm partitions: `builders.build({ type: 'daily' })` then
 *    `renderPdf(doc)`, the first time after the sync and then warm (the analytics result cache answers
 *    the report's queries); as a reference, warm partitions with the result cache emptied before each
 *    run (what the first request of the day pays); and `renderXlsx(doc)` for the same document.
 * 2. The raw sales lines of a window holding at least 1M lines, streamed page by page from the
 *    upstream into an XLSX file (`writeSalesLinesXlsx`) and into a CSV file, against the baseline of
 *    fetching and parsing the same pages without writing them. Each run of each kind is a fresh child
 *    process of this script, so its peak RSS is its own.
 *
 *   npm run bench:reports                    # 50 stores, 2,000 products, 730 days, 14,000 lines/day
 *   npm run bench:reports -- --quick         # a smoke test: 10 stores, 200 products, 120 days
 *   npm run bench:reports -- --runs 11 --export-runs 5
 *
 * The services are called directly (no HTTP, no job queue).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import type { UpstreamClient } from '../src/clients/upstream-client.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { createContainer } from '../src/container.ts';
import { dayStartUtc, formatDay, parseDay, todayIn } from '../src/lib/calendar.ts';
import type { SalesQuery } from '../src/models/analytics.ts';
import { catalogSnapshotFactory } from '../src/services/analytics/catalog-snapshot.ts';
import { salesLineLabels } from '../src/services/reports/report-service.ts';
import type { ReportDocument } from '../src/services/reports/report-types.ts';
import { writeSalesLinesCsv, writeSalesLinesXlsx } from '../src/services/reports/xlsx/sales-lines.ts';
import { parseBenchArgs } from './lib/args.ts';
import { memorySampler, processCpuSeconds, threadCpu } from './lib/measure.ts';
import {
  childMain,
  runInChild,
  startDatasetUpstream,
  stopAll,
  stopChildrenOnExit,
  terminate,
  type UpstreamProcess,
} from './lib/processes.ts';
import { benchSqliteFile, codeVersion, load1, machineFacts, verdict } from './lib/run-facts.ts';
import { int, median, ms, percentile, table } from './lib/stats.ts';

const BUSINESS_TZ = 'Europe/Paris';
const SEED = 42;
const CHILD_ENV = 'SALESFLOW_BENCH_REPORTS_CHILD';
/** the days the daily report reads: its day, the 30-day chart and its 7-day lead-in, 4 weeks back */
const DAILY_READS_DAYS = 36;
const MB = 1e6;

const TARGETS = {
  dailyMs: 1_000,
  exportRowsPerSecond: 100_000,
  exportPeakRssMb: 300,
};

type ExportKind = 'fetch' | 'xlsx' | 'csv';
const EXPORT_KINDS: readonly ExportKind[] = ['fetch', 'xlsx', 'csv'];
const KIND_LABEL: Record<ExportKind, string> = {
  fetch: 'fetch + parse only (baseline)',
  xlsx: 'XLSX (writeSalesLinesXlsx)',
  csv: 'CSV (writeSalesLinesCsv)',
};

const silentLogger = () => pino({ level: 'silent' }) as unknown as FastifyBaseLogger;

function benchConfig(upstreamUrl: string, today: string, pageSize: number | undefined): Config {
  return loadConfig({
    DATABASE_URL: benchSqliteFile(),
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    UPSTREAM_URL: upstreamUrl,
    API_KEYS: 'bench-viewer-key:viewer',
    BUSINESS_TZ,
    ANALYTICS_TODAY: today,
    // The last LATE_DATA_DAYS days are re-read after this TTL (300 s by default): long enough here
    // that no partition of the report expires during the timed runs (checked on the upstream's counters).
    LATE_DATA_TTL_SECONDS: '3600',
    ...(pageSize === undefined ? {} : { UPSTREAM_PAGE_SIZE: String(pageSize) }),
  });
}

/** The upstream's request counters (its admin route is neither counted nor delayed). */
async function upstreamRequests(url: string): Promise<Record<string, number>> {
  const res = await fetch(`${url}/__admin/stats`);
  const stats = (await res.json()) as { requests: Record<string, number> };
  return stats.requests;
}

function requestDelta(before: Record<string, number>, after: Record<string, number>): string {
  const parts = Object.entries(after)
    .map(([route, n]) => [route, n - (before[route] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([route, n]) => `${n} × ${route}`);
  return parts.length ? parts.join(', ') : 'none';
}

// ---------------------------------------------------------------------------------------------
// Part 1: the daily report, in this process.

interface DailyRun {
  buildMs: number;
  pdfMs: number;
  xlsxMs: number;
  /** analytics queries the build made, and how many the result cache answered */
  queries: number;
  cachedQueries: number;
  pdfBytes: number;
  xlsxBytes: number;
  pdfSha: string;
  pages: number;
}

interface DailyResult {
  reportDate: string;
  sync: { from: string; to: string; days: number; lines: number; ms: number; failed: number };
  first: DailyRun;
  hit: DailyRun[];
  miss: DailyRun[];
  /** chartSvg for the document's charts, measured apart from renderPdf */
  chartsMs: number[];
  sections: string;
  upstreamDuringFirst: string;
  upstreamDuringWarm: string;
  pdfIdentical: boolean;
  /** the window of part 2 */
  exportWindow: { from: string; to: string; days: number; lines: number };
}

function totals(runs: DailyRun[]): number[] {
  return runs.map((r) => r.buildMs + r.pdfMs);
}

/** Pages of a PDF written by pdfkit (page objects are plain dictionaries). */
function pdfPages(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type \/Page\b(?!s)/g)?.length ?? 0;
}

async function countLines(upstream: UpstreamClient, from: number, to: number): Promise<number> {
  for await (const page of upstream.salesPages(formatDay(from), formatDay(to))) return page.totalElements;
  return 0;
}

/** The shortest window ending `to` (within the data) holding at least `target` lines. */
async function exportWindow(
  upstream: UpstreamClient,
  dataFrom: number,
  to: number,
  target: number,
  linesPerDay: number,
): Promise<DailyResult['exportWindow']> {
  const available = to - dataFrom + 1;
  let days = Math.min(available, Math.max(1, Math.ceil(target / linesPerDay)));
  let lines = await countLines(upstream, to - days + 1, to);
  // grow by the days still missing at the window's own rate, then trim back while it stays ≥ target
  while (lines < target && days < available) {
    const perDay = Math.max(1, lines / days);
    days = Math.min(available, days + Math.max(1, Math.ceil((target - lines) / perDay)));
    lines = await countLines(upstream, to - days + 1, to);
  }
  while (days > 1) {
    const fewer = await countLines(upstream, to - days + 2, to);
    if (fewer < target) break;
    days--;
    lines = fewer;
  }
  return { from: formatDay(to - days + 1), to: formatDay(to), days, lines };
}

async function runDaily(upstreamUrl: string, options: Options, spec: DaySpec): Promise<DailyResult> {
  // Imported here, not at the top: the export children (part 2) must not load pdfmake, Vega and
  // exceljs, which would count in their RSS.
  const { renderPdf } = await import('../src/services/reports/pdf/pdf-renderer.ts');
  const { chartSvg } = await import('../src/services/reports/pdf/chart-svg.ts');
  const { FONT } = await import('../src/services/reports/pdf/fonts.ts');
  const { reportBuildersFactory } = await import('../src/services/reports/report-builders.ts');
  const { renderXlsx } = await import('../src/services/reports/xlsx/xlsx-renderer.ts');
  const config = benchConfig(upstreamUrl, spec.today, options.pageSize);
  const container = createContainer(config, silentLogger());
  try {
    const dataTo = parseDay(spec.dataTo)!;
    const syncFrom = dataTo - options.syncDays + 1;
    console.log(`  sync of the last ${options.syncDays} days (${formatDay(syncFrom)} .. ${spec.dataTo})...`);
    const syncStarted = performance.now();
    const sync = await container.partitions.sync(syncFrom, dataTo);
    const syncMs = performance.now() - syncStarted;
    console.log(
      `  synced ${int(sync.lines)} lines in ${ms(syncMs)} ms` +
        (sync.failed.length ? `, ${sync.failed.length} days FAILED (first: ${sync.failed[0]!.error})` : ''),
    );

    // The container's own builders are not exposed: the same wiring, with the analytics service
    // wrapped to see which of the report's queries the result cache answered.
    const seen = { queries: 0, cached: 0 };
    const builders = reportBuildersFactory({
      sales: {
        async sales(q: SalesQuery) {
          const answer = await container.salesAnalytics.sales(q);
          seen.queries++;
          if (answer.meta.cached) seen.cached++;
          return answer;
        },
      },
      stock: container.stockAnalytics,
      today: container.partitions.today,
      display: config.display,
    });

    let doc: ReportDocument | undefined;
    const run = async (): Promise<DailyRun> => {
      seen.queries = 0;
      seen.cached = 0;
      const t0 = performance.now();
      doc = await builders.build({ type: 'daily' });
      const t1 = performance.now();
      const pdf = await renderPdf(doc);
      const t2 = performance.now();
      const xlsx = await renderXlsx(doc);
      const t3 = performance.now();
      return {
        buildMs: t1 - t0,
        pdfMs: t2 - t1,
        xlsxMs: t3 - t2,
        queries: seen.queries,
        cachedQueries: seen.cached,
        pdfBytes: pdf.length,
        xlsxBytes: xlsx.length,
        pdfSha: createHash('sha256').update(pdf).digest('hex'),
        pages: pdfPages(pdf),
      };
    };
    const show = (label: string, r: DailyRun) =>
      console.log(
        `  ${label}: build ${ms(r.buildMs)} ms (${r.cachedQueries}/${r.queries} queries from the result cache)` +
          ` + PDF ${ms(r.pdfMs)} ms = ${ms(r.buildMs + r.pdfMs)} ms; XLSX ${ms(r.xlsxMs)} ms`,
      );

    const beforeFirst = await upstreamRequests(upstreamUrl);
    const first = await run();
    const afterFirst = await upstreamRequests(upstreamUrl);
    show('first after the sync', first);

    // Warm runs: result cache hit (nothing varies), interleaved with runs where the analytics
    // result cache is emptied first (partitions stay decoded in memory).
    const hit: DailyRun[] = [];
    const miss: DailyRun[] = [];
    for (let i = 0; i < options.runs; i++) {
      hit.push(await run());
      await container.cache.deleteByPrefix('analytics:');
      miss.push(await run());
    }
    const afterWarm = await upstreamRequests(upstreamUrl);
    show(`warm, result cache hit, median of ${options.runs}`, medianRun(hit));
    show(`warm, result cache emptied, median of ${options.runs}`, medianRun(miss));

    // Where a PDF render goes: the charts (Vega → SVG) measured apart, at the portrait width.
    const charts = doc!.sections.filter((s) => s.kind === 'chart');
    const chartsMs: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const t0 = performance.now();
      for (const c of charts)
        await chartSvg(c, { font: FONT, width: 515, height: c.chart === 'line' ? 190 : 220 });
      chartsMs.push(performance.now() - t0);
    }

    const tableRows = doc!.sections
      .filter((s) => s.kind === 'table')
      .map((s) => (s.kind === 'table' ? s.rows.length : 0));
    const shas = new Set([first, ...hit, ...miss].map((r) => r.pdfSha));

    console.log('  finding the export window...');
    const window = await exportWindow(
      container.upstream,
      parseDay(spec.dataFrom)!,
      dataTo,
      options.exportLines,
      options.linesPerDay,
    );
    return {
      reportDate: spec.dataTo,
      sync: {
        from: formatDay(syncFrom),
        to: spec.dataTo,
        days: sync.days,
        lines: sync.lines,
        ms: syncMs,
        failed: sync.failed.length,
      },
      first,
      hit,
      miss,
      chartsMs,
      sections: `${doc!.sections.length} sections: ${charts.length} charts, ${tableRows.length} tables (${tableRows.join(', ')} rows), ${doc!.sections.length - charts.length - tableRows.length} KPI block`,
      upstreamDuringFirst: requestDelta(beforeFirst, afterFirst),
      upstreamDuringWarm: requestDelta(afterFirst, afterWarm),
      pdfIdentical: shas.size === 1,
      exportWindow: window,
    };
  } finally {
    await container.close();
  }
}

function medianRun(runs: DailyRun[]): DailyRun {
  const m = (f: (r: DailyRun) => number) => median(runs.map(f));
  return {
    buildMs: m((r) => r.buildMs),
    pdfMs: m((r) => r.pdfMs),
    xlsxMs: m((r) => r.xlsxMs),
    queries: m((r) => r.queries),
    cachedQueries: m((r) => r.cachedQueries),
    pdfBytes: m((r) => r.pdfBytes),
    xlsxBytes: m((r) => r.xlsxBytes),
    pdfSha: '',
    pages: m((r) => r.pages),
  };
}

// ---------------------------------------------------------------------------------------------
// Part 2: one export run, in a fresh child process of this script.

interface ExportSpec {
  kind: ExportKind;
  upstreamUrl: string;
  /** to read the upstream's CPU time around the timed section */
  upstreamPid: number | undefined;
  today: string;
  from: string;
  to: string;
  pageSize: number | undefined;
}

interface ExportResult {
  kind: ExportKind;
  rows: number;
  ms: number;
  bytes: number;
  catalogMs: number;
  rssBeforeMb: number;
  /** sampled every 100 ms during the run */
  peakRssMb: number;
  /** the kernel's high-water mark over the child's whole life */
  maxRssMb: number;
  peakHeapUsedMb: number;
  peakArrayBuffersMb: number;
  /** CPU seconds during the run: this process's main thread, its other threads, the upstream */
  cpu?: { main: number; others: Record<string, number> };
  upstreamCpuS?: number;
}

async function runExport(spec: ExportSpec): Promise<ExportResult> {
  const config = benchConfig(spec.upstreamUrl, spec.today, spec.pageSize);
  const container = createContainer(config, silentLogger());
  const file = join(tmpdir(), `salesflow-bench-reports-${process.pid}.${spec.kind}`);
  process.once('exit', () => rmSync(file, { force: true }));
  try {
    // The labels as report-service makes them, from a catalog snapshot wired as in the container.
    const catalogStarted = performance.now();
    const snapshot = (
      await catalogSnapshotFactory({
        catalog: container.catalog,
        stores: container.partitions.stores,
        products: container.partitions.products,
      }).attributes()
    ).snapshot;
    const catalogMs = performance.now() - catalogStarted;
    const tz = config.businessTz;
    const labels = salesLineLabels(snapshot, tz);
    // report-service's pages(): without filters, each page still goes through its filter (a copy).
    async function* pages() {
      for await (const page of container.upstream.salesPages(spec.from, spec.to)) {
        yield page.content.filter(() => true);
      }
    }
    const meta = {
      title: 'Sales lines',
      from: spec.from,
      to: spec.to,
      producedAt: new Date(dayStartUtc(parseDay(spec.to)! + 1, tz)).toISOString(),
      businessTz: tz,
    };

    const cpuBefore = await threadCpu();
    const upstreamBefore = spec.upstreamPid ? await processCpuSeconds(spec.upstreamPid) : undefined;
    const rssBefore = process.memoryUsage().rss;
    const sampler = memorySampler(100);
    const started = performance.now();
    let rows = 0;
    if (spec.kind === 'fetch') {
      for await (const page of pages()) rows += page.length;
    } else {
      const out = createWriteStream(file);
      try {
        rows = (
          spec.kind === 'xlsx'
            ? await writeSalesLinesXlsx(pages(), labels, out, meta)
            : await writeSalesLinesCsv(pages(), labels, out)
        ).rows;
      } catch (err) {
        out.destroy();
        throw err;
      }
    }
    const elapsed = performance.now() - started;
    const peak = sampler.stop();
    const cpuAfter = await threadCpu();
    const upstreamAfter = spec.upstreamPid ? await processCpuSeconds(spec.upstreamPid) : undefined;
    const bytes = spec.kind === 'fetch' ? 0 : (await stat(file)).size;
    await rm(file, { force: true });

    let cpu: ExportResult['cpu'];
    if (cpuBefore && cpuAfter) {
      const others: Record<string, number> = {};
      for (const [name, s] of cpuAfter.others) {
        const d = s - (cpuBefore.others.get(name) ?? 0);
        if (d >= 0.01) others[name] = d;
      }
      cpu = { main: cpuAfter.main - cpuBefore.main, others };
    }
    return {
      kind: spec.kind,
      rows,
      ms: elapsed,
      bytes,
      catalogMs,
      rssBeforeMb: rssBefore / MB,
      peakRssMb: peak.rss / MB,
      maxRssMb: (process.resourceUsage().maxRSS * 1024) / MB,
      peakHeapUsedMb: peak.heapUsed / MB,
      peakArrayBuffersMb: peak.arrayBuffers / MB,
      ...(cpu ? { cpu } : {}),
      ...(upstreamBefore !== undefined && upstreamAfter !== undefined
        ? { upstreamCpuS: upstreamAfter - upstreamBefore }
        : {}),
    };
  } finally {
    await container.close();
  }
}

/** Runs one export in a fresh process of this script; resolves with its result or its failure. */
function runExportChild(spec: ExportSpec): Promise<ExportResult> {
  return runInChild<ExportResult>(import.meta.url, CHILD_ENV, spec, `${spec.kind} export`);
}

// ---------------------------------------------------------------------------------------------
// The parent: options, the upstream, part 1 here, part 2 in children, the report.

const USAGE = `usage: npm run bench:reports -- [options]
  --stores N          generated stores (default 50)
  --products N        generated products (default 2000)
  --days N            days of data, ending yesterday (default 730)
  --lines-per-day N   average sale lines per day (default 14000)
  --runs N            warm runs of the daily report (default 7)
  --sync-days N       days synced before the daily report, ending yesterday (default 40; it reads ${DAILY_READS_DAYS})
  --export-lines N    the export window holds at least this many lines (default 1000000)
  --export-runs N     runs of each export kind, each in a fresh process (default 3)
  --page-size N       UPSTREAM_PAGE_SIZE (default: the service's default)
  --quick             a smoke test: 10 stores, 200 products, 120 days, 3000 lines/day,
                      3 runs, 1 export run of 100000 lines
  --help`;

interface Options {
  stores: number;
  products: number;
  days: number;
  linesPerDay: number;
  runs: number;
  syncDays: number;
  exportLines: number;
  exportRuns: number;
  pageSize: number | undefined;
  quick: boolean;
}

interface DaySpec {
  /** ANALYTICS_TODAY: the day after the data's last day */
  today: string;
  dataFrom: string;
  dataTo: string;
}

function parseOptions(): Options {
  const { values, quick, num, usageError } = parseBenchArgs('bench:reports', USAGE, [
    'stores',
    'products',
    'days',
    'lines-per-day',
    'runs',
    'sync-days',
    'export-lines',
    'export-runs',
    'page-size',
  ]);
  const days = num('days', quick ? 120 : 730, 1);
  const syncDays = num('sync-days', 40, 1);
  if (syncDays > days) usageError(`--sync-days (${syncDays}) is more than --days (${days})`);
  return {
    stores: num('stores', quick ? 10 : 50, 1),
    products: num('products', quick ? 200 : 2000, 1),
    days,
    linesPerDay: num('lines-per-day', quick ? 3000 : 14_000, 1),
    runs: num('runs', quick ? 3 : 7, 1),
    syncDays,
    exportLines: num('export-lines', quick ? 100_000 : 1_000_000, 1),
    exportRuns: num('export-runs', quick ? 1 : 3, 1),
    pageSize: values['page-size'] === undefined ? undefined : num('page-size', 0, 1),
    quick,
  };
}

/** The commit measured, and whether src/ or sample-upstream/ differ from it; undefined without git. */
interface ExportSummary {
  runs: ExportResult[];
  rows: number;
  /** median seconds and the rows/s they give */
  seconds: number;
  rowsPerSecond: number;
  medianPeakRssMb: number;
  maxPeakRssMb: number;
  maxKernelRssMb: number;
  bytes: number;
  cpuMain: number;
  cpuOthers: [string, number][];
  upstreamCpuS: number | undefined;
}

function summarise(runs: ExportResult[]): ExportSummary | undefined {
  if (runs.length === 0) return undefined;
  const seconds = median(runs.map((r) => r.ms)) / 1000;
  const rows = runs[0]!.rows;
  const others = new Map<string, number[]>();
  for (const r of runs)
    for (const [name, s] of Object.entries(r.cpu?.others ?? {}))
      others.set(name, [...(others.get(name) ?? []), s]);
  const upstream = runs.map((r) => r.upstreamCpuS).filter((s): s is number => s !== undefined);
  return {
    runs,
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    medianPeakRssMb: median(runs.map((r) => r.peakRssMb)),
    maxPeakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
    maxKernelRssMb: Math.max(...runs.map((r) => r.maxRssMb)),
    bytes: median(runs.map((r) => r.bytes)),
    cpuMain: median(runs.map((r) => r.cpu?.main ?? Number.NaN)),
    cpuOthers: [...others]
      .map(([name, s]) => [name, median(s)] as [string, number])
      .sort((a, b) => b[1] - a[1]),
    upstreamCpuS: upstream.length ? median(upstream) : undefined,
  };
}

function report(
  options: Options,
  facts: Record<string, string>,
  daily: DailyResult | undefined,
  exports: Record<ExportKind, ExportResult[]>,
  problems: string[],
): void {
  const rows: string[][] = [['', 'value', 'target', '']];
  const fact = (label: string, value: string) => rows.push([label, value, '', '']);
  const figure = (label: string, value: string, target = '', ok?: boolean) =>
    rows.push([label, value, target, ok === undefined ? '' : verdict(ok)]);
  fact('cores', String(availableParallelism()));
  fact('node', process.version);
  fact('dataset', facts.datasetShort ?? '');
  fact('load average (1 min), before / after', `${facts.loadBefore} / ${facts.loadAfter}`);

  if (daily) {
    const d = daily;
    const hitTotals = totals(d.hit);
    const missTotals = totals(d.miss);
    const firstTotal = d.first.buildMs + d.first.pdfMs;
    const target = `≤ ${int(TARGETS.dailyMs)}`;
    fact(`1. daily report for ${d.reportDate}`, d.sections.split(':')[0] ?? '');
    fact('   sync before it: days / lines / ms', `${d.sync.days} / ${int(d.sync.lines)} / ${ms(d.sync.ms)}`);
    figure('   first after sync: build + PDF, ms', ms(firstTotal), target, firstTotal <= TARGETS.dailyMs);
    fact('     build / PDF, ms', `${ms(d.first.buildMs)} / ${ms(d.first.pdfMs)}`);
    figure(
      `   warm (result cache hit): build + PDF p50, ms`,
      ms(median(hitTotals)),
      target,
      median(hitTotals) <= TARGETS.dailyMs,
    );
    figure(
      '     p90, ms',
      ms(percentile(hitTotals, 90)),
      target,
      percentile(hitTotals, 90) <= TARGETS.dailyMs,
    );
    fact(
      '     build p50 / PDF p50, ms',
      `${ms(median(d.hit.map((r) => r.buildMs)))} / ${ms(median(d.hit.map((r) => r.pdfMs)))}`,
    );
    figure(
      '   warm partitions, result cache emptied: p50, ms',
      ms(median(missTotals)),
      target,
      median(missTotals) <= TARGETS.dailyMs,
    );
    fact('     p90, ms', ms(percentile(missTotals, 90)));
    fact(
      '     build p50 / PDF p50, ms',
      `${ms(median(d.miss.map((r) => r.buildMs)))} / ${ms(median(d.miss.map((r) => r.pdfMs)))}`,
    );
    fact('   of a PDF: charts → SVG (Vega), p50, ms', ms(median(d.chartsMs)));
    fact('   PDF: bytes / pages', `${int(d.first.pdfBytes)} / ${d.first.pages}`);
    fact('   PDF bytes identical across renders', d.pdfIdentical ? 'yes' : 'NO');
    const xlsx = [...d.hit, ...d.miss].map((r) => r.xlsxMs);
    fact(
      '   renderXlsx: first / p50 / p90, ms',
      `${ms(d.first.xlsxMs)} / ${ms(median(xlsx))} / ${ms(percentile(xlsx, 90))}`,
    );
    fact('   XLSX bytes', int(d.first.xlsxBytes));
  }

  const fetch = summarise(exports.fetch);
  if (daily) {
    const w = daily.exportWindow;
    fact(`2. export of ${w.from} .. ${w.to}`, `${w.days} days, ${int(w.lines)} lines`);
  }
  for (const kind of EXPORT_KINDS) {
    const s = summarise(exports[kind]);
    if (!s) {
      fact(`   ${KIND_LABEL[kind]}`, 'no result');
      continue;
    }
    const writer = kind !== 'fetch';
    figure(
      `   ${KIND_LABEL[kind]}: rows/s`,
      int(s.rowsPerSecond),
      writer ? `≥ ${int(TARGETS.exportRowsPerSecond)}` : '',
      writer ? s.rowsPerSecond >= TARGETS.exportRowsPerSecond : undefined,
    );
    fact('     seconds (median)', s.seconds.toFixed(2));
    if (writer && fetch) fact('     time / baseline time', `${(s.seconds / fetch.seconds).toFixed(2)}×`);
    figure(
      '     peak RSS (sampled), MB: worst run',
      int(s.maxPeakRssMb),
      writer ? `< ${int(TARGETS.exportPeakRssMb)}` : '',
      writer ? s.maxPeakRssMb < TARGETS.exportPeakRssMb : undefined,
    );
    fact(
      '     RSS before / kernel maxRSS, MB',
      `${int(median(s.runs.map((r) => r.rssBeforeMb)))} / ${int(s.maxKernelRssMb)}`,
    );
    fact(
      '     peak heap used / array buffers, MB',
      `${int(Math.max(...s.runs.map((r) => r.peakHeapUsedMb)))} / ${int(Math.max(...s.runs.map((r) => r.peakArrayBuffersMb)))}`,
    );
    if (writer) fact('     file, MB', (s.bytes / MB).toFixed(1));
    const others = s.cpuOthers
      .filter(([, sec]) => sec >= 0.05)
      .map(([name, sec]) => `${name} ${sec.toFixed(1)}`)
      .join(', ');
    fact(
      '     CPU s: main / other threads / upstream',
      `${s.cpuMain.toFixed(1)} / ${others || '-'} / ${s.upstreamCpuS === undefined ? '-' : s.upstreamCpuS.toFixed(1)}`,
    );
  }

  console.log('\n== SalesFlow reports benchmark ==');
  for (const key of ['machine', 'node', 'dataset', 'upstream', 'code', 'load']) {
    if (facts[key]) console.log(`${`${key}:`.padEnd(10)} ${facts[key]}`);
  }
  console.log('');
  console.log(table(rows));
  console.log('');
  if (daily) {
    console.log(
      `Daily report: builders.build({ type: 'daily' }) for yesterday (7 analytics queries) + renderPdf(doc), ` +
        `in this process, partitions of the last ${options.syncDays} days synced and decoded first. ` +
        `"First after sync" computes every query and renders the first PDF of the process. ` +
        `"Warm" repeats the same request unchanged: its queries are answered by the analytics result cache, ` +
        `which is part of the warm path (${medianRun(daily.hit).cachedQueries}/${medianRun(daily.hit).queries} per run). ` +
        `"Result cache emptied": the same with the cache's analytics: keys deleted before each run, partitions ` +
        `still in memory (${medianRun(daily.miss).cachedQueries}/${medianRun(daily.miss).queries} from the cache). ` +
        `p50 = median, p90 = nearest rank over ${options.runs} runs each, interleaved (under 10 runs, p90 is the slowest). ` +
        `The document: ${daily.sections}. ` +
        `renderXlsx is timed on the same documents, apart from the end-to-end figure. ` +
        `Charts → SVG: chartSvg on the document's charts, measured apart from renderPdf. ` +
        `Upstream requests during the first run: ${daily.upstreamDuringFirst}; during the warm runs: ${daily.upstreamDuringWarm}.`,
    );
  }
  console.log(
    `Export: the window's pages read with container.upstream.salesPages (the service's page size and ` +
      `concurrency unless --page-size), labels from a catalog snapshot as report-service makes them, ` +
      `written to a temporary file, then deleted. Each of ${options.exportRuns} run(s) of each kind is a fresh ` +
      `child process (kinds interleaved); rows/s = rows / median seconds. The baseline fetches and parses the ` +
      `same pages and only counts them. Peak RSS is sampled every 100 ms during the run and judged on the worst ` +
      `run; kernel maxRSS covers the child's whole life. MB = 10^6 bytes. CPU s: the child's main thread, its ` +
      `other threads by name ("node": libuv's pool, where zlib deflates, and V8's helpers), the upstream process.`,
  );
  for (const p of problems) console.log(`WARNING: ${p}`);
}

async function main(): Promise<number> {
  const options = parseOptions();
  let interrupted = false;
  stopChildrenOnExit((signal) => {
    interrupted = true;
    console.error(`\n${signal}: stopping the upstream and the runs...`);
  });

  const today = todayIn(BUSINESS_TZ);
  const dataTo = today - 1;
  const dataFrom = dataTo - options.days + 1;
  const spec: DaySpec = { today: formatDay(today), dataFrom: formatDay(dataFrom), dataTo: formatDay(dataTo) };

  const facts: Record<string, string> = {
    ...machineFacts(),
    dataset: `${options.stores} stores, ${options.products} products, ${options.days} days ending ${spec.dataTo}, ~${int(options.linesPerDay)} lines/day, seed ${SEED}${options.quick ? ' (--quick)' : ''}`,
    datasetShort: `${options.stores} stores, ${int(options.products)} products, ${options.days} d × ~${int(options.linesPerDay)} lines`,
    upstream: `sample upstream in its own process, pages of ${int(options.pageSize ?? 2000)}, 4 in flight`,
    loadBefore: load1(),
  };
  const code = codeVersion();
  if (code) facts.code = code;
  console.log(`SalesFlow reports benchmark: ${facts.dataset}`);
  console.log(`${facts.machine}, Node ${process.version}, load average ${facts.loadBefore}`);

  let upstream: UpstreamProcess | undefined;
  let daily: DailyResult | undefined;
  const exports: Record<ExportKind, ExportResult[]> = { fetch: [], xlsx: [], csv: [] };
  const problems: string[] = [];
  try {
    upstream = await startDatasetUpstream(options, { seed: SEED, endDate: spec.dataTo, tz: BUSINESS_TZ });
    facts.dataset += ` (${upstream.summary})`;
    console.log(`sample upstream: ${upstream.summary}`);

    console.log('\n1. daily report, in this process:');
    daily = await runDaily(upstream.url, options, spec);
    const w = daily.exportWindow;
    if (w.lines < options.exportLines)
      problems.push(
        `the whole dataset holds ${int(w.lines)} lines, fewer than --export-lines ${int(options.exportLines)}`,
      );

    console.log(
      `\n2. export of ${w.from} .. ${w.to} (${w.days} days, ${int(w.lines)} lines), a child per run:`,
    );
    for (let run = 0; run < options.exportRuns && !interrupted; run++) {
      // rotate the order, so no kind always runs first after a pause
      const kinds = EXPORT_KINDS.map((_, i) => EXPORT_KINDS[(i + run) % EXPORT_KINDS.length]!);
      for (const kind of kinds) {
        if (interrupted) break;
        try {
          const r = await runExportChild({
            kind,
            upstreamUrl: upstream.url,
            upstreamPid: upstream.child.pid,
            today: spec.today,
            from: w.from,
            to: w.to,
            pageSize: options.pageSize,
          });
          exports[kind].push(r);
          console.log(
            `  run ${run + 1} ${kind}: ${int(r.rows)} rows in ${ms(r.ms)} ms = ${int(r.rows / (r.ms / 1000))} rows/s, ` +
              `peak RSS ${int(r.peakRssMb)} MB` +
              (r.bytes ? `, ${(r.bytes / MB).toFixed(1)} MB written` : ''),
          );
          if (r.rows !== w.lines)
            problems.push(`${kind} run ${run + 1}: ${int(r.rows)} rows, the window holds ${int(w.lines)}`);
        } catch (err) {
          if (interrupted) break;
          problems.push(`${kind} run ${run + 1} failed: ${(err as Error).message}`);
          console.error(`  ${kind} run ${run + 1} failed: ${(err as Error).message}`);
        }
      }
    }
  } finally {
    if (upstream) await terminate(upstream.child);
    await stopAll();
  }
  if (interrupted) return 130;
  if (daily) {
    if (daily.sync.failed > 0) problems.push(`${daily.sync.failed} days failed to sync`);
    if (!daily.pdfIdentical) problems.push('the PDF bytes differ between renders of the same report');
    if (daily.upstreamDuringWarm !== 'none')
      problems.push(`the warm runs called the upstream: ${daily.upstreamDuringWarm}`);
    if (daily.hit.some((r) => r.cachedQueries !== r.queries))
      problems.push('a warm run was not answered entirely from the result cache');
    if (daily.miss.some((r) => r.cachedQueries !== 0))
      problems.push('a run after emptying the result cache was answered from it');
  }
  facts.loadAfter = load1();
  facts.load = `load average ${facts.loadBefore} (1 min) before the run, ${facts.loadAfter} after`;
  report(options, facts, daily, exports, problems);
  const missing = EXPORT_KINDS.some((k) => exports[k].length < options.exportRuns);
  return !daily || missing ? 1 : 0;
}

if (process.env[CHILD_ENV]) {
  // One export run: report to the parent over IPC; die with it, removing the temporary file.
  await childMain(CHILD_ENV, runExport);
} else {
  process.exitCode = await main();
}
