/**
 * Spreadsheet imports end to end: a products workbook of 100,000 rows, uploaded to the import
 * service as the API calls it (`imports.upload`, answered inline), in a dry run and in a commit
 * against the sample upstream running in its own process, against the baseline of exceljs's
 * streaming reader alone on the same file.
 *
 *   npm run bench:import                      # 100,000 rows, 5 runs of read and dry_run, 3 commits
 *   npm run bench:import -- --quick           # a smoke test: 20,000 rows, 3 runs, 1 commit
 *   npm run bench:import -- --rows 200000 --runs 7 --commit-runs 5
 *
 * The workbook is generated once into a temporary folder: about 1 % invalid rows (negative or
 * unreadable prices), about 1,000 rows that change the price of a product the upstream already has,
 * and new products for the rest. Each run is a fresh child process of this script, so its peak RSS
 * is its own; each commit gets a fresh upstream (a commit changes the catalogue, and the upstream
 * has no data reset).
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { UpstreamProduct } from '../src/models/upstream.ts';
import { parseBenchArgs } from './lib/args.ts';
import { memorySampler } from './lib/measure.ts';
import {
  childMain,
  runInChild,
  startSampleUpstream,
  stopAll,
  stopChildrenOnExit,
  terminate,
  type UpstreamProcess,
} from './lib/processes.ts';
import { benchSqliteFile, codeVersion, load1, machineFacts, verdict } from './lib/run-facts.ts';
import { int, median, ms, table } from './lib/stats.ts';

const SEED = 42;
const CHILD_ENV = 'SALESFLOW_BENCH_IMPORT_CHILD';
const MB = 1e6;
const UPSTREAM_SHAPE = { products: 2000, stores: 20, days: 30 };

const TARGETS = {
  dryRunRowsPerSecond: 50_000,
  peakRssMb: 300,
};

type Kind = 'read' | 'dry_run' | 'commit';
const KINDS: readonly Kind[] = ['read', 'dry_run', 'commit'];
const KIND_LABEL: Record<Kind, string> = {
  read: 'read: exceljs streaming reader (baseline)',
  dry_run: 'dry_run: imports.upload',
  commit: 'commit: imports.upload',
};

// ---------------------------------------------------------------------------------------------
// The workbook, generated once in the parent.

interface Workbook {
  file: string;
  bytes: number;
  rows: number;
  /** what a correct import must find */
  expect: { invalid: number; toCreate: number; toUpdate: number };
  ms: number;
}

const SEGMENTS = [
  'Everyday',
  'Premium',
  'Organic',
  'Family Size',
  'Travel',
  'Seasonal',
  'Kids',
  'Professional',
  'Eco',
  'Gift Sets',
  'Essentials',
  'Limited Edition',
  'Value Packs',
  'Outdoor',
  'Classic',
  'Imported',
  'Local',
  'Refills',
  'Accessories',
  'Spare Parts',
];
const BRAND_STEMS = [
  'Alder',
  'Bramble',
  'Cedar',
  'Dovetail',
  'Ember',
  'Fjord',
  'Granite',
  'Harbor',
  'Iris',
  'Juniper',
  'Kestrel',
  'Linden',
  'Maple',
  'Nordic',
  'Orchard',
  'Pioneer',
  'Quarry',
  'Riverside',
  'Summit',
  'Thistle',
  'Upland',
  'Vale',
  'Willow',
  'Yarrow',
  'Zephyr',
  'Atlas',
  'Beacon',
  'Coast',
  'Delta',
  'Equinox',
];
const BRAND_SUFFIXES = [
  'Co.',
  'Goods',
  'Labs',
  'Works',
  'Brothers',
  '& Sons',
  'Naturals',
  'Home',
  'Kitchen',
  'Studio',
  'Supply',
  'Traders',
  'Farms',
  'Outfitters',
  'Collective',
  'Maison',
  'Atelier',
  'Select',
  'Original',
  'Group',
  'Craft',
  'Basics',
  'Market',
  'House',
  'Company',
  'Factory',
  'Provisions',
  'Mills',
  'Foundry',
  'Garden',
];
const ADJECTIVES = [
  'Classic',
  'Deluxe',
  'Compact',
  'Smooth',
  'Fresh',
  'Rustic',
  'Bold',
  'Light',
  'Pure',
  'Rich',
];
const NOUNS = ['Blend', 'Set', 'Pack', 'Bottle', 'Jar', 'Kit', 'Box', 'Bundle', 'Roll', 'Tin', 'Bag', 'Case'];
const SIZES = [
  '100 g',
  '250 g',
  '500 g',
  '1 kg',
  '330 ml',
  '750 ml',
  '1 l',
  '2 l',
  'x6',
  'x12',
  'S',
  'M',
  'L',
];

