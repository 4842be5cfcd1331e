/**
 * Deliveries count an admin's resends of what was already sent: such a copy gets a Message-ID of
 * its own, or mail clients would take it for the first and drop it.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('deliveries')
    .addColumn('resends', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('deliveries').dropColumn('resends').execute();
}
