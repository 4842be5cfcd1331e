/** The list of past imports, newest first, from their records in the metadata database. */
import { dayStartUtc, parseDay } from '../../lib/calendar.ts';
import type { ImportListQuery, ImportSummary } from '../../models/imports.ts';
import { type ImportStore, importLinks } from './import-store.ts';

export function importHistoryFactory({ store, businessTz }: { store: ImportStore; businessTz: string }) {
  /** a business day's first instant, as the records' ISO timestamps */
  const startOf = (day: string, plusDays = 0) =>
    new Date(dayStartUtc((parseDay(day) as number) + plusDays, businessTz)).toISOString();

  return {
    async list(query: ImportListQuery) {
      const { total, items } = await store.list({
        kind: query.kind,
        status: query.status,
        createdFrom: query.from ? startOf(query.from) : undefined,
        createdBefore: query.to ? startOf(query.to, 1) : undefined,
        limit: query.limit,
        offset: query.offset,
      });
      const withLinks: ImportSummary[] = items.map((item) => ({
        ...item,
        links: importLinks(item.importId),
      }));
      return { items: withLinks, total, limit: query.limit, offset: query.offset };
    },
  };
}

export type ImportHistory = ReturnType<typeof importHistoryFactory>;
