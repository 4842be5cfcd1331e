/** Schedules: fire times across DST and the period each run covers, from the local calendar. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cronProblem, firesBetween, nextFire, periodFor } from '../src/services/delivery/schedule-fns.ts';

const PARIS = 'Europe/Paris';
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

test('a 02:30 Paris schedule fires once on the spring-forward day and once on the fall-back day', () => {
  // 29 March 2026: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that night.
  const spring = firesBetween(
    '30 2 * * *',
    PARIS,
    at('2026-03-28T12:00:00Z'),
    at('2026-03-30T12:00:00Z'),
    10,
  );
  assert.deepEqual(spring.map(iso), ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  // 25 October 2026: 03:00 CEST goes back to 02:00 CET, so 02:30 happens twice; it fires once.
  const autumn = firesBetween(
    '30 2 * * *',
    PARIS,
    at('2026-10-24T12:00:00Z'),
    at('2026-10-26T12:00:00Z'),
    10,
  );
  assert.deepEqual(autumn.map(iso), ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  // Whichever of those instants a fire lands on, the day it reports is the same.
  assert.equal(periodFor('daily', at('2026-10-25T00:30:00Z'), PARIS).key, '2026-10-24');
  assert.equal(periodFor('daily', at('2026-10-25T01:30:00Z'), PARIS).key, '2026-10-24');
});

test('07:00 local follows the zone: UTC hour changes with DST, the local hour does not', () => {
  const winter = nextFire('0 7 * * *', PARIS, at('2026-12-01T12:00:00Z'));
  const summer = nextFire('0 7 * * *', PARIS, at('2026-07-01T12:00:00Z'));
  assert.equal(iso(winter!), '2026-12-02T06:00:00.000Z');
  assert.equal(iso(summer!), '2026-07-02T05:00:00.000Z');
  assert.equal(
    iso(nextFire('0 7 * * *', 'America/New_York', at('2026-12-01T12:00:00Z'))!),
    '2026-12-02T12:00:00.000Z',
  );
});

test('the period comes from the local date of the fire, not the UTC date', () => {
  // 00:30 in Paris on 2 December is still 1 December in UTC: the daily run covers 1 December.
  assert.deepEqual(periodFor('daily', at('2026-12-01T23:30:00Z'), PARIS), {
    key: '2026-12-01',
    from: '2026-12-01',
    to: '2026-12-01',
    reportDate: '2026-12-01',
  });
  // 20:00 in Los Angeles on 1 December is already 2 December in UTC: it covers 30 November.
  assert.equal(periodFor('daily', at('2026-12-02T04:00:00Z'), 'America/Los_Angeles').key, '2026-11-30');
});

test('weekly runs cover the ISO week before; monthly runs the month before, across year ends', () => {
  // Monday 4 January 2027, 07:00 Paris: the week before is 2026-W53 (28 Dec – 3 Jan).
  assert.deepEqual(periodFor('weekly', at('2027-01-04T06:00:00Z'), PARIS), {
    key: '2026-W53',
    from: '2026-12-28',
    to: '2027-01-03',
    reportDate: '2027-01-04',
  });
  // Sunday 3 January 2027 is still in 2026-W53: the week before is 2026-W52.
  assert.equal(periodFor('weekly', at('2027-01-03T06:00:00Z'), PARIS).key, '2026-W52');
  assert.deepEqual(periodFor('monthly', at('2027-01-01T06:00:00Z'), PARIS), {
    key: '2026-12',
    from: '2026-12-01',
    to: '2026-12-31',
    reportDate: '2027-01-01',
  });
  assert.equal(periodFor('monthly', at('2028-03-01T06:00:00Z'), PARIS).to, '2028-02-29');
});

test('catch-up: the fires missed during a 3-day downtime, at most maxPeriods of them', () => {
  const down = at('2026-12-01T12:00:00Z');
  const back = at('2026-12-04T12:00:00Z');
  const missed = firesBetween('0 7 * * *', PARIS, down, back, 5);
  assert.deepEqual(
    missed.map((f) => periodFor('daily', f, PARIS).key),
    ['2026-12-01', '2026-12-02', '2026-12-03'],
  );
  assert.deepEqual(
    firesBetween('0 7 * * *', PARIS, down, back, 2).map((f) => periodFor('daily', f, PARIS).key),
    ['2026-12-02', '2026-12-03'],
    'the latest ones',
  );
});

test('a bad cron pattern is named', () => {
  assert.equal(cronProblem('0 7 * * *'), undefined);
  assert.match(cronProblem('61 7 * * *') ?? '', /minute/);
  assert.ok(cronProblem('every morning'));
});
