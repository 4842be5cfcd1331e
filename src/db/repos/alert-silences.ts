/** Silences: no notification for the alerts of a rule and/or an entity until they end. */
import type { Silence } from '../../models/alert-book.ts';
import type { Db } from '../database.ts';
import { guarded } from '../db-errors.ts';
import type { SilencesTable } from '../schema.ts';

export type StoredSilence = Omit<Silence, 'active'>;

function fromRow(r: SilencesTable): StoredSilence {
  return {
    id: r.id,
    ruleId: r.rule_id,
    entityId: r.entity_id,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    comment: r.comment,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

export function alertSilencesFactory(db: Db) {
  const { k } = db;
  return guarded({
    async insert(s: StoredSilence): Promise<void> {
      await k
        .insertInto('silences')
        .values({
          id: s.id,
          rule_id: s.ruleId,
          entity_id: s.entityId,
          starts_at: s.startsAt,
          ends_at: s.endsAt,
          comment: s.comment,
          created_by: s.createdBy,
          created_at: s.createdAt,
        })
        .execute();
    },
    async get(id: string): Promise<StoredSilence | undefined> {
      const row = await k.selectFrom('silences').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async remove(id: string): Promise<boolean> {
      const result = await k.deleteFrom('silences').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    /** In force at `now` (started, not ended). */
    async active(now: string): Promise<StoredSilence[]> {
      const rows = await k
        .selectFrom('silences')
        .selectAll()
        .where('starts_at', '<=', now)
        .where('ends_at', '>', now)
        .orderBy('ends_at')
        .orderBy('id')
        .execute();
      return rows.map(fromRow);
    },
    /** Newest first; `active` true: in force at `now`; false: not in force. */
    async list(filter: { active?: boolean | undefined; now: string; limit: number; offset: number }) {
      let q = k.selectFrom('silences');
      if (filter.active === true)
        q = q.where('starts_at', '<=', filter.now).where('ends_at', '>', filter.now);
      if (filter.active === false)
        q = q.where((eb) => eb.or([eb('starts_at', '>', filter.now), eb('ends_at', '<=', filter.now)]));
      const [rows, count] = await Promise.all([
        q
          .selectAll()
          .orderBy('created_at', 'desc')
          .orderBy('id')
          .limit(filter.limit)
          .offset(filter.offset)
          .execute(),
        q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map(fromRow), total: Number(count.n) };
    },
  });
}

export type AlertSilences = ReturnType<typeof alertSilencesFactory>;
