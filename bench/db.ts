/**
 * npm run bench:db [-- --ops 2000 --database-url postgres://postgres@127.0.0.1:5432/test]
 *
 * The delivery ledger's hot path on both adapters, one operation at a time (latency, not
 * throughput): a claim that wins (insert), a claim that loses (insert meeting the unique key, then
 * the read of the winner's row), and a ledger-style state update (pending -> sending -> sent: two
 * conditional updates). Baseline: `select 1` on the same connection, the floor of any query there.
 * Floor: p50 <= 2 ms for each operation on each adapter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../src/config.ts';
import { createDatabase, type Db } from '../src/db/database.ts';
import { deliveryLedgerFactory } from '../src/db/repos/delivery-ledger.ts';
import { parseBenchArgs } from './lib/args.ts';
import { codeVersion, load1, machineFacts, verdict } from './lib/run-facts.ts';
import { median, ms, percentile, table } from './lib/stats.ts';

const USAGE = `npm run bench:db [-- --ops N --database-url postgres://...]
  --ops            operations of each kind per adapter (default 2000; --quick: 300)
  --database-url   the PostgreSQL to measure (default TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test);
                   a schema is created for the run and dropped after`;
const args = parseBenchArgs('bench:db', USAGE, ['ops', 'database-url']);
const ops = args.num('ops', args.quick ? 300 : 2_000, 10);
const pgUrl =
  (args.values['database-url'] as string | undefined) ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const logger = { warn() {}, info() {} };
const FLOOR_MS = 2;

async function timeEach(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    samples.push(performance.now() - t);
  }
  return samples;
}

async function measure(name: string, db: Db) {
  await db.migrate();
  const ledger = deliveryLedgerFactory(db);
  const claim = (key: string) =>
    ledger.claim({
      key,
      source: 'bench',
      sourceId: 'b',
      period: '2026-12-02',
      channel: 'email',
      address: 'a@b.c',
    });
  // warm-up: connections, statement caches, JIT
  for (let i = 0; i < 50; i++) await claim(`warm-${i}`);
  const baseline = await timeEach(ops, () => sql`select 1`.execute(db.k));
  const ids: string[] = [];
  const wins = await timeEach(ops, async (i) => ids.push((await claim(`k-${i}`)).delivery.id));
  const losses = await timeEach(ops, (i) => claim(`k-${i}`));
  const updates = await timeEach(ops, async (i) => {
    const id = ids[i] as string;
    if (!(await ledger.startSending(id, 60_000))) throw new Error('not taken');
    await ledger.settle(id, { state: 'sent', providerMessageId: `m-${i}` });
  });
  const base = median(baseline);
  return [
    ['select 1 (baseline)', baseline],
    ['claim: wins (insert)', wins],
    ['claim: loses (conflict + read)', losses],
    ['state update (sending, then sent)', updates],
  ].map(([label, samples]) => {
    const s = samples as number[];
    const p50 = median(s);
    const ok = label === 'select 1 (baseline)' || p50 <= FLOOR_MS;
    return [name, label as string, ms(p50), ms(percentile(s, 99)), `${(p50 / base).toFixed(1)}x`, ok];
  });
}

const facts = machineFacts();
console.log(`bench:db: ${ops} operations of each kind per adapter, one at a time`);
console.log(`${facts.machine}; Node ${facts.node}; load ${load1()}; ${codeVersion() ?? ''}\n`);

const rows: (string | boolean)[][] = [];
const dir = mkdtempSync(join(tmpdir(), 'salesflow-bench-db-'));
try {
  const sqlite: DatabaseConfig = { kind: 'sqlite', file: join(dir, 'bench.sqlite'), timeoutMs: 5_000 };
  const db = createDatabase(sqlite, logger);
  rows.push(...(await measure('sqlite', db)));
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const schema = `bench_db_${process.pid}`;
const admin = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3_000 });
try {
  await admin.connect();
} catch (err) {
  console.error(`PostgreSQL is not reachable (${(err as Error).message}): give one with --database-url.`);
  process.exit(1);
}
await admin.query(`create schema ${schema}`);
try {
  const url = new URL(pgUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const db = createDatabase({ kind: 'postgres', url: url.toString(), poolSize: 4, timeoutMs: 5_000 }, logger);
  rows.push(...(await measure('postgres', db)));
  await db.close();
} finally {
  await admin.query(`drop schema ${schema} cascade`);
  await admin.end();
}

console.log(
  table([
    ['adapter', 'operation', 'p50 ms', 'p99 ms', 'p50 / select 1', `p50 <= ${FLOOR_MS} ms`],
    ...rows.map((r) => [
      ...(r.slice(0, 5) as string[]),
      r[1] === 'select 1 (baseline)' ? '' : verdict(r[5] as boolean),
    ]),
  ]),
);
process.exit(rows.every((r) => r[5]) ? 0 : 1);
