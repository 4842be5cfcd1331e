/** `salesflow schedules list|run` as a child process: the same run path as the API, .eml to the outbox. */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { auth, build, testSqliteFile } from './helpers/app.ts';
import { cliFixture } from './helpers/cli.ts';

const fx = cliFixture();

test('schedules list, run --dry-run, run: each manager gets one message, once', async (t) => {
  const database = testSqliteFile();
  const app = await build(t, {
    UPSTREAM_URL: fx.upstream.url,
    ANALYTICS_TODAY: '2026-06-15',
    DATABASE_URL: database,
    SCHEDULER_ENABLED: 'false',
  });
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/schedules',
    headers: auth('admin'),
    payload: {
      name: 'CLI managers',
      report: { type: 'daily', format: 'pdf' },
      cron: '0 7 * * *',
      recipients: [
        { channel: 'email', address: 'one@example.com', slice: { storeId: '1' } },
        { channel: 'email', address: 'two@example.com', slice: { storeId: '2' } },
      ],
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  await app.close();
  const env = { DATABASE_URL: database };

  const list = await fx.cli(['schedules', 'list'], env);
  assert.equal(list.code, 0, list.stderr);
  assert.match(
    list.stdout,
    new RegExp(`${id}\\s+on\\s+0 7 \\* \\* \\* Europe/Paris\\s+daily pdf\\s+2 recipient`),
  );

  const dry = await fx.cli(['--json', 'schedules', 'run', id, '--period', '2026-06-14', '--dry-run'], env);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(JSON.parse(dry.stdout).renders, 2);

  const run = await fx.cli(['schedules', 'run', id, '--period', '2026-06-14'], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /period 2026-06-14, success/);
  assert.match(run.stdout, /email one@example.com {2}store:1 {2}sent/);
  const outbox = join(fx.dir, 'outbox');
  assert.equal((await readdir(outbox)).filter((f) => f.endsWith('.eml')).length, 2);

  const again = await fx.cli(['--json', 'schedules', 'run', id, '--period', '2026-06-14'], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).state, 'success');
  assert.equal((await readdir(outbox)).filter((f) => f.endsWith('.eml')).length, 2, 'nothing sent twice');

  const bad = await fx.cli(['schedules', 'run', id, '--period', '2026-W10'], env);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /body\.period|YYYY-MM-DD/);
});
