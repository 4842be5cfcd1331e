/**
 * `salesflow alerts check` as a child process against the sample upstream: the alerts it found
 * with their explanations, the message it left in the outbox (no SMTP_URL), JSON for scripts, and
 * nothing sent twice for the same day.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { auth, build, testSqliteFile } from './helpers/app.ts';
import { cliFixture } from './helpers/cli.ts';

const fx = cliFixture();
const { cli } = fx;

test('alerts check: the alerts and their explanations, one message to the outbox, nothing twice', async (t) => {
  // The database the CLI will use, with a recipient on the stock rules (set through the API).
  const database = testSqliteFile();
  const app = await build(t, { UPSTREAM_URL: fx.upstream.url, DATABASE_URL: database });
  for (const id of ['out-of-stock', 'low-cover']) {
    const rule = (await app.inject({ url: `/api/v1/alerts/rules/${id}`, headers: auth('admin') })).json();
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/alerts/rules/${id}`,
      headers: auth('admin'),
      payload: { ...rule, recipients: [{ channel: 'email', address: 'buyer@example.com', name: 'Buyer' }] },
    });
    assert.equal(res.statusCode, 200, res.body);
  }
  await app.close();

  const json = await cli(['--json', 'alerts', 'check'], { DATABASE_URL: database });
  assert.equal(json.code, 0, json.stderr);
  const answer = JSON.parse(json.stdout) as {
    day: string;
    alerts: { id: string; ruleId: string; state: string; notify: string | null; summary: string }[];
    deliveries: { address: string; state: string; alerts: unknown[] }[];
  };
  assert.equal(answer.day, '2026-06-14', 'yesterday by default');
  const stock = answer.alerts.filter((a) => a.ruleId === 'out-of-stock' || a.ruleId === 'low-cover');
  assert.ok(stock.length > 0, json.stdout);
  assert.ok(stock.every((a) => a.state === 'firing' && a.notify === 'firing'));
  assert.deepEqual(
    answer.deliveries.map((d) => [d.address, d.state, d.alerts.length]),
    [['buyer@example.com', 'sent', stock.length]],
  );
  const outbox = join(fx.dir, 'outbox');
  const files = await readdir(outbox);
  assert.equal(files.length, 1, 'one message for the recipient');
  const eml = await readFile(join(outbox, files[0]!), 'utf8');
  assert.match(eml, /^Subject: .*SalesFlow alerts 2026-06-14: \d+ new/m);

  const again = await cli(['--json', 'alerts', 'check', '--date', '2026-06-14'], { DATABASE_URL: database });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(
    [JSON.parse(again.stdout).alerts, JSON.parse(again.stdout).deliveries],
    [[], []],
    'the same day again changes nothing',
  );
  assert.equal((await readdir(outbox)).length, 1, 'and sends nothing');

  // For people: each alert with its explanation (a database of its own: all new).
  const human = await cli(['alerts', 'check']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^checked 2026-06-14: \d+ anomalies; \d+ fired, /);
  assert.ok(human.stdout.includes(`           ${stock[0]!.summary}\n`), human.stdout);
  assert.match(human.stdout, new RegExp(`\\[${stock[0]!.ruleId}\\] ${stock[0]!.id} · notified: firing`));

  const bad = await cli(['--json', 'alerts', 'check', '--date', '2026-06-15'], { DATABASE_URL: database });
  assert.equal(bad.code, 2, 'today is not a closed day');
  assert.match(JSON.parse(bad.stdout).error.message, /body\.date: must be a closed day/);
});
