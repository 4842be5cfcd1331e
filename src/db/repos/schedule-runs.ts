/** The execution log: one row per run of a schedule, its recipients' outcomes as JSON. */
import type { Db } from '../database.ts';
import { guarded } from '../db-errors.ts';
import type { ScheduleRunsTable } from '../schema.ts';

export interface RunStart {
  id: string;
  scheduleId: string;
  period: string;
  trigger: string;
  fireAt: string;
  late: boolean;
}

const now = () => new Date().toISOString();

export function scheduleRunsRepoFactory(db: Db) {
  const { k } = db;
  return guarded({
    /**
     * Marks the run `working`: a new row, or the same row again when the run is retried (after an
     * error, a crash or a timeout). Returns the attempt number.
     */
    async begin(run: RunStart): Promise<number> {
      const at = now();
      await k
        .insertInto('schedule_runs')
        .values({
          id: run.id,
          schedule_id: run.scheduleId,
          period: run.period,
          trigger: run.trigger,
          state: 'working',
          fire_at: run.fireAt,
          started_at: at,
          finished_at: null,
          late: run.late ? 1 : 0,
          outcome: null,
          error: null,
          attempts: 1,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            state: 'working',
            started_at: at,
            finished_at: null,
            error: null,
            attempts: eb('schedule_runs.attempts', '+', 1),
          })),
        )
        .execute();
      const row = await k
        .selectFrom('schedule_runs')
        .select('attempts')
        .where('id', '=', run.id)
        .executeTakeFirst();
      return row?.attempts ?? 1;
    },

    async finish(id: string, state: string, outcome: unknown, error?: string): Promise<void> {
      await k
        .updateTable('schedule_runs')
        .set({ state, finished_at: now(), outcome: JSON.stringify(outcome), error: error ?? null })
        .where('id', '=', id)
        .execute();
    },

    async get(id: string): Promise<ScheduleRunsTable | undefined> {
      return k.selectFrom('schedule_runs').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async list(scheduleId: string, page: { limit: number; offset: number }) {
      const q = k.selectFrom('schedule_runs').where('schedule_id', '=', scheduleId);
      const [items, count] = await Promise.all([
        q
          .selectAll()
          .orderBy('started_at', 'desc')
          .orderBy('id')
          .limit(page.limit)
          .offset(page.offset)
          .execute(),
        q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items, total: Number(count.n) };
    },

    /** The fire time of the newest run the schedule's cron made (catch-up starts after it). */
    async lastFire(scheduleId: string): Promise<string | undefined> {
      const row = await k
        .selectFrom('schedule_runs')
        .select((eb) => eb.fn.max('fire_at').as('last'))
        .where('schedule_id', '=', scheduleId)
        .where('trigger', 'in', ['cron', 'catch_up'])
        .executeTakeFirst();
      return row?.last ?? undefined;
    },

    /** Runs `working` since before `beforeIso` become `error` (they may then be retried); how many. */
    async expireWorking(beforeIso: string): Promise<number> {
      const result = await k
        .updateTable('schedule_runs')
        .set({
          state: 'error',
          finished_at: now(),
          error: 'still working past SCHEDULE_WORKING_TIMEOUT_MINUTES',
        })
        .where('state', '=', 'working')
        .where('started_at', '<', beforeIso)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  });
}

export type ScheduleRunsRepo = ReturnType<typeof scheduleRunsRepoFactory>;
