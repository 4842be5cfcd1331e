/** Schedule runs count their attempts (a run retried after an error or a crash keeps its row). */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('schedule_runs')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .createIndex('schedule_runs_state')
    .on('schedule_runs')
    .columns(['state', 'started_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('schedule_runs_state').execute();
  await db.schema.alterTable('schedule_runs').dropColumn('attempts').execute();
}
