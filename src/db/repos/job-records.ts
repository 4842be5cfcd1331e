/**
 * The embedded job queue's journal: each job's state, written at every transition, so that a job
 * accepted before a restart is still there after it (queued ones run, interrupted ones run again
 * or fail with a reason). Shared mode keeps jobs in Redis through BullMQ instead.
 */
import type { JobJournal, JobRecord } from '../../jobs/job-journal.ts';
import type { Db } from '../database.ts';
import { guarded } from '../db-errors.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const ms = (text: string | null) => (text === null ? null : Date.parse(text));

export function jobRecordsFactory(db: Db): JobJournal {
  const { k } = db;
  return guarded({
    async save(r: JobRecord): Promise<void> {
      const row = {
        name: r.name,
        payload: JSON.stringify(r.payload),
        state: r.state,
        attempts: r.attempts,
        max_attempts: r.maxAttempts,
        backoff_ms: r.backoffMs,
        run_at: iso(r.runAtMs) as string,
        created_at: iso(r.createdAtMs) as string,
        started_at: iso(r.startedAtMs),
        finished_at: iso(r.finishedAtMs),
        result: r.result === null || r.result === undefined ? null : JSON.stringify(r.result),
        error: r.error,
        updated_at: new Date().toISOString(),
      };
      await k
        .insertInto('job_records')
        .values({ queue: r.queue, id: r.id, ...row })
        .onConflict((oc) => oc.columns(['queue', 'id']).doUpdateSet(row))
        .execute();
    },

    async load(): Promise<JobRecord[]> {
      const rows = await k.selectFrom('job_records').selectAll().orderBy('finished_at').execute();
      return rows.map((r) => ({
        queue: r.queue,
        id: r.id,
        name: r.name,
        payload: JSON.parse(r.payload),
        state: r.state as JobRecord['state'],
        attempts: r.attempts,
        maxAttempts: r.max_attempts,
        backoffMs: r.backoff_ms,
        runAtMs: ms(r.run_at) as number,
        createdAtMs: ms(r.created_at) as number,
        startedAtMs: ms(r.started_at),
        finishedAtMs: ms(r.finished_at),
        result: r.result === null ? null : JSON.parse(r.result),
        error: r.error,
      }));
    },

    async remove(queue: string, ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await k.deleteFrom('job_records').where('queue', '=', queue).where('id', 'in', ids).execute();
    },
  });
}

export type JobRecords = ReturnType<typeof jobRecordsFactory>;
