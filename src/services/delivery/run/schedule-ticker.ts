/**
 * Turns fire times into runs. Whatever calls it (croner in embedded mode, a BullMQ job scheduler's
 * fire in shared mode, start-up after downtime) and however often, it enqueues each due period
 * once: the run's job id is derived from (schedule, period), so a second call, another instance or
 * a DST re-fire finds the job that exists.
 *
 * Catch-up: the fires since the schedule's last recorded fire, at most `catchUp.maxPeriods` of
 * them (the newest), each enqueued as its own period; those older than the grace are late.
 */
import type { ScheduleRunsRepo } from '../../../db/repos/schedule-runs.ts';
import type { StoredSchedule } from '../../../db/repos/schedules.ts';
import type { RunSchedulePayload } from '../../../jobs/job-registry.ts';
import { firesBetween, periodFor } from '../schedule-fns.ts';
import { automaticRunId } from './run-plan-fns.ts';

/** A fire handled within this long of its time is on time; later, it is late. */
export const LATE_GRACE_MS = 5 * 60_000;
/** croner may call a little early or late: a fire within this much of "now" is due. */
const CLOCK_SLACK_MS = 2_000;

export interface TickerDeps {
  runs: Pick<ScheduleRunsRepo, 'lastFire'>;
  enqueueRun(payload: RunSchedulePayload): Promise<{ created: boolean }>;
}

/** The runs due for a schedule at `nowMs`, oldest first (pure but for the last fire it is given). */
export function dueRuns(schedule: StoredSchedule, lastFireMs: number, nowMs: number): RunSchedulePayload[] {
  const max = Math.max(1, schedule.options.catchUp.maxPeriods);
  const fires = firesBetween(schedule.cron, schedule.timezone, lastFireMs, nowMs + CLOCK_SLACK_MS, max);
  const byPeriod = new Map<string, RunSchedulePayload>();
  for (const fire of fires) {
    const late = nowMs - fire > LATE_GRACE_MS;
    if (late && schedule.options.catchUp.maxPeriods === 0) continue;
    const period = periodFor(schedule.report.type, fire, schedule.timezone).key;
    // Two fires of one period (a cron firing twice a day for a daily report): one run.
    if (byPeriod.has(period)) continue;
    byPeriod.set(period, {
      scheduleId: schedule.id,
      runId: automaticRunId(schedule.id, period),
      period,
      fireAt: new Date(fire).toISOString(),
      trigger: late ? 'catch_up' : 'cron',
      late,
    });
  }
  return [...byPeriod.values()];
}

export function scheduleTickerFactory(deps: TickerDeps) {
  return {
    /** Enqueues the schedule's due runs; how many were new. */
    async tick(schedule: StoredSchedule, nowMs: number): Promise<number> {
      if (!schedule.enabled) return 0;
      const last = await deps.runs.lastFire(schedule.id);
      const since = Math.max(Date.parse(last ?? schedule.createdAt), Date.parse(schedule.createdAt));
      let created = 0;
      for (const run of dueRuns(schedule, since, nowMs)) {
        if ((await deps.enqueueRun(run)).created) created++;
      }
      return created;
    },
  };
}

export type ScheduleTicker = ReturnType<typeof scheduleTickerFactory>;
