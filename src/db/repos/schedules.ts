/** Schedules: stored whole, their report, recipients and options as JSON documents. */
import type { Schedule } from '../../models/schedules.ts';
import type { Db } from '../database.ts';
import { guarded } from '../db-errors.ts';
import type { SchedulesTable } from '../schema.ts';

export type StoredSchedule = Omit<Schedule, 'nextRunAt'>;

function toRow(s: StoredSchedule): SchedulesTable {
  return {
    id: s.id,
    name: s.name,
    enabled: s.enabled ? 1 : 0,
    report: JSON.stringify(s.report),
    cron: s.cron,
    timezone: s.timezone,
    recipients: JSON.stringify(s.recipients),
    options: JSON.stringify(s.options),
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

function fromRow(r: SchedulesTable): StoredSchedule {
  return {
    id: r.id,
    name: r.name,
    enabled: r.enabled === 1,
    report: JSON.parse(r.report),
    cron: r.cron,
    timezone: r.timezone,
    recipients: JSON.parse(r.recipients),
    options: JSON.parse(r.options),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function schedulesRepoFactory(db: Db) {
  const { k } = db;
  return guarded({
    async insert(s: StoredSchedule): Promise<void> {
      await k.insertInto('schedules').values(toRow(s)).execute();
    },
    async get(id: string): Promise<StoredSchedule | undefined> {
      const row = await k.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async update(s: StoredSchedule): Promise<boolean> {
      const { id, created_at, ...rest } = toRow(s);
      const result = await k.updateTable('schedules').set(rest).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async remove(id: string): Promise<boolean> {
      const result = await k.deleteFrom('schedules').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async list(filter: { enabled?: boolean | undefined; limit: number; offset: number }) {
      let q = k.selectFrom('schedules');
      if (filter.enabled !== undefined) q = q.where('enabled', '=', filter.enabled ? 1 : 0);
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy('created_at').orderBy('id').limit(filter.limit).offset(filter.offset).execute(),
        q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map(fromRow), total: Number(count.n) };
    },
  });
}

export type SchedulesRepo = ReturnType<typeof schedulesRepoFactory>;
