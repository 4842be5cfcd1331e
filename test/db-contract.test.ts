/**
 * The metadata database contract, run against both adapters: SQLite (a temporary file) and
 * PostgreSQL (a schema of its own, dropped afterwards). Whatever passes here may replace the other.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { DatabaseConfig } from '../src/config.ts';
import { createDatabase, type Db } from '../src/db/database.ts';
import { DatabaseUnavailableError } from '../src/db/db-errors.ts';
import { MIGRATIONS } from '../src/db/migrations/index.ts';
import { deliveryLedgerFactory } from '../src/db/repos/delivery-ledger.ts';
import { importRecordsFactory } from '../src/db/repos/import-records.ts';
import { jobRecordsFactory } from '../src/db/repos/job-records.ts';
import { testSqliteFile } from './helpers/app.ts';
import { fileDatabase } from './helpers/postgres.ts';

const logger = { warn() {}, info() {} };

interface Adapter {
  name: string;
  /** a fresh, empty database: its configuration, and what `migrate` children are given */
  fresh(): Promise<{ config: DatabaseConfig; target: string }>;
  teardown(): Promise<void>;
}

const drops: (() => Promise<void>)[] = [];
const adapters: Adapter[] = [
  {
    name: 'sqlite',
    async fresh() {
      const file = testSqliteFile();
      return { config: { kind: 'sqlite', file, timeoutMs: 5_000 }, target: file };
    },
    async teardown() {},
  },
  {
    name: 'postgres',
    async fresh() {
      const db = await fileDatabase('db_contract');
      drops.push(db.drop);
      return { config: { kind: 'postgres', url: db.url, poolSize: 10, timeoutMs: 5_000 }, target: db.url };
    },
    async teardown() {
      await Promise.all(drops.splice(0).map((d) => d()));
    },
  },
];

/** Starts n child processes on `target`, releases them together, returns their JSON answers. */
async function together(n: number, args: string[]): Promise<Record<string, unknown>[]> {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--import', 'tsx', 'test/helpers/db-child.ts', ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const lines = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
  for (const l of lines) assert.equal((await l.next()).value, 'ready');
  for (const c of children) c.stdin!.end('go\n');
  const answers = await Promise.all(lines.map(async (l) => JSON.parse((await l.next()).value as string)));
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
  for (const c of children) assert.equal(c.exitCode, 0);
  return answers;
}

const iso = (s: string) => new Date(s).toISOString();

