/**
 * The API process killed with SIGKILL in the middle of a fan-out to 20 recipients (embedded mode:
 * the run is a journaled job in a SQLite file). After the restart the run resumes: nobody gets a
 * second copy, everyone settled before the kill keeps their one message, and a send in flight at
 * the kill ends `sent` or `unknown`, never twice.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { apiChild } from './helpers/api-child.ts';
import { testSqliteFile } from './helpers/app.ts';
import { smallUpstream } from './helpers/small-upstream.ts';
import { waitUntil } from './helpers/wait.ts';

/** An SMTP server that takes 300 ms to accept each message, counting messages per recipient. */
async function slowSmtp(t: TestContext) {
  const got = new Map<string, number>();
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    closeTimeout: 100,
    onData(stream, session, cb) {
      stream.on('data', () => {});
      stream.on('end', () => {
        setTimeout(() => {
          for (const to of session.envelope.rcptTo) got.set(to.address, (got.get(to.address) ?? 0) + 1);
          cb(null);
        }, 300);
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, got };
}

test('SIGKILL in the middle of a fan-out to 20 recipients: after recovery, nobody has two messages', async (t) => {
  const upstream = await smallUpstream(t, 4);
  const smtp = await slowSmtp(t);
  const exportsDir = await mkdtemp(join(tmpdir(), 'salesflow-crash-'));
  t.after(() => rm(exportsDir, { recursive: true, force: true }));
  const api = await apiChild(t, {
    UPSTREAM_URL: upstream.url,
    DATABASE_URL: testSqliteFile(),
    EXPORTS_DIR: exportsDir,
    ANALYTICS_TODAY: '2026-06-15',
    SMTP_URL: smtp.url,
    DELIVERY_CONCURRENCY: '2',
    DELIVERY_TIMEOUT_MS: '2000',
  });
  const { start, up, call } = api;

  const first = start();
  await up();
  const recipients = Array.from({ length: 20 }, (_, i) => ({
    channel: 'email',
    address: `m${i}@example.com`,
  }));
  const created = await call('/api/v1/schedules', {
    name: 'Crash',
    report: { type: 'daily', format: 'pdf' },
    cron: '0 7 * * *',
    recipients,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  const run = await call(`/api/v1/schedules/${id}/run`, { period: '2026-06-14' });
  assert.equal(run.status, 202, JSON.stringify(run.body));

  const total = () => [...smtp.got.values()].reduce((a, b) => a + b, 0);
  await waitUntil('a few messages are out', async () => total() >= 5, 30_000);
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const beforeKill = total();
  assert.ok(beforeKill < 20, 'killed in the middle of the fan-out');

  start();
  await up();
  const statusUrl = (run.body.statusUrl as string).replace(/^\/api\/v1/, '/api/v1');
  let final: Record<string, unknown> = {};
  await waitUntil(
    'the resumed run finishes',
    async () => {
      final = (await call(statusUrl)).body;
      return final.state !== undefined && final.state !== 'working';
    },
    60_000,
  );
  const deliveries = (await call(`/api/v1/deliveries?schedule=${id}&limit=100`)).body.items as {
    address: string;
    state: string;
  }[];
  assert.equal(deliveries.length, 20);
  for (const d of deliveries) {
    const count = smtp.got.get(d.address) ?? 0;
    assert.ok(count <= 1, `${d.address} got ${count} messages`);
    assert.ok(['sent', 'unknown'].includes(d.state), `${d.address} is ${d.state}`);
    if (d.state === 'sent') assert.equal(count, 1, `${d.address} is sent and has its message`);
  }
  const sent = deliveries.filter((d) => d.state === 'sent').length;
  assert.ok(sent >= 18, `at most the sends in flight at the kill are unknown (sent: ${sent})`);
  assert.ok(total() > beforeKill, 'the run resumed after the restart');
  assert.equal((final.attempts as number) >= 2, true, 'the run ran again');
});
