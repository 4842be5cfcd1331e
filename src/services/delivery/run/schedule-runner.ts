/**
 * What makes schedules fire by themselves.
 * - embedded: a croner timer per enabled schedule, in this process;
 * - shared: a BullMQ job scheduler per enabled schedule (one fire across all instances), whose
 *   `fire` jobs a worker turns into runs (`fire` below).
 * Both tick every enabled schedule at start, so the periods missed while nothing ran are caught up,
 * and both sweep runs stuck in `working` and sends whose lease ran out.
 */
import { Cron } from 'croner';
import type { ScheduleRunsRepo } from '../../../db/repos/schedule-runs.ts';
import type { StoredSchedule } from '../../../db/repos/schedules.ts';
import type { BullmqSchedulers } from '../../../jobs/bullmq-schedulers.ts';
import type { ScheduleTicker } from './schedule-ticker.ts';

const SWEEP_EVERY_MS = 60_000;
const RETRY_START_MS = 30_000;

export interface ScheduleRunnerDeps {
  listEnabled(): Promise<StoredSchedule[]>;
  load(id: string): Promise<StoredSchedule | undefined>;
  ticker: ScheduleTicker;
  runs: Pick<ScheduleRunsRepo, 'expireWorking'>;
  expireLeases(): Promise<number>;
  /** hands deliveries whose sender is gone to a new one; how many */
  resumeStalled(): Promise<number>;
  workingTimeoutMs: number;
  /** shared mode: the job schedulers; absent: croner timers in this process */
  schedulers?: BullmqSchedulers;
  /** the daily alert check (ALERTS_CRON in BUSINESS_TZ), when alerts are wired */
  alerts?: { cron: string; tz: string; check(): Promise<unknown> };
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void };
  now?: () => number;
}

export const ALERTS_SCHEDULER_ID = 'alerts-check';

export function scheduleRunnerFactory(deps: ScheduleRunnerDeps) {
  const now = deps.now ?? Date.now;
  const timers = new Map<string, Cron>();
  let alertsTimer: Cron | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let started = false;
  let retry: NodeJS.Timeout | undefined;

  async function fire(scheduleId: string): Promise<number> {
    const schedule = await deps.load(scheduleId);
    if (!schedule) return 0;
    return deps.ticker.tick(schedule, now());
  }

  function arm(s: StoredSchedule) {
    timers.get(s.id)?.stop();
    timers.delete(s.id);
    if (!s.enabled) return;
    timers.set(
      s.id,
      new Cron(s.cron, { timezone: s.timezone, protect: true, unref: true }, async () => {
        await fire(s.id).catch((err: unknown) =>
          deps.logger.warn({ err, scheduleId: s.id }, 'schedule fire failed; the next fire catches up'),
        );
      }),
    );
  }

  async function arming() {
    const enabled = await deps.listEnabled();
    if (deps.schedulers) {
      const ids = new Set(enabled.map((s) => s.id));
      for (const id of await deps.schedulers.ids())
        if (!ids.has(id) && id !== ALERTS_SCHEDULER_ID) await deps.schedulers.remove(id);
      if (deps.alerts)
        await deps.schedulers.upsert({
          id: ALERTS_SCHEDULER_ID,
          pattern: deps.alerts.cron,
          tz: deps.alerts.tz,
          job: { name: 'alerts-check', data: {} },
        });
    } else if (deps.alerts) {
      const alerts = deps.alerts;
      alertsTimer ??= new Cron(alerts.cron, { timezone: alerts.tz, protect: true, unref: true }, async () => {
        await alerts
          .check()
          .catch((err: unknown) => deps.logger.warn({ err }, 'scheduled alert check failed'));
      });
    }
    let caughtUp = 0;
    for (const s of enabled) {
      await upsert(s);
      caughtUp += await deps.ticker.tick(s, now());
    }
    deps.logger.info(
      { schedules: enabled.length, caughtUp, mode: deps.schedulers ? 'bullmq' : 'croner' },
      'schedules armed',
    );
    sweeper = setInterval(() => {
      sweep().catch((err: unknown) => deps.logger.warn({ err }, 'schedule sweep failed'));
    }, SWEEP_EVERY_MS);
    sweeper.unref();
  }

  async function sweep() {
    const expired = await deps.runs.expireWorking(new Date(now() - deps.workingTimeoutMs).toISOString());
    const unknown = await deps.expireLeases();
    const resumed = await deps.resumeStalled();
    if (expired || unknown || resumed)
      deps.logger.warn({ expired, unknown, resumed }, 'stale runs and sends marked, stalled sends resumed');
  }

  async function upsert(s: StoredSchedule) {
    if (!deps.schedulers) return arm(s);
    if (s.enabled)
      await deps.schedulers.upsert({
        id: s.id,
        pattern: s.cron,
        tz: s.timezone,
        job: { name: 'fire', data: { scheduleId: s.id } },
      });
    else await deps.schedulers.remove(s.id);
  }

  return {
    fire,
    sweep,

    /**
     * Arms every enabled schedule and catches up what was missed. Idempotent. When the database or
     * Redis is not there, it says so and tries again in a while: the API still starts.
     */
    async start(): Promise<void> {
      if (started) return;
      started = true;
      try {
        await arming();
      } catch (err) {
        started = false;
        deps.logger.warn({ err }, `schedules not armed; trying again in ${RETRY_START_MS / 1000} s`);
        retry = setTimeout(() => void this.start(), RETRY_START_MS);
        retry.unref();
      }
    },

    /** After a schedule was created, changed or deleted (`schedule` undefined). */
    /** After a schedule was created, changed or deleted (`schedule` undefined). */
    async changed(id: string, schedule: StoredSchedule | undefined): Promise<void> {
      if (!started) return;
      if (schedule) return upsert(schedule);
      if (deps.schedulers) await deps.schedulers.remove(id);
      timers.get(id)?.stop();
      timers.delete(id);
    },

    async close(): Promise<void> {
      for (const t of timers.values()) t.stop();
      timers.clear();
      alertsTimer?.stop();
      if (sweeper) clearInterval(sweeper);
      if (retry) clearTimeout(retry);
      await deps.schedulers?.close();
    },
  };
}

export type ScheduleRunner = ReturnType<typeof scheduleRunnerFactory>;
