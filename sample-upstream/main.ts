/**
 * Command line of the sample system of record.
 *   node --import tsx sample-upstream/main.ts --port 8081 --seed 42 --stores 12 --products 400
 *   node --import tsx sample-upstream/main.ts --data sample-upstream/example-data
 * See sample-upstream/README.md for every flag.
 */
import { parseArgs } from 'node:util';
import { CsvDataError } from './csv-dataset.ts';
import { createSampleUpstream, type SampleUpstreamOptions } from './server.ts';

const USAGE = `usage: sample-upstream [options]
  --port N            listen port (default 8081, 0 = any free port)
  --host H            listen address (default 127.0.0.1)
  --prefix /p         path prefix of every route (default none)
  --token T           require Authorization: Bearer T on data routes
  --seed N            data seed (default 42)
  --stores N          generated stores (default 12)
  --products N        generated products (default 400)
  --days N            generated business days ending at --end-date (default 730)
  --lines-per-day N   average sale lines per day, all stores (default 250 per store)
  --end-date D        last business day, YYYY-MM-DD (default today in --tz)
  --tz Z              business time zone (default Europe/Paris)
  --data DIR          serve stores.csv, products.csv, sales.csv, stock.csv from DIR instead
  --latency-ms N      delay every data response
  --error-rate R      share (0..1) of data requests answered 503
  --hang              accept data requests and never answer
  --verbose           log every request
  --help`;

function fail(message: string): never {
  console.error(`sample-upstream: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function int(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) fail(`--${name} must be an integer ≥ ${min}, got ${raw}`);
  return Number(raw);
}

function parseCli() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        prefix: { type: 'string' },
        token: { type: 'string' },
        seed: { type: 'string' },
        stores: { type: 'string' },
        products: { type: 'string' },
        days: { type: 'string' },
        'lines-per-day': { type: 'string' },
        'end-date': { type: 'string' },
        tz: { type: 'string' },
        data: { type: 'string' },
        'latency-ms': { type: 'string' },
        'error-rate': { type: 'string' },
        hang: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (err) {
    fail((err as Error).message);
  }
}

const v = parseCli().values;
if (v.help) {
  console.log(USAGE);
  process.exit(0);
}

const errorRate = v['error-rate'] === undefined ? undefined : Number(v['error-rate']);
if (errorRate !== undefined && !(errorRate >= 0 && errorRate <= 1)) {
  fail(`--error-rate must be between 0 and 1, got ${v['error-rate']}`);
}
if (v['end-date'] !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v['end-date'])) {
  fail(`--end-date must be YYYY-MM-DD, got ${v['end-date']}`);
}

const options: SampleUpstreamOptions = {
  port: int('port', v.port, 0) ?? 8081,
  host: v.host ?? '127.0.0.1',
  prefix: v.prefix,
  token: v.token,
  seed: int('seed', v.seed, 0),
  stores: int('stores', v.stores, 1),
  products: int('products', v.products, 1),
  days: int('days', v.days, 0),
  linesPerDay: int('lines-per-day', v['lines-per-day'], 0),
  endDate: v['end-date'],
  tz: v.tz,
  dataDir: v.data,
  logger: v.verbose ?? false,
  faults: {
    ...(v['latency-ms'] !== undefined ? { latencyMs: int('latency-ms', v['latency-ms'], 0) } : {}),
    ...(errorRate !== undefined ? { errorRate } : {}),
    ...(v.hang ? { hang: true } : {}),
  },
};

try {
  const upstream = await createSampleUpstream(options);
  console.log(`sample upstream listening on ${upstream.url}`);
  console.log(upstream.dataset.summary() + (options.token ? ', bearer token required' : ''));
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: closing`);
    upstream.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (err) {
  if (err instanceof CsvDataError) {
    console.error(`sample-upstream: bad data: ${err.message}`);
    process.exit(1);
  }
  console.error(`sample-upstream: ${(err as Error).message ?? err}`);
  process.exit(1);
}