async function upstreamProducts(url: string): Promise<UpstreamProduct[]> {
  const res = await fetch(`${url}/products`);
  if (!res.ok) throw new Error(`GET ${url}/products answered ${res.status}`);
  return (await res.json()) as UpstreamProduct[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Writes the products workbook with exceljs's streaming writer: header SKU, Product Name, Category,
 * Brand, Price, Cost. Updates repeat an existing product with a new price, so they are updates of
 * one field; new SKUs take the upstream's category codes with 7 digits, which the generator's
 * 6-digit SKUs never reach.
 */
async function writeWorkbook(file: string, rows: number, existing: UpstreamProduct[]): Promise<Workbook> {
  const { default: ExcelJS } = await import('exceljs');
  const { mulberry32 } = await import('../sample-upstream/generator.ts');
  const started = performance.now();
  const prng = mulberry32(SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(prng() * list.length)]!;

  // Category name → SKU code, as the generator pairs them (`${code}-000001`).
  const codes = new Map<string, string>();
  for (const p of existing) codes.set(p.category, p.sku.split('-')[0] ?? 'GEN');
  const bases = codes.size ? [...codes] : [['General', 'GEN'] as [string, string]];
  // About 200 categories and 900 brands: many repeated strings, as in a real catalogue.
  const categories = bases.flatMap(([name, code]) => SEGMENTS.map((s) => ({ name: `${name} - ${s}`, code })));
  const brands = BRAND_STEMS.flatMap((stem) => BRAND_SUFFIXES.map((suffix) => `${stem} ${suffix}`));

  const updates = Math.min(1000, Math.floor(existing.length / 2), Math.floor(rows / 10));
  const invalid = Math.round(rows / 100);
  // 0 create, 1 update, 2 invalid; shuffled so they spread over the whole sheet
  const role = new Uint8Array(rows);
  role.fill(1, 0, updates);
  role.fill(2, updates, updates + invalid);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(prng() * (i + 1));
    const t = role[i]!;
    role[i] = role[j]!;
    role[j] = t;
  }
  const toUpdate = [...existing];
  for (let i = 0; i < updates; i++) {
    const j = i + Math.floor(prng() * (toUpdate.length - i));
    [toUpdate[i], toUpdate[j]] = [toUpdate[j]!, toUpdate[i]!];
  }

  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
  const sheet = writer.addWorksheet('Products');
  sheet.addRow(['SKU', 'Product Name', 'Category', 'Brand', 'Price', 'Cost']).commit();
  let updated = 0;
  for (let i = 0; i < rows; i++) {
    if (role[i] === 1) {
      const p = toUpdate[updated++]!;
      let price = round2(p.price * (1.03 + 0.09 * prng()));
      if (price === p.price) price = round2(price + 0.01);
      sheet.addRow([p.sku, p.name, p.category, p.brand, price, p.cost ?? null]).commit();
      continue;
    }
    const category = pick(categories);
    const brand = pick(brands);
    const price = round2(0.5 + 200 * prng() ** 3);
    // a few rows leave brand or cost blank, as spreadsheets do
    const cost = prng() < 0.05 ? null : round2(price * (0.4 + 0.35 * prng()));
    const cells = [
      `${category.code}-${1_000_000 + i}`,
      `${brand} ${pick(ADJECTIVES)} ${pick(NOUNS)} ${pick(SIZES)}`,
      category.name,
      prng() < 0.02 ? null : brand,
      role[i] === 2 ? (prng() < 0.7 ? -price : 'n/a') : price,
      cost,
    ];
    sheet.addRow(cells).commit();
  }
  sheet.commit();
  await writer.commit();
  return {
    file,
    bytes: (await stat(file)).size,
    rows,
    expect: { invalid, toCreate: rows - updates - invalid, toUpdate: updates },
    ms: performance.now() - started,
  };
}

// ---------------------------------------------------------------------------------------------
// One run, in a fresh child process of this script.

interface RunSpec {
  kind: Kind;
  file: string;
  upstreamUrl: string;
  /** EXPORTS_DIR of the service runs; removed after the run */
  exportsDir: string;
}

interface ImportCounts {
  status: string;
  rows: number;
  valid: number;
  invalid: number;
  toCreate: number;
  toUpdate: number;
  unchanged: number;
  warnings: number;
}

interface RunResult {
  kind: Kind;
  ms: number;
  rows: number;
  /** the larger of the sampled peak and the kernel's high-water mark */
  peakRssBytes: number;
  /** sampled every 100 ms during the timed section */
  sampledRssBytes: number;
  /** the kernel's high-water mark over the child's whole life (module loading included) */
  maxRssBytes: number;
  /** RSS just before the timed section: modules loaded, container built */
  rssBeforeBytes: number;
  /** CPU seconds of the whole child (all threads) during the timed section */
  cpuS: number;
  counts?: ImportCounts;
  commit?: {
    created: number;
    updated: number;
    chunks: number;
    chunksSent: number;
    failed: number;
    error?: string;
  };
}

async function timed(
  kind: Kind,
  work: () => Promise<{ rows: number; counts?: ImportCounts; commit?: RunResult['commit'] }>,
): Promise<RunResult> {
  const rssBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  const sampler = memorySampler(100);
  const started = performance.now();
  const done = await work();
  const elapsed = performance.now() - started;
  const peak = sampler.stop();
  const cpu = process.cpuUsage(cpuBefore);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  return {
    kind,
    ms: elapsed,
    ...done,
    peakRssBytes: Math.max(peak.rss, maxRss),
    sampledRssBytes: peak.rss,
    maxRssBytes: maxRss,
    rssBeforeBytes: rssBefore,
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

/** exceljs's streaming reader alone, with the options sheet-reader uses: every row, nothing else. */
async function runRead(spec: RunSpec): Promise<RunResult> {
  const { default: ExcelJS } = await import('exceljs');
  return timed('read', async () => {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(spec.file, {
      worksheets: 'emit',
      sharedStrings: 'cache',
      hyperlinks: 'ignore',
      styles: 'cache',
      entries: 'ignore',
    });
    let rows = 0;
    let cells = 0;
    for await (const ws of reader) {
      for await (const row of ws) {
        const values = row.values;
        cells += Array.isArray(values) ? values.length : 0;
        rows++;
      }
    }
    // the header is a row too; the service counts data rows
    return { rows: cells > 0 ? rows - 1 : rows };
  });
}

/** The import service as the API calls it: the upload answered inline, in dry_run or commit mode. */
async function runService(spec: RunSpec): Promise<RunResult> {
  const { pino } = await import('pino');
  const { loadConfig } = await import('../src/config.ts');
  const { createContainer } = await import('../src/container.ts');
  const config = loadConfig({
    DATABASE_URL: benchSqliteFile(),
    UPSTREAM_URL: spec.upstreamUrl,
    API_KEYS: 'bench-key-000000000:admin',
    EXPORTS_DIR: spec.exportsDir,
    LOG_LEVEL: 'silent',
    // inline, whatever the file's size: the job queue would only add its polling to the figure
    IMPORT_INLINE_MAX_KB: '1048576',
    IMPORT_MAX_FILE_MB: '1024',
    IMPORT_MAX_ROWS: '5000000',
  });
  const services = createContainer(config, pino({ level: 'silent' }) as unknown as FastifyBaseLogger);
  await mkdir(spec.exportsDir, { recursive: true });
  try {
    // a fresh database each run: migrated here, outside the timed section, as the API does at start
    await services.start();
    return await timed(spec.kind, async () => {
      const outcome = await services.imports.upload({
        stream: createReadStream(spec.file),
        fileName: 'products.xlsx',
        options: {
          kind: 'products',
          mode: spec.kind === 'commit' ? 'commit' : 'dry_run',
          onError: 'skip_invalid',
        },
      });
      if (outcome.kind !== 'done') throw new Error(`the import was ${outcome.kind}, not answered inline`);
      const r = outcome.result;
      return {
        rows: r.rows,
        counts: {
          status: r.status,
          rows: r.rows,
          valid: r.valid,
          invalid: r.invalid,
          toCreate: r.toCreate,
          toUpdate: r.toUpdate,
          unchanged: r.unchanged,
          warnings: r.warningsTotal,
        },
        ...(r.commit
          ? {
              commit: {
                created: r.commit.created,
                updated: r.commit.updated,
                chunks: r.commit.chunks,
                chunksSent: r.commit.chunksSent,
                failed: r.commit.failed,
                ...(r.commit.error ? { error: r.commit.error } : {}),
              },
            }
          : {}),
      };
    });
  } finally {
    await services.close();
    await rm(spec.exportsDir, { recursive: true, force: true });
  }
}

/** Runs one kind in a fresh process of this script; resolves with its result or its failure. */
function runChild(spec: RunSpec): Promise<RunResult> {
  return runInChild<RunResult>(import.meta.url, CHILD_ENV, spec, `${spec.kind} run`);
}

// ---------------------------------------------------------------------------------------------
// The parent: options, the workbook, the upstreams, the runs, the report.

const USAGE = `usage: npm run bench:import -- [options]
  --rows N          data rows of the generated workbook (default 100000)
  --runs N          runs of read and of dry_run, each in a fresh process (default 5)
  --commit-runs N   runs of commit, each in a fresh process against a fresh upstream (default 3)
  --quick           a smoke test: 20000 rows, 3 runs, 1 commit run
  --help`;

interface Options {
  rows: number;
  runs: number;
  commitRuns: number;
  quick: boolean;
}

function parseOptions(): Options {
  const { quick, num } = parseBenchArgs('bench:import', USAGE, ['rows', 'runs', 'commit-runs']);
  return {
    rows: num('rows', quick ? 20_000 : 100_000, 1),
    runs: num('runs', quick ? 3 : 5, 1),
    commitRuns: num('commit-runs', quick ? 1 : 3, 1),
    quick,
  };
}

function upstreamArgs(endDate: string): string[] {
  return [
    '--seed',
    String(SEED),
    '--products',
    String(UPSTREAM_SHAPE.products),
    '--stores',
    String(UPSTREAM_SHAPE.stores),
    '--days',
    String(UPSTREAM_SHAPE.days),
    '--end-date',
    endDate,
  ];
}

function showRun(run: number, r: RunResult): string {
  const c = r.counts;
  return (
    `  run ${run} ${r.kind}: ${int(r.rows)} rows in ${ms(r.ms)} ms = ${int(r.rows / (r.ms / 1000))} rows/s, ` +
    `peak RSS ${int(r.peakRssBytes / MB)} MB (sampled ${int(r.sampledRssBytes / MB)}, kernel ${int(r.maxRssBytes / MB)}), ` +
    `CPU ${r.cpuS.toFixed(1)} s` +
    (c ? `; ${int(c.invalid)} invalid, ${int(c.toCreate)} to create, ${int(c.toUpdate)} to update` : '') +
    (r.commit ? `; created ${int(r.commit.created)}, updated ${int(r.commit.updated)}` : '')
  );
}

/** What a run must have found, against what the workbook holds. */
function checkRun(run: number, r: RunResult, book: Workbook, problems: string[]): void {
  const where = `${r.kind} run ${run}`;
  if (r.rows !== book.rows)
    problems.push(`${where}: ${int(r.rows)} rows read, the workbook holds ${int(book.rows)}`);
  const c = r.counts;
  if (!c) return;
  const e = book.expect;
  if (c.invalid !== e.invalid || c.toCreate !== e.toCreate || c.toUpdate !== e.toUpdate || c.unchanged !== 0)
    problems.push(
      `${where}: ${c.invalid} invalid / ${c.toCreate} to create / ${c.toUpdate} to update / ${c.unchanged} unchanged, ` +
        `expected ${e.invalid} / ${e.toCreate} / ${e.toUpdate} / 0`,
    );
  if (r.kind !== 'commit') return;
  if (!r.commit) {
    problems.push(`${where}: no commit report (status ${c.status})`);
    return;
  }
  const pushed = r.commit.created + r.commit.updated;
  if (pushed !== c.toCreate + c.toUpdate || r.commit.error !== undefined)
    problems.push(
      `FAIL ${where}: created ${r.commit.created} + updated ${r.commit.updated} = ${pushed}, ` +
        `toCreate ${c.toCreate} + toUpdate ${c.toUpdate} = ${c.toCreate + c.toUpdate}` +
        (r.commit.error ? ` (stopped: ${r.commit.error})` : ''),
    );
}

interface Summary {
  runs: RunResult[];
  rows: number;
  medianMs: number;
  rowsPerSecond: number;
  medianPeakMb: number;
  maxPeakMb: number;
}

function summarise(runs: RunResult[]): Summary | undefined {
  if (runs.length === 0) return undefined;
  const medianMs = median(runs.map((r) => r.ms));
  const rows = runs[0]!.rows;
  return {
    runs,
    rows,
    medianMs,
    rowsPerSecond: rows / (medianMs / 1000),
    medianPeakMb: median(runs.map((r) => r.peakRssBytes)) / MB,
    maxPeakMb: Math.max(...runs.map((r) => r.peakRssBytes)) / MB,
  };
}

function report(
  facts: Record<string, string>,
  results: Record<Kind, RunResult[]>,
  problems: string[],
  options: Options,
): void {
  const s = Object.fromEntries(KINDS.map((k) => [k, summarise(results[k])])) as Record<
    Kind,
    Summary | undefined
  >;
  const rows: string[][] = [
    ['', 'runs', 'median ms', 'min ms', 'max ms', 'rows/s', 'peak RSS MB', 'worst RSS MB', 'CPU s'],
  ];
  for (const kind of KINDS) {
    const k = s[kind];
    if (!k) {
      rows.push([KIND_LABEL[kind], '0', 'no result', '', '', '', '', '', '']);
      continue;
    }
    const times = k.runs.map((r) => r.ms);
    rows.push([
      KIND_LABEL[kind],
      String(k.runs.length),
      ms(k.medianMs),
      ms(Math.min(...times)),
      ms(Math.max(...times)),
      int(k.rowsPerSecond),
      int(k.medianPeakMb),
      int(k.maxPeakMb),
      median(k.runs.map((r) => r.cpuS)).toFixed(1),
    ]);
  }

  console.log('\n== SalesFlow import benchmark ==');
  for (const key of ['machine', 'node', 'workbook', 'upstream', 'code', 'load']) {
    if (facts[key]) console.log(`${`${key}:`.padEnd(10)} ${facts[key]}`);
  }
  console.log('');
  console.log(table(rows));
  console.log('');

  const ratio = (kind: Kind) => {
    const k = s[kind];
    return k && s.read ? `${(k.medianMs / s.read.medianMs).toFixed(2)}×` : 'n/a';
  };
  console.log(`dry_run / read, median times: ${ratio('dry_run')}`);
  console.log(`commit / read, median times:  ${ratio('commit')}`);
  const before = (kind: Kind) => {
    const runs = results[kind];
    return runs.length ? `${int(median(runs.map((r) => r.rssBeforeBytes)) / MB)} MB` : 'n/a';
  };
  console.log(
    `RSS before the timed section (median): read ${before('read')}, dry_run ${before('dry_run')}, commit ${before('commit')}`,
  );
  const commits = results.commit.filter((r) => r.commit);
  if (commits.length) {
    const m = (f: (r: RunResult) => number) => int(median(commits.map(f)));
    console.log(
      `commit (median): created ${m((r) => r.commit!.created)}, updated ${m((r) => r.commit!.updated)}, ` +
        `${m((r) => r.commit!.chunks)} chunks`,
    );
  }
  console.log('');

  const dry = s.dry_run;
  const line = (label: string, value: string, ok: boolean | undefined) =>
    console.log(`${label}: ${value} ${ok === undefined ? 'NO RESULT' : verdict(ok)}`);
  line(
    `dry run ≥ ${int(TARGETS.dryRunRowsPerSecond)} rows/s (median)`,
    dry ? `${int(dry.rowsPerSecond)} rows/s` : 'n/a',
    dry ? dry.rowsPerSecond >= TARGETS.dryRunRowsPerSecond : undefined,
  );
  for (const kind of ['dry_run', 'commit'] as const) {
    const k = s[kind];
    line(
      `${kind} peak RSS < ${TARGETS.peakRssMb} MB (worst run)`,
      k ? `${int(k.maxPeakMb)} MB` : 'n/a',
      k ? k.maxPeakMb < TARGETS.peakRssMb : undefined,
    );
  }
  console.log('');
  console.log(
    `Each run is a fresh child process; kinds interleaved, ${options.runs} run(s) of read and dry_run, ` +
      `${options.commitRuns} of commit, each commit against a fresh upstream. Times are wall clock around ` +
      `the work only: for read, WorkbookReader over every row touching row.values; for dry_run and commit, ` +
      `imports.upload (store the upload, inspect the ZIP, read, validate, fetch the catalogue, plan, ` +
      `push in chunks on commit, write the result). rows/s = data rows / median seconds. Peak RSS: the larger of ` +
      `RSS sampled every 100 ms and the kernel's maxRSS (which covers module loading and the container); ` +
      `the verdict is on the worst run. MB = 10^6 bytes. CPU s: the child, all threads, during the timed section.`,
  );
  for (const p of problems) console.log(p.startsWith('FAIL') ? p : `WARNING: ${p}`);
}

async function main(): Promise<number> {
  const options = parseOptions();
  let interrupted = false;
  stopChildrenOnExit((signal) => {
    interrupted = true;
    console.error(`\n${signal}: stopping the upstream and the runs...`);
  });
  const dir = mkdtempSync(join(tmpdir(), 'salesflow-bench-import-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  // A fixed end date: every upstream of this bench holds the same catalogue, even across midnight.
  const endDate = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

  const facts: Record<string, string> = {
    ...machineFacts(),
    loadBefore: load1(),
  };
  const code = codeVersion();
  if (code) facts.code = code;
  console.log(
    `SalesFlow import benchmark: ${int(options.rows)} rows, ${options.runs} runs, ${options.commitRuns} commit runs` +
      (options.quick ? ' (--quick)' : ''),
  );
  console.log(`${facts.machine}, Node ${process.version}, load average ${facts.loadBefore}`);

  const results: Record<Kind, RunResult[]> = { read: [], dry_run: [], commit: [] };
  const problems: string[] = [];
  let shared: UpstreamProcess | undefined;
  let book: Workbook | undefined;
  try {
    shared = await startSampleUpstream(upstreamArgs(endDate));
    facts.upstream = `sample upstream in its own process: ${shared.summary}`;
    console.log(`sample upstream: ${shared.summary}`);
    const existing = await upstreamProducts(shared.url);

    console.log(`generating ${int(options.rows)} rows...`);
    book = await writeWorkbook(join(dir, 'products.xlsx'), options.rows, existing);
    const e = book.expect;
    facts.workbook =
      `${int(book.rows)} data rows, ${(book.bytes / MB).toFixed(1)} MB (shared strings), ` +
      `${int(e.invalid)} invalid, ${int(e.toUpdate)} updates, ${int(e.toCreate)} new` +
      (options.quick ? ' (--quick)' : '');
    console.log(`workbook: ${facts.workbook}, written in ${ms(book.ms)} ms\n`);

    const wanted: Record<Kind, number> = {
      read: options.runs,
      dry_run: options.runs,
      commit: options.commitRuns,
    };
    const rounds = Math.max(options.runs, options.commitRuns);
    let n = 0;
    for (let round = 0; round < rounds && !interrupted; round++) {
      // rotate the order, so no kind always runs first after a pause
      const kinds = KINDS.map((_, i) => KINDS[(i + round) % KINDS.length]!).filter((k) => round < wanted[k]);
      for (const kind of kinds) {
        if (interrupted) break;
        let fresh: UpstreamProcess | undefined;
        try {
          if (kind === 'commit') fresh = await startSampleUpstream(upstreamArgs(endDate));
          const upstream = fresh ?? shared;
          const r = await runChild({
            kind,
            file: book.file,
            upstreamUrl: upstream.url,
            exportsDir: join(dir, `exports-${++n}`),
          });
          results[kind].push(r);
          console.log(showRun(round + 1, r));
          checkRun(round + 1, r, book, problems);
          if (kind === 'commit' && r.commit) {
            const after = (await upstreamProducts(upstream.url)).length;
            if (after !== existing.length + r.commit.created)
              problems.push(
                `FAIL commit run ${round + 1}: the upstream holds ${int(after)} products after it, ` +
                  `expected ${int(existing.length)} + ${int(r.commit.created)} created`,
              );
          }
        } catch (err) {
          if (interrupted) break;
          problems.push(`${kind} run ${round + 1} failed: ${(err as Error).message}`);
          console.error(`  ${kind} run ${round + 1} failed: ${(err as Error).message}`);
        } finally {
          if (fresh) await terminate(fresh.child);
        }
      }
    }
  } finally {
    if (shared) await terminate(shared.child);
    await stopAll();
  }
  if (interrupted) return 130;
  facts.load = `load average ${facts.loadBefore} (1 min) before the run, ${load1()} after`;
  report(facts, results, problems, options);
  // Like the other benches: a missed target is a FAIL line, not an exit code; a run that failed is.
  const missing =
    results.read.length < options.runs ||
    results.dry_run.length < options.runs ||
    results.commit.length < options.commitRuns;
  return !book || missing ? 1 : 0;
}

if (process.env[CHILD_ENV]) {
  // One run: report to the parent over IPC (or print it, when started by hand to profile it); die with it.
  await childMain<RunSpec, RunResult>(CHILD_ENV, (spec) =>
    spec.kind === 'read' ? runRead(spec) : runService(spec),
  );
} else {
  process.exitCode = await main();
}
