/**
 * Alerts: the rules (data an admin edits), the alerts (one row per rule and entity, kept across
 * days and episodes) and the silences. A fresh install gets the default rules here, once: a rule
 * an admin deletes later is never seeded again.
 */
import { type Kysely, sql } from 'kysely';
import { DEFAULT_RULES } from '../../models/alerts.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('alert_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('entity_level', 'text', (c) => c.notNull())
    .addColumn('entity_name', 'text', (c) => c.notNull())
    .addColumn('store_id', 'text')
    .addColumn('product_id', 'text')
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('direction', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision')
    .addColumn('money', 'double precision', (c) => c.notNull())
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addColumn('last_checked', 'text', (c) => c.notNull())
    .addColumn('consecutive', 'integer', (c) => c.notNull())
    .addColumn('episodes', 'integer', (c) => c.notNull())
    .addColumn('fired_on', 'text')
    .addColumn('resolved_on', 'text')
    .addColumn('acknowledged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('acknowledged_at', 'text')
    .addColumn('acknowledged_by', 'text')
    .addColumn('snoozed_until', 'text')
    .addColumn('last_notified_at', 'text')
    .addColumn('last_notified_day', 'text')
    .addColumn('detection', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('alerts_rule_entity', ['rule_id', 'entity_id'])
    .execute();
  await db.schema.createIndex('alerts_state').on('alerts').columns(['state', 'rule_id']).execute();
  await db.schema.createIndex('alerts_last_seen').on('alerts').columns(['last_seen', 'id']).execute();

  await db.schema
    .createTable('silences')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('rule_id', 'text')
    .addColumn('entity_id', 'text')
    .addColumn('starts_at', 'text', (c) => c.notNull())
    .addColumn('ends_at', 'text', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('silences_ends_at').on('silences').columns(['ends_at']).execute();

  const at = new Date().toISOString();
  for (const rule of DEFAULT_RULES) {
    await sql`insert into alert_rules (id, rule, created_at, updated_at)
      values (${rule.id}, ${JSON.stringify(rule)}, ${at}, ${at})`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('silences').execute();
  await db.schema.dropTable('alerts').execute();
  await db.schema.dropTable('alert_rules').execute();
}