for (const adapter of adapters) {
  describe(`metadata database contract: ${adapter.name}`, () => {
    let db: Db;
    let target: string;
    before(async () => {
      const fresh = await adapter.fresh();
      target = fresh.target;
      db = createDatabase(fresh.config, logger);
    });
    after(async () => {
      await db?.close();
      await adapter.teardown();
    });

    it('four processes migrating the same empty database apply each migration once', async () => {
      const answers = await together(4, [target, 'migrate']);
      const applied = answers.flatMap((a) => a.applied as string[]).sort();
      assert.deepEqual(applied, Object.keys(MIGRATIONS).sort());
      assert.deepEqual(await db.migrate(), [], 'nothing left to apply');
    });

    it('import records: insert, read, run, finish, list with filters and paging, expire', async () => {
      const records = importRecordsFactory(db);
      const request = (id: string, kind: string, createdAt: string) => ({
        importId: id,
        options: { kind, mode: 'dry_run', onError: 'reject_all', chunkSize: 500 },
        file: { name: `${id}.csv`, bytes: 42, format: 'csv' },
        createdAt,
      });
      await records.insert(request('imp-aaaaaaaaaaaaaaaa01', 'products', iso('2026-11-01T10:00:00Z')));
      await records.insert(request('imp-aaaaaaaaaaaaaaaa02', 'stock', iso('2026-11-02T10:00:00Z')));
      await records.insert(request('imp-aaaaaaaaaaaaaaaa03', 'products', iso('2026-11-03T10:00:00Z')));
      await assert.rejects(
        records.insert(request('imp-aaaaaaaaaaaaaaaa03', 'products', iso('2026-11-03T10:00:00Z'))),
      );
      assert.deepEqual((await records.request('imp-aaaaaaaaaaaaaaaa02'))?.file, {
        name: 'imp-aaaaaaaaaaaaaaaa02.csv',
        bytes: 42,
        format: 'csv',
      });
      await records.markRunning('imp-aaaaaaaaaaaaaaaa01');
      const result = {
        importId: 'imp-aaaaaaaaaaaaaaaa01',
        status: 'validated',
        rows: 10,
        valid: 9,
        invalid: 1,
        finishedAt: iso('2026-11-01T10:00:05Z'),
      } as Parameters<typeof records.saveResult>[0];
      await records.saveResult(result);
      assert.deepEqual(await records.result('imp-aaaaaaaaaaaaaaaa01'), result);
      assert.equal(await records.result('imp-aaaaaaaaaaaaaaaa02'), null);
      assert.equal(await records.request('imp-nope000000000000'), null);

      const all = await records.list({ limit: 2, offset: 0 });
      assert.equal(all.total, 3);
      assert.deepEqual(
        all.items.map((i) => i.importId),
        ['imp-aaaaaaaaaaaaaaaa03', 'imp-aaaaaaaaaaaaaaaa02'],
        'newest first, paged',
      );
      const page2 = await records.list({ limit: 2, offset: 2 });
      assert.deepEqual(
        page2.items.map((i) => [i.importId, i.status, i.rows, i.invalid]),
        [['imp-aaaaaaaaaaaaaaaa01', 'validated', 10, 1]],
      );
      const products = await records.list({ kind: 'products', limit: 10, offset: 0 });
      assert.equal(products.total, 2);
      const queued = await records.list({ status: 'queued', limit: 10, offset: 0 });
      assert.deepEqual(queued.items.map((i) => i.importId).sort(), [
        'imp-aaaaaaaaaaaaaaaa02',
        'imp-aaaaaaaaaaaaaaaa03',
      ]);
      const window = await records.list({
        createdFrom: iso('2026-11-02T00:00:00Z'),
        createdBefore: iso('2026-11-03T00:00:00Z'),
        limit: 10,
        offset: 0,
      });
      assert.deepEqual(
        window.items.map((i) => i.importId),
        ['imp-aaaaaaaaaaaaaaaa02'],
      );
      assert.deepEqual((await records.removeOlderThan(iso('2026-11-02T12:00:00Z'))).sort(), [
        'imp-aaaaaaaaaaaaaaaa01',
        'imp-aaaaaaaaaaaaaaaa02',
      ]);
      assert.equal((await records.list({ limit: 10, offset: 0 })).total, 1);
    });

    it('job records: an upsert per transition, read back whole, removed by id', async () => {
      const journal = jobRecordsFactory(db);
      const base = {
        queue: 'reports',
        id: 'job-1',
        name: 'render',
        payload: { request: { type: 'daily', date: '2026-12-01' }, n: 1.5 },
        state: 'queued' as const,
        attempts: 0,
        maxAttempts: 3,
        backoffMs: 1000,
        runAtMs: Date.parse('2026-12-02T07:00:00.000Z'),
        createdAtMs: Date.parse('2026-12-02T07:00:00.000Z'),
        startedAtMs: null,
        finishedAtMs: null,
        result: null,
        error: null,
      };
      await journal.save(base);
      const done = {
        ...base,
        state: 'completed' as const,
        attempts: 1,
        startedAtMs: base.createdAtMs + 10,
        finishedAtMs: base.createdAtMs + 900,
        result: { file: 'a.pdf', bytes: 12 },
      };
      await journal.save(done);
      await journal.save({ ...base, queue: 'imports', id: 'job-1' });
      const loaded = await journal.load();
      assert.equal(loaded.length, 2);
      assert.deepEqual(
        loaded.find((r) => r.queue === 'reports'),
        done,
      );
      await journal.remove('reports', ['job-1', 'job-2']);
      assert.deepEqual(
        (await journal.load()).map((r) => r.queue),
        ['imports'],
      );
    });

    it('a claim by 50 concurrent writers has exactly one winner; one sender at a time', async () => {
      const ledger = deliveryLedgerFactory(db);
      const claim = {
        key: 'schedule:s1:2026-12-02:email:a@example.com',
        source: 'schedule' as const,
        sourceId: 's1',
        period: '2026-12-02',
        channel: 'email',
        address: 'a@example.com',
        detail: { name: 'A' },
      };
      const results = await Promise.all(Array.from({ length: 50 }, () => ledger.claim(claim)));
      assert.equal(results.filter((r) => r.claimed).length, 1);
      const ids = new Set(results.map((r) => r.delivery.id));
      assert.equal(ids.size, 1, 'every loser sees the winner’s row');
      const id = [...ids][0] as string;
      assert.equal(results[0]?.delivery.state, 'pending');

      const starts = await Promise.all(Array.from({ length: 10 }, () => ledger.startSending(id, 60_000)));
      assert.equal(starts.filter(Boolean).length, 1, 'one sender holds it');
      assert.equal(await ledger.settle(id, { state: 'sent', providerMessageId: 'm-1' }), true);
      assert.equal(await ledger.settle(id, { state: 'failed', error: 'late' }), false, 'settled once');
      assert.equal(await ledger.startSending(id, 60_000), false, 'a sent delivery is not taken again');
      const row = await ledger.get(id);
      assert.equal(row?.state, 'sent');
      assert.equal(row?.attempts, 1);
      assert.equal(row?.provider_message_id, 'm-1');

      // retrying: taken again only once its time has come
      const other = await ledger.claim({ ...claim, key: `${claim.key}:2` });
      assert.equal(await ledger.startSending(other.delivery.id, 60_000), true);
      const later = new Date(Date.now() + 60_000).toISOString();
      await ledger.settle(other.delivery.id, { state: 'retrying', error: '451', nextAttemptAt: later });
      assert.equal(await ledger.startSending(other.delivery.id, 60_000), false, 'not before next_attempt_at');
    });

    it('claims from four processes at once: one winner among them', async () => {
      const answers = await together(4, [target, 'claim', 'cross-process-key', '10']);
      assert.equal(
        answers.reduce((n, a) => n + (a.won as number), 0),
        1,
      );
    });

    it('ping answers; a closed database is unavailable, as a 503 error', async () => {
      await db.ping();
      const other = createDatabase((await adapter.fresh()).config, logger);
      await other.migrate();
      await other.close();
      await assert.rejects(
        importRecordsFactory(other).list({ limit: 1, offset: 0 }),
        (err: unknown) => err instanceof Error,
      );
      const unavailable = new DatabaseUnavailableError('gone');
      assert.equal(unavailable.status, 503);
      assert.equal(unavailable.code, 'database-unavailable');
    });
  });
}
