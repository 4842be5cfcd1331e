/**
 * Alerts: one row per (rule, entity), its lifecycle state and its latest detection (JSON). The
 * check reads the rows it needs and writes back what changed in one transaction; people read,
 * acknowledge and snooze them.
 */
import type { AlertListQuery, AlertRecord } from '../../models/alert-book.ts';
import type { Db } from '../database.ts';
import { guarded } from '../db-errors.ts';
import type { AlertsTable } from '../schema.ts';

function toRow(a: AlertRecord): AlertsTable {
  return {
    id: a.id,
    rule_id: a.ruleId,
    entity_id: a.entity.id,
    entity_level: a.entity.level,
    entity_name: a.entity.name,
    store_id: a.entity.storeId ?? null,
    product_id: a.entity.productId ?? null,
    metric: a.metric,
    kind: a.kind,
    direction: a.direction,
    state: a.state,
    severity: a.severity,
    score: a.score,
    money: a.moneyAtStake,
    first_seen: a.firstSeen,
    last_seen: a.lastSeen,
    last_checked: a.lastChecked,
    consecutive: a.consecutive,
    episodes: a.episodes,
    fired_on: a.firedOn,
    resolved_on: a.resolvedOn,
    acknowledged: a.acknowledged ? 1 : 0,
    acknowledged_at: a.acknowledged?.at ?? null,
    acknowledged_by: a.acknowledged?.by ?? null,
    snoozed_until: a.snoozedUntil,
    last_notified_at: a.lastNotifiedAt,
    last_notified_day: a.lastNotifiedDay,
    detection: JSON.stringify(a.detection),
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

function fromRow(r: AlertsTable): AlertRecord {
  const detection = JSON.parse(r.detection) as AlertRecord['detection'];
  return {
    id: r.id,
    ruleId: r.rule_id,
    entity: detection.entity,
    metric: r.metric as AlertRecord['metric'],
    kind: r.kind as AlertRecord['kind'],
    direction: r.direction as AlertRecord['direction'],
    state: r.state as AlertRecord['state'],
    severity: r.severity as AlertRecord['severity'],
    score: r.score === null ? null : Number(r.score),
    moneyAtStake: Number(r.money),
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    lastChecked: r.last_checked,
    consecutive: r.consecutive,
    episodes: r.episodes,
    firedOn: r.fired_on,
    resolvedOn: r.resolved_on,
    acknowledged:
      r.acknowledged === 1 ? { at: r.acknowledged_at ?? r.updated_at, by: r.acknowledged_by ?? '' } : null,
    snoozedUntil: r.snoozed_until,
    lastNotifiedAt: r.last_notified_at,
    lastNotifiedDay: r.last_notified_day,
    detection,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const ACK_COLUMNS = ['acknowledged', 'acknowledged_at', 'acknowledged_by'] as const;

/** Rows per statement: well under SQLite's bound variables, whatever the column count. */
const BATCH = 200;

export function alertRecordsFactory(db: Db) {
  const { k } = db;
  return guarded({
    async get(id: string): Promise<AlertRecord | undefined> {
      const row = await k.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },

    /** The alerts with these ids (any state), and every open one (pending or firing). */
    async forCheck(ids: readonly string[]): Promise<AlertRecord[]> {
      const byId = new Map<string, AlertRecord>();
      const open = await k.selectFrom('alerts').selectAll().where('state', '!=', 'resolved').execute();
      for (const r of open) byId.set(r.id, fromRow(r));
      const wanted = ids.filter((id) => !byId.has(id));
      for (let i = 0; i < wanted.length; i += BATCH) {
        const rows = await k
          .selectFrom('alerts')
          .selectAll()
          .where('id', 'in', wanted.slice(i, i + BATCH))
          .execute();
        for (const r of rows) byId.set(r.id, fromRow(r));
      }
      return [...byId.values()];
    },

    /**
     * Inserts or updates each alert, all in one transaction. What people set (acknowledgement,
     * snooze) is left as it stands in the row, so an ack made while a check ran is kept; a new
     * episode (`newEpisode`) clears the acknowledgement.
     */
    async save(alerts: readonly AlertRecord[], newEpisode: (a: AlertRecord) => boolean): Promise<void> {
      if (alerts.length === 0) return;
      const groups = [alerts.filter(newEpisode), alerts.filter((a) => !newEpisode(a))];
      await k.transaction().execute(async (tx) => {
        for (const [g, group] of groups.entries()) {
          const keep = new Set<string>(['id', 'created_at', 'snoozed_until']);
          if (g === 1) for (const col of ACK_COLUMNS) keep.add(col);
          for (let i = 0; i < group.length; i += BATCH) {
            const rows = group.slice(i, i + BATCH).map(toRow);
            await tx
              .insertInto('alerts')
              .values(rows)
              .onConflict((oc) =>
                oc.column('id').doUpdateSet((eb) => {
                  const set: Record<string, unknown> = {};
                  for (const col of Object.keys(rows[0]!)) {
                    if (!keep.has(col)) set[col] = eb.ref(`excluded.${col}` as `excluded.id`);
                  }
                  return set as never;
                }),
              )
              .execute();
          }
        }
      });
    },

    /** Newest anomalies first (lastSeen), then the most money at stake. */
    async list(q: AlertListQuery): Promise<{ items: AlertRecord[]; total: number }> {
      let query = k.selectFrom('alerts');
      if (q.state) query = query.where('state', '=', q.state);
      if (q.severity) query = query.where('severity', '=', q.severity);
      if (q.rule) query = query.where('rule_id', '=', q.rule);
      if (q.from) query = query.where('last_seen', '>=', q.from);
      if (q.to) query = query.where('first_seen', '<=', q.to);
      const entity = q.entity;
      if (entity)
        query = query.where((eb) =>
          eb.or([eb('entity_id', '=', entity), eb('store_id', '=', entity), eb('product_id', '=', entity)]),
        );
      const [rows, count] = await Promise.all([
        query
          .selectAll()
          .orderBy('last_seen', 'desc')
          .orderBy('money', 'desc')
          .orderBy('id')
          .limit(q.limit)
          .offset(q.offset)
          .execute(),
        query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map(fromRow), total: Number(count.n) };
    },

    /** Acknowledges the alert (its current episode); false when there is no such alert. */
    async acknowledge(id: string, by: string, at: string): Promise<boolean> {
      const result = await k
        .updateTable('alerts')
        .set({ acknowledged: 1, acknowledged_at: at, acknowledged_by: by, updated_at: at })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async snooze(id: string, until: string | null, at: string): Promise<boolean> {
      const result = await k
        .updateTable('alerts')
        .set({ snoozed_until: until, updated_at: at })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  });
}

export type AlertRecords = ReturnType<typeof alertRecordsFactory>;
