/** Alert rules: each stored whole as JSON (the AlertRule, defaults filled in). */
import type { AlertRule } from '../../models/alerts.ts';
import type { Db } from '../database.ts';
import { guarded } from '../db-errors.ts';

export interface StoredRule {
  /** the JSON as stored: the service parses it with the current model */
  rule: unknown;
  createdAt: string;
  updatedAt: string;
}

export function alertRulesRepoFactory(db: Db) {
  const { k } = db;
  const fromRow = (r: { rule: string; created_at: string; updated_at: string }): StoredRule => ({
    rule: JSON.parse(r.rule),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
  return guarded({
    async list(): Promise<StoredRule[]> {
      const rows = await k
        .selectFrom('alert_rules')
        .selectAll()
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(fromRow);
    },
    async get(id: string): Promise<StoredRule | undefined> {
      const row = await k.selectFrom('alert_rules').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    /** false when a rule with this id exists */
    async insert(rule: AlertRule, at: string): Promise<boolean> {
      const inserted = await k
        .insertInto('alert_rules')
        .values({ id: rule.id, rule: JSON.stringify(rule), created_at: at, updated_at: at })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },
    async update(rule: AlertRule, at: string): Promise<boolean> {
      const result = await k
        .updateTable('alert_rules')
        .set({ rule: JSON.stringify(rule), updated_at: at })
        .where('id', '=', rule.id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async remove(id: string): Promise<boolean> {
      const result = await k.deleteFrom('alert_rules').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  });
}

export type AlertRulesRepo = ReturnType<typeof alertRulesRepoFactory>;
