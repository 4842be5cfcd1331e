/**
 * The embedded queue's journal: where its jobs are written at every transition (the metadata
 * database, see src/db/repos/job-records.ts), so that a job accepted is never silently lost when
 * the API restarts. On start the queue reads it back: queued jobs run; a job that was running when
 * the process stopped runs again if it has attempts left, else fails with "interrupted by restart".
 */
import type { JobLogger, JobState } from './queue-types.ts';

export interface JobRecord {
  queue: string;
  id: string;
  name: string;
  payload: unknown;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  backoffMs: number;
  runAtMs: number;
  createdAtMs: number;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  result: unknown;
  error: string | null;
}

export interface JobJournal {
  save(record: JobRecord): Promise<void>;
  load(): Promise<JobRecord[]>;
  remove(queue: string, ids: string[]): Promise<void>;
}

export const INTERRUPTED = 'interrupted by restart';

/** What a record read at start becomes: a job that was running did not finish. */
export function restoredRecord(r: JobRecord, nowMs: number): JobRecord {
  if (r.state !== 'active') return r;
  if (r.attempts < r.maxAttempts) return { ...r, state: 'queued', runAtMs: nowMs, error: INTERRUPTED };
  return { ...r, state: 'failed', finishedAtMs: nowMs, error: INTERRUPTED };
}

/**
 * Writes records in order per job (a later state never lands before an earlier one) and lets
 * close() wait for what is still being written. A failed write is logged: the queue goes on in
 * memory, and the job's next transition writes its whole record again.
 */
export function journalWriter(journal: JobJournal, logger: JobLogger) {
  const chains = new Map<string, Promise<void>>();
  const keyOf = (queue: string, id: string) => `${queue}\u0000${id}`;

  function enqueueWrite(key: string, write: () => Promise<void>): Promise<void> {
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous.then(write, write);
    const tracked = next.catch(() => {});
    chains.set(key, tracked);
    void tracked.then(() => {
      if (chains.get(key) === tracked) chains.delete(key);
    });
    return next;
  }

  return {
    /** Resolves once written; rejects when the write failed (enqueue must know). */
    save(record: JobRecord): Promise<void> {
      return enqueueWrite(keyOf(record.queue, record.id), () => journal.save(record));
    },
    /** Fire and forget: a failure is logged. */
    saveLater(record: JobRecord): void {
      this.save(record).catch((err: unknown) =>
        logger.warn(
          { queue: record.queue, jobId: record.id, state: record.state, err: String(err) },
          'could not record the job state; it will be written again at its next transition',
        ),
      );
    },
    removeLater(queue: string, ids: string[]): void {
      if (ids.length === 0) return;
      journal
        .remove(queue, ids)
        .catch((err: unknown) =>
          logger.warn({ queue, jobs: ids.length, err: String(err) }, 'could not drop finished job records'),
        );
    },
    async flush(): Promise<void> {
      await Promise.all([...chains.values()]);
    },
  };
}
