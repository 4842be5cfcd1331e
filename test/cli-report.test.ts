/**
 * `salesflow report` as a child process against the sample upstream: the file, its progress and
 * the JSON summary (exit codes: cli-exit-codes.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { runCli } from './helpers/cli.ts';

let upstream: RunningSampleUpstream;
let dir: string;
before(async () => {
  upstream = await createSampleUpstream({
    port: 0,
    seed: 21,
    stores: 3,
    products: 20,
    days: 40,
    linesPerDay: 300,
    endDate: '2026-06-14',
    logger: false,
  });
  dir = await mkdtemp(join(tmpdir(), 'salesflow-cli-'));
});
after(async () => {
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(args, { UPSTREAM_URL: upstream.url, ANALYTICS_TODAY: '2026-06-15', EXPORTS_DIR: dir, ...env });

test('report daily --format pdf --out FILE: rendered by the report service, progress shown', async () => {
  const out = join(dir, 'daily.pdf');
  const run = await cli([
    '--progress',
    'report',
    'daily',
    '--date',
    '2026-06-14',
    '--format',
    'pdf',
    '--out',
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^wrote .*daily\.pdf \(\d+(\.\d)? KiB, daily pdf, job rep-/);
  assert.match(run.stderr, /report daily \|.*\| 100% \| completed/);
  const pdf = await readFile(out);
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');

  const json = await cli([
    '--json',
    'report',
    'daily',
    '--date',
    '2026-06-14',
    '--format',
    'xlsx',
    '--out',
    join(dir, 'd.xlsx'),
  ]);
  assert.equal(json.code, 0, json.stderr);
  const summary = JSON.parse(json.stdout) as { bytes: number; sha256: string; format: string };
  assert.equal(summary.format, 'xlsx');
  assert.equal(summary.bytes, (await readFile(join(dir, 'd.xlsx'))).length);
});
