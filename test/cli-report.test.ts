/**
 * `salesflow report` as a child process against the sample upstream: the file, its progress and
 * the JSON summary (exit codes: cli-exit-codes.test.ts).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliFixture } from './helpers/cli.ts';

const fx = cliFixture();
const { cli } = fx;

test('report daily --format pdf --out FILE: rendered by the report service, progress shown', async () => {
  const out = join(fx.dir, 'daily.pdf');
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
    join(fx.dir, 'd.xlsx'),
  ]);
  assert.equal(json.code, 0, json.stderr);
  const summary = JSON.parse(json.stdout) as { bytes: number; sha256: string; format: string };
  assert.equal(summary.format, 'xlsx');
  assert.equal(summary.bytes, (await readFile(join(fx.dir, 'd.xlsx'))).length);
});
