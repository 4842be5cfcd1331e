/**
 * The `salesflow` CLI's exit codes, as a child process: bad arguments, unknown commands, bad
 * configuration, failed days, and the system of record unavailable.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliFixture } from './helpers/cli.ts';

const fx = cliFixture();
const { cli } = fx;

test('exit codes: 2 for bad arguments and unknown commands, 78 for bad configuration, 3 for failed days', async () => {
  const bad = await cli(['--json', 'sync', '--from', '2026-02-30']);
  assert.equal(bad.code, 2);
  const error = JSON.parse(bad.stdout).error as { message: string; exitCode: number };
  assert.equal(error.exitCode, 2);
  assert.match(error.message, /^from: /);

  const wrong = await cli(['report', 'daily', '--format', 'csv']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /format: daily is pdf or xlsx/);

  const unknown = await cli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);

  const config = await cli(['sync'], { UPSTREAM_URL: 'not a url' });
  assert.equal(config.code, 78);
  assert.match(config.stderr, /UPSTREAM_URL/);

  const failedDays = await cli(['sync', '--from', '2026-06-01', '--to', '2026-06-02'], {
    UPSTREAM_URL: 'http://127.0.0.1:9',
    UPSTREAM_RETRIES: '0',
  });
  assert.equal(failedDays.code, 3, 'a sync with failed days is incomplete');
  assert.match(failedDays.stdout, /2 failed/);
});

test('the system of record down: exit code 4 and the problem in --json', async () => {
  const down = await cli(
    ['--json', 'report', 'daily', '--date', '2026-06-14', '--out', join(fx.dir, 'x.pdf')],
    {
      UPSTREAM_URL: 'http://127.0.0.1:9',
      UPSTREAM_RETRIES: '0',
    },
  );
  assert.equal(down.code, 4, down.stdout + down.stderr);
  assert.equal(JSON.parse(down.stdout).error.status, 502);
});
