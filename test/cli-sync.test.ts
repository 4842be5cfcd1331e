/**
 * `salesflow sync` as a child process against the sample upstream: the JSON report and the progress
 * bar (exit codes: cli-exit-codes.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
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

test('sync: the JSON report for scripts; a progress bar of days and lines/s for people', async () => {
  const json = await cli(['--json', 'sync', '--from', '2026-06-01', '--to', '2026-06-03']);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as {
    days: number;
    fetched: number;
    lines: number;
    failed: unknown[];
  };
  assert.equal(report.days, 3);
  assert.equal(report.fetched, 3);
  assert.ok(report.lines > 0);
  assert.deepEqual(report.failed, []);
  assert.equal(json.stderr, '', 'no progress bar with --json');

  const human = await cli(['--progress', 'sync', '--from', '2026-06-01', '--to', '2026-06-05']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(
    human.stdout,
    /^synced 2026-06-01\.\.2026-06-05: 5 days \(5 fetched, 0 reused, 0 failed\), \d+ lines/,
  );
  assert.match(human.stderr, /5\/5 days \| \d+ lines \| \d+ lines\/s/);
});
