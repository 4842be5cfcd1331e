/**
 * What one hostile import may cost: a workbook within the ZIP limits holding one text of 100
 * million characters is imported by the real app in a process of its own, whose peak RSS stays
 * under 400 MB (it was 611 MB before the XML guard; 450 million characters took 3.3 GB), its row
 * marked invalid, and every answer about it small. And in shared mode, a large upload while Redis
 * is down is a 503 that leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { auth, build } from './helpers/app.ts';
import { longTextWorkbook } from './helpers/long-text-workbook.ts';
import { testDatabaseUrl } from './helpers/postgres.ts';
import { startRedis, uniquePrefix } from './helpers/redis.ts';
import { workbook } from './helpers/spreadsheets.ts';

const execFileAsync = promisify(execFile);
const CHARS = 100_000_000;
const MAX_RSS_MB = 400;

let dir: string;
let upstream: RunningSampleUpstream;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'import-limits-'));
  upstream = await createSampleUpstream({
    port: 0,
    seed: 3,
    stores: 2,
    products: 5,
    days: 2,
    linesPerDay: 5,
    logger: false,
  });
});
after(async () => {
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

interface ChildReport {
  upload: { status: number; bytes: number };
  result: {
    status: number;
    bytes: number;
    body: {
      status: string;
      rows: number;
      valid: number;
      invalid: number;
      errors: { row: number; column: string; value: string; message: string }[];
    };
  };
  errors: { status: number; bytes: number };
  maxRssMb: number;
}

/** Uploads `file` in a fresh process (test/helpers/import-child.ts) and returns what it saw. */
async function importInChild(file: string, env: Record<string, string> = {}): Promise<ChildReport> {
  const exportsDir = await mkdtemp(join(dir, 'exports-'));
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'helpers/import-child.ts'),
      file,
      upstream.url,
      exportsDir,
      'kind=products&onError=skip_invalid',
      JSON.stringify(env),
    ],
    { maxBuffer: 1024 * 1024 },
  );
  return JSON.parse(stdout) as ChildReport;
}

describe('a workbook holding one text of 100 million characters', () => {
  for (const [label, shared, env] of [
    ['as an inline string, answered in the request', false, {}],
    ['as a shared string, imported by a job', true, { IMPORT_INLINE_MAX_KB: '0' }],
  ] as const) {
    test(`${label}: peak RSS under ${MAX_RSS_MB} MB, the row invalid, every answer small`, async () => {
      const bytes = await longTextWorkbook({ chars: CHARS, shared });
      assert.ok(bytes.length < 1024 * 1024, `the file is ${bytes.length} bytes`);
      const file = join(dir, `long-${shared ? 'shared' : 'inline'}.xlsx`);
      await writeFile(file, bytes);

      const report = await importInChild(file, env);
      assert.equal(report.upload.status, shared ? 202 : 200);
      assert.ok(report.maxRssMb < MAX_RSS_MB, `peak RSS ${report.maxRssMb} MB`);

      const { body } = report.result;
      assert.equal(report.result.status, 200);
      assert.deepEqual([body.status, body.rows, body.valid, body.invalid], ['validated', 2, 1, 1]);
      assert.deepEqual(
        body.errors.map((e) => [e.row, e.column, e.message, e.value.length]),
        [
          [
            2,
            'Product Name',
            'Product Name holds at least 65536 characters, more than the 32767 a cell may hold',
            201,
          ],
        ],
      );
      // the answers about it: the result (the upload's own answer is the same document) and the
      // error workbook, which holds the cell cut to the 32,767 characters Excel opens
      assert.ok(report.result.bytes < 10_000, `the result is ${report.result.bytes} bytes`);
      assert.equal(report.errors.status, 200);
      assert.ok(report.errors.bytes < 1024 * 1024, `the error workbook is ${report.errors.bytes} bytes`);
    });
  }
});

test('shared mode: a large upload while Redis is down is a 503 naming the queue, and leaves nothing behind', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  if (!redis.kill || !redis.restart) return t.skip('needs a private redis-server to stop it');
  const exportsDir = await mkdtemp(join(dir, 'shared-'));
  const app = await build(t, {
    UPSTREAM_URL: upstream.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: uniquePrefix('imports'),
    DATABASE_URL: await testDatabaseUrl(t, 'import_limits'),
    EXPORTS_DIR: exportsDir,
    // every upload is "large": it is stored and queued
    IMPORT_INLINE_MAX_KB: '0',
  });
  const file = await workbook({
    rows: [
      ['SKU', 'Product Name', 'Category', 'Price'],
      ['Q-1', 'Queued', 'Misc', 1.5],
    ],
  });
  const boundary = 'RedisDownBoundary';
  const upload = () =>
    app.inject({
      method: 'POST',
      url: '/api/v1/excel/upload?kind=products',
      headers: { ...auth('admin'), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="q.xlsx"\r\n` +
            'Content-Type: application/octet-stream\r\n\r\n',
        ),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    });
  const queued = await upload();
  assert.equal(queued.statusCode, 202, 'queued while Redis is up');
  const statusUrl = (queued.json() as { statusUrl: string }).statusUrl;

  await redis.kill();
  try {
    const res = await upload();
    assert.equal(res.statusCode, 503, res.body);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const problem = res.json() as Record<string, unknown>;
    assert.equal(problem.type, 'urn:salesflow:problem:queue-unavailable');
    assert.match(
      String(problem.detail),
      /^The import could not be queued: job queue unavailable: .+; nothing was kept/,
    );
    // the import queued before (no worker runs here): its state is the queue's, unreadable for now
    const status = await app.inject({ url: statusUrl, headers: auth('admin') });
    assert.equal(status.statusCode, 503, status.body);
    assert.equal(status.json().type, 'urn:salesflow:problem:queue-unavailable');
  } finally {
    await redis.restart();
  }
  // nothing half-written: one import recorded and stored, the one queued before the outage
  const list = await app.inject({ url: '/api/v1/excel/imports', headers: auth('admin') });
  assert.equal(list.statusCode, 200, list.body);
  assert.equal((list.json() as { total: number }).total, 1);
  assert.equal((await readdir(join(exportsDir, 'imports'))).length, 1);
});
