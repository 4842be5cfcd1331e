/**
 * npm run bench:http [-- --duration 10 --rounds 3 --connections 50 --quick]
 *
 * Throughput of cached answers over real HTTP: the API (`node src/server.ts`, embedded mode, no
 * pinned "today") in a child process in front of the sample upstream, loaded with wrk. Measured
 * side by side, in interleaved rounds: `/health` (the baseline: no auth, no data), a catalog answer
 * and a cached analytics answer (the 7 KB `groupBy=store&compare=previous_year` of the issue).
 * Prints each one's median req/s and its ratio to `/health`; target: cached analytics ≥ 8,000 req/s
 * with 50 connections. wrk is a Debian package: `apt-get install -y wrk`.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { parseBenchArgs } from './lib/args.ts';
import {
  freePort,
  REPO_ROOT,
  startSampleUpstream,
  stopAll,
  stopChildrenOnExit,
  terminate,
  track,
} from './lib/processes.ts';
import { benchSqliteFile, codeVersion, load1, machineFacts, verdict } from './lib/run-facts.ts';
import { int, median, table } from './lib/stats.ts';

const USAGE = `npm run bench:http -- [--duration S] [--rounds N] [--connections N] [--threads N] [--quick]
  --duration S      seconds of wrk per URL and round (default 10; --quick: 3)
  --rounds N        interleaved rounds over the three URLs (default 3; --quick: 1)
  --connections N   wrk connections (default 50)
  --threads N       wrk threads (default 2)`;
const args = parseBenchArgs('bench:http', USAGE, ['duration', 'rounds', 'connections', 'threads']);
const duration = args.num('duration', args.quick ? 3 : 10, 1);
const rounds = args.num('rounds', args.quick ? 1 : 3, 1);
const connections = args.num('connections', 50, 1);
const threads = args.num('threads', 2, 1);
const TARGET = 8_000;
const KEY = 'bench-http-viewer-key';

if (spawnSync('wrk', ['--version']).error) {
  console.error(
    'bench:http needs wrk, which is not installed.\n' +
      '  Debian/Ubuntu: sudo apt-get install -y wrk\n' +
      '  macOS:         brew install wrk',
  );
  process.exit(2);
}
stopChildrenOnExit();

const URLS = [
  { name: '/health', path: '/health' },
  { name: 'catalog', path: '/api/v1/catalog/stores?limit=20' },
  { name: 'analytics (cached)', path: '/api/v1/analytics/sales?groupBy=store&compare=previous_year' },
] as const;

async function waitUp(url: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function wrk(url: string): Promise<number> {
  const { stdout } = await promisify(execFile)('wrk', [
    `-t${threads}`,
    `-c${connections}`,
    `-d${duration}s`,
    '-H',
    `x-api-key: ${KEY}`,
    url,
  ]);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  if (!rate) throw new Error(`wrk printed no rate:\n${stdout}`);
  if (non2xx) throw new Error(`${url}: ${non2xx[1]} answers were not 2xx; the measure is void`);
  return Number(rate[1]);
}

async function main() {
  const facts = machineFacts();
  console.log(`bench:http: ${facts.machine}; ${facts.node}; ${codeVersion() ?? ''}`);
  const upstream = await startSampleUpstream([
    '--seed',
    '42',
    '--stores',
    '12',
    '--products',
    '400',
    '--days',
    '400',
  ]);
  const port = await freePort();
  const api = track(
    spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        UPSTREAM_URL: upstream.url,
        API_KEYS: `${KEY}:viewer`,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        RATE_LIMIT_MAX: '1000000',
        RATE_LIMIT_WINDOW_SECONDS: '1',
        DATABASE_URL: benchSqliteFile(),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  await waitUp(`${base}/health`);
  // Warm: the analytics answer is computed once (partitions read from the upstream), then cached.
  // On a loaded machine the first read may outlast REQUEST_DEADLINE_MS (a 504): the days read
  // meanwhile are kept, so asking again makes progress.
  for (const u of URLS) {
    let res: Response;
    let body: string;
    let tries = 0;
    do {
      res = await fetch(base + u.path, { headers: { 'x-api-key': KEY } });
      body = await res.text();
    } while (res.status === 504 && ++tries < 20);
    if (!res.ok) throw new Error(`${u.path} answered ${res.status}: ${body.slice(0, 300)}`);
    console.log(`  warm ${u.name}: ${res.status}, ${int(body.length)} bytes`);
  }
  const samples = new Map<string, number[]>(URLS.map((u) => [u.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const u of URLS) {
      const rate = await wrk(base + u.path);
      samples.get(u.name)!.push(rate);
      console.log(`  round ${round} ${u.name}: ${int(rate)} req/s (load ${load1()})`);
    }
  }
  await terminate(api);
  await upstream.stop();

  const healthMedian = median(samples.get('/health')!);
  const rows = [['URL', 'median req/s', 'ratio to /health', 'runs']];
  for (const u of URLS) {
    const s = samples.get(u.name)!;
    rows.push([
      u.name,
      int(median(s)),
      (median(s) / healthMedian).toFixed(2),
      s.map((x) => int(x)).join(' '),
    ]);
  }
  console.log(`\nwrk -t${threads} -c${connections} -d${duration}s, ${rounds} round(s), load ${load1()}`);
  console.log(table(rows));
  const analytics = median(samples.get('analytics (cached)')!);
  console.log(
    `cached analytics >= ${int(TARGET)} req/s: ${verdict(analytics >= TARGET)} (${int(analytics)})`,
  );
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
