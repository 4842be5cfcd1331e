/**
 * Firing with a fake clock: the ticker over a real database, driven minute by minute through the
 * DST changes, by four "instances" at once, and after a downtime. One run per period, always.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { createDatabase } from '../src/db/database.ts';
import { scheduleRunsRepoFactory } from '../src/db/repos/schedule-runs.ts';
import type { StoredSchedule } from '../src/db/repos/schedules.ts';
import type { RunSchedulePayload } from '../src/jobs/job-registry.ts';
import { scheduleTickerFactory } from '../src/services/delivery/run/schedule-ticker.ts';
import { testSqliteFile } from './helpers/app.ts';

async function harness(t: import('node:test').TestContext) {
  const db = createDatabase(
    { kind: 'sqlite', file: testSqliteFile(), timeoutMs: 2_000 },
    pino({ level: 'silent' }),
  );
  await db.migrate();
  t.after(() => db.close());
  const runs = scheduleRunsRepoFactory(db);
  // The queue: a job id that exists is not enqueued again; a new one starts at once (begins its run).
  const jobs = new Map<string, RunSchedulePayload>();
  const ticker = scheduleTickerFactory({
    runs,
    async enqueueRun(p) {
      if (jobs.has(p.runId)) return { created: false };
      jobs.set(p.runId, p);
      await runs.begin({
        id: p.runId,
        scheduleId: p.scheduleId,
        period: p.period!,
        trigger: p.trigger,
        fireAt: p.fireAt,
        late: p.late,
      });
      return { created: true };
    },
  });
  return { runs, jobs, ticker };
}

function schedule(over: Partial<StoredSchedule> = {}): StoredSchedule {
  return {
    id: 'sch-fakeclock01',
    name: 'Paris, 02:30',
    enabled: true,
    report: { type: 'daily', format: 'pdf' },
    cron: '30 2 * * *',
    timezone: 'Europe/Paris',
    recipients: [{ channel: 'email', address: 'a@example.com' }],
    options: {
      skipIfEmpty: false,
      attach: 'auto',
      freshness: { waitMinutes: 0, onIncomplete: 'send_marked' },
      catchUp: { maxPeriods: 1 },
    },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** Ticks every minute from `from` to `to` (UTC), four instances at each tick. */
async function drive(
  ticker: ReturnType<typeof scheduleTickerFactory>,
  s: StoredSchedule,
  from: string,
  to: string,
) {
  for (let now = Date.parse(from); now <= Date.parse(to); now += 60_000) {
    await Promise.all([1, 2, 3, 4].map(() => ticker.tick(s, now)));
  }
}

for (const [label, from, to, fireDay, expected] of [
  // 02:30 does not exist on 29 March in Paris (02:00 -> 03:00): one fire, at 03:00 CEST (01:00 UTC)
  ['spring gap', '2026-03-28T23:00:00Z', '2026-03-29T03:00:00Z', '2026-03-28', '2026-03-29T01:00:00.000Z'],
  // 02:30 happens twice on 25 October (03:00 -> 02:00): one fire, the first (00:30 UTC)
  ['autumn repeat', '2026-10-24T22:00:00Z', '2026-10-25T03:00:00Z', '2026-10-24', '2026-10-25T00:30:00.000Z'],
] as const) {
  test(`DST ${label}: a 02:30 Europe/Paris schedule fires once, four instances ticking`, async (t) => {
    const { jobs, ticker } = await harness(t);
    const s = schedule({ createdAt: new Date(Date.parse(from) - 3_600_000).toISOString() });
    await drive(ticker, s, from, to);
    const runs = [...jobs.values()];
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.period, fireDay, 'the day before the local fire date');
    assert.equal(runs[0]!.fireAt, expected);
    assert.equal(runs[0]!.trigger, 'cron');
    assert.equal(runs[0]!.late, false);
  });
}

test('catch-up after a 3-day downtime sends each missed period once, late; never more than maxPeriods', async (t) => {
  const { jobs, ticker, runs } = await harness(t);
  const s = schedule({
    id: 'sch-catchup0001',
    cron: '0 7 * * *',
    options: { ...schedule().options, catchUp: { maxPeriods: 3 } },
    createdAt: '2026-11-30T12:00:00.000Z',
  });
  // Running normally on 1 December: the 07:00 fire covers 30 November.
  await drive(ticker, s, '2026-12-01T05:58:00Z', '2026-12-01T06:02:00Z');
  assert.deepEqual(
    [...jobs.values()].map((r) => r.period),
    ['2026-11-30'],
  );
  // Down from then until 4 December 09:00 Paris: the fires of 2, 3 and 4 December were missed.
  const back = Date.parse('2026-12-04T08:00:00Z');
  await Promise.all([1, 2, 3, 4].map(() => ticker.tick(s, back)));
  const caught = [...jobs.values()].slice(1);
  assert.deepEqual(
    caught.map((r) => [r.period, r.trigger, r.late]),
    [
      ['2026-12-01', 'catch_up', true],
      ['2026-12-02', 'catch_up', true],
      ['2026-12-03', 'catch_up', true],
    ],
  );
  assert.equal(await ticker.tick(s, back + 60_000), 0, 'nothing twice');
  assert.equal((await runs.list(s.id, { limit: 50, offset: 0 })).total, 4);

  // With maxPeriods 1, only the newest missed period is sent.
  const one = await harness(t);
  const s1 = schedule({ id: 'sch-catchup0002', cron: '0 7 * * *', createdAt: '2026-12-01T05:00:00.000Z' });
  await one.ticker.tick(s1, back);
  assert.deepEqual(
    [...one.jobs.values()].map((r) => r.period),
    ['2026-12-03'],
  );
});

test('a run still working past the timeout is marked error, and running it again counts an attempt', async (t) => {
  const { runs } = await harness(t);
  const run = {
    id: 'run-stuck000001',
    scheduleId: 'sch-x',
    period: '2026-12-01',
    trigger: 'cron',
    fireAt: '2026-12-02T06:00:00.000Z',
    late: false,
  };
  assert.equal(await runs.begin(run), 1);
  assert.equal(await runs.expireWorking(new Date(Date.now() - 60_000).toISOString()), 0, 'not yet');
  assert.equal(await runs.expireWorking(new Date(Date.now() + 60_000).toISOString()), 1);
  const stuck = await runs.get(run.id);
  assert.equal(stuck?.state, 'error');
  assert.match(stuck?.error ?? '', /SCHEDULE_WORKING_TIMEOUT/);
  assert.equal(await runs.begin(run), 2, 'the same run, retried');
  assert.equal((await runs.get(run.id))?.state, 'working');
});
