/**
 * npm run bench:http [-- --duration 10 --rounds 3 --connections 50 --warmup 3 --quick]
 *
 * Throughput of cached answers over real HTTP: the API (`node src/server.ts`, embedded mode, no
 * pinned "today") in a child process in front of the sample upstream, loaded with wrk. Measured
 * side by side, in interleaved rounds: `/health` (the baseline: no auth, no data), a catalog answer
 * and a cached analytics answer (the 7 KB `groupBy=store&compare=previous_year` of the issue).
 * Prints each one's median req/s, its ratio to `/health` and the API's CPU time per request (user +
 * system, from /proc: it moves less than req/s when other work shares the machine); target: cached
 * analytics ≥ 8,000 req/s with 50 connections. wrk is a Debian package: `apt-get install -y wrk`.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

const USAGE = `npm run bench:http -- [--duration S] [--rounds N] [--connections N] [--threads N] [--warmup S] [--quick]
  --duration S      seconds of wrk per URL and round (default 10; --quick: 3)
  --warmup S        seconds of wrk per URL before the rounds, not counted (default 3; --quick: 1)
  --rounds N        interleaved rounds over the three URLs (default 3; --quick: 1)
  --connections N   wrk connections (default 50)
  --threads N       wrk threads (default 2)`;
const args = parseBenchArgs('bench:http', USAGE, ['duration', 'rounds', 'connections', 'threads', 'warmup']);
const duration = args.num('duration', args.quick ? 3 : 10, 1);
const rounds = args.num('rounds', args.quick ? 1 : 3, 1);
const connections = args.num('connections', 50, 1);
const threads = args.num('threads', 2, 1);
const warmup = args.num('warmup', args.quick ? 1 : 3, 0);
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

/** The API process's CPU time so far (user, system; ms), from /proc: Linux only, else undefined. */
function cpuMs(pid: number | undefined): { user: number; sys: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised command name) in clock ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { user: (Number(fields[11]) * 1000) / CLK_TCK, sys: (Number(fields[12]) * 1000) / CLK_TCK };
  } catch {
    return undefined;
  }
}
const CLK_TCK = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(out.stdout) > 0 ? Number(out.stdout) : 100;
})();

interface WrkRun {
  rate: number;
  requests: number;
}

async function wrk(url: string, seconds = duration): Promise<WrkRun> {
  const { stdout } = await promisify(execFile)('wrk', [
    `-t${threads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    '-H',
    `x-api-key: ${KEY}`,
    url,
  ]);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const requests = /(\d+) requests in/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  if (!rate || !requests) throw new Error(`wrk printed no rate:\n${stdout}`);
  if (non2xx) throw new Error(`${url}: ${non2xx[1]} answers were not 2xx; the measure is void`);
  return { rate: Number(rate[1]), requests: Number(requests[1]) };
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
  // Under load, V8 optimises each route's code for a few seconds: without this, round 1 measures
  // the compiler as much as the server.
  if (warmup > 0) {
    for (const u of URLS) await wrk(base + u.path, warmup);
    console.log(`  warmed up: ${warmup} s of wrk per URL (load ${load1()})`);
  }
  const samples = new Map<string, number[]>(URLS.map((u) => [u.name, []]));
  // The API's own CPU time per request (user + system): what the machine's other load and wrk's
  // share of the two cores do not change much, unlike req/s.
  const cpuPerRequest = new Map<string, number[]>(URLS.map((u) => [u.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const u of URLS) {
      const before = cpuMs(api.pid);
      const run = await wrk(base + u.path);
      const after = cpuMs(api.pid);
      samples.get(u.name)!.push(run.rate);
      let cpu = '';
      if (before && after) {
        const us = (ms: number) => (ms * 1000) / run.requests;
        const [user, sys] = [us(after.user - before.user), us(after.sys - before.sys)];
        cpuPerRequest.get(u.name)!.push(user + sys);
        cpu = `, API CPU ${user.toFixed(0)} + ${sys.toFixed(0)} µs/request user + sys`;
      }
      console.log(`  round ${round} ${u.name}: ${int(run.rate)} req/s (load ${load1()}${cpu})`);
    }
  }
  await terminate(api);
  await upstream.stop();

  const healthMedian = median(samples.get('/health')!);
  const rows = [['URL', 'median req/s', 'ratio to /health', 'API CPU µs/req', 'runs']];
  for (const u of URLS) {
    const s = samples.get(u.name)!;
    const cpu = cpuPerRequest.get(u.name)!;
    rows.push([
      u.name,
      int(median(s)),
      (median(s) / healthMedian).toFixed(2),
      cpu.length > 0 ? median(cpu).toFixed(0) : '-',
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
