/**
 * `salesflow sync` as a child process against the sample upstream: the JSON report and the progress
 * bar (exit codes: cli-exit-codes.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliFixture } from './helpers/cli.ts';

const fx = cliFixture();
const { cli } = fx;

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
