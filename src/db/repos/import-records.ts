/**
 * Import records: the request of each upload, its state, and its result once finished, so that an
 * import can be read back by any instance and past imports can be listed. The uploaded file and
 * the error workbook stay on disk under EXPORTS_DIR/imports.
 */
import type { ImportKind, ImportResult, ImportStatus, ImportSummary } from '../../models/imports.ts';
import type { Db } from '../database.ts';
import { guarded } from '../db-errors.ts';

/** What the import service stores when an upload is accepted (see services/imports/import-store.ts). */
export interface StoredImportRequest {
  importId: string;
  options: { kind: string; mode: string; onError: string };
  file: { name: string; bytes: number; format: string };
  createdAt: string;
}

export interface ImportFilter {
  kind?: string | undefined;
  status?: string | undefined;
  /** ISO instants: created at or after, and before */
  createdFrom?: string | undefined;
  createdBefore?: string | undefined;
  limit: number;
  offset: number;
}

export function importRecordsFactory(db: Db) {
  const { k } = db;
  return guarded({
    async insert(request: StoredImportRequest): Promise<void> {
      await k
        .insertInto('imports')
        .values({
          id: request.importId,
          kind: request.options.kind,
          mode: request.options.mode,
          on_error: request.options.onError,
          status: 'queued',
          file_name: request.file.name,
          file_bytes: request.file.bytes,
          file_format: request.file.format,
          request: JSON.stringify(request),
          result: null,
          rows: 0,
          valid: 0,
          invalid: 0,
          created_at: request.createdAt,
          updated_at: new Date().toISOString(),
          finished_at: null,
        })
        .execute();
    },

    async request<T extends StoredImportRequest>(importId: string): Promise<T | null> {
      const row = await k
        .selectFrom('imports')
        .select('request')
        .where('id', '=', importId)
        .executeTakeFirst();
      return row ? (JSON.parse(row.request) as T) : null;
    },

    async markRunning(importId: string): Promise<void> {
      await k
        .updateTable('imports')
        .set({ status: 'running', updated_at: new Date().toISOString() })
        .where('id', '=', importId)
        .where('result', 'is', null)
        .execute();
    },

    async saveResult(result: ImportResult): Promise<void> {
      await k
        .updateTable('imports')
        .set({
          status: result.status,
          result: JSON.stringify(result),
          rows: result.rows,
          valid: result.valid,
          invalid: result.invalid,
          updated_at: new Date().toISOString(),
          finished_at: result.finishedAt,
        })
        .where('id', '=', result.importId)
        .execute();
    },

    async result(importId: string): Promise<ImportResult | null> {
      const row = await k
        .selectFrom('imports')
        .select('result')
        .where('id', '=', importId)
        .executeTakeFirst();
      return row?.result ? (JSON.parse(row.result) as ImportResult) : null;
    },

    /** Newest first. */
    async list(query: ImportFilter): Promise<{ total: number; items: Omit<ImportSummary, 'links'>[] }> {
      let q = k.selectFrom('imports');
      if (query.kind) q = q.where('kind', '=', query.kind);
      if (query.status) q = q.where('status', '=', query.status);
      if (query.createdFrom) q = q.where('created_at', '>=', query.createdFrom);
      if (query.createdBefore) q = q.where('created_at', '<', query.createdBefore);
      const [rows, count] = await Promise.all([
        q
          .select([
            'id',
            'kind',
            'mode',
            'on_error',
            'status',
            'file_name',
            'file_bytes',
            'file_format',
            'rows',
            'valid',
            'invalid',
            'created_at',
            'finished_at',
          ])
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(query.limit)
          .offset(query.offset)
          .execute(),
        q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return {
        total: Number(count.n),
        items: rows.map((r) => ({
          importId: r.id,
          kind: r.kind as ImportKind,
          mode: r.mode as ImportSummary['mode'],
          onError: r.on_error as ImportSummary['onError'],
          status: r.status as ImportStatus,
          file: { name: r.file_name, bytes: r.file_bytes, format: r.file_format as 'xlsx' | 'csv' },
          rows: r.rows,
          valid: r.valid,
          invalid: r.invalid,
          createdAt: r.created_at,
          finishedAt: r.finished_at,
        })),
      };
    },

    async remove(importId: string): Promise<void> {
      await k.deleteFrom('imports').where('id', '=', importId).execute();
    },

    /** Deletes records created before `before` (ISO); returns the ids, whose folders go too. */
    async removeOlderThan(before: string): Promise<string[]> {
      const rows = await k.deleteFrom('imports').where('created_at', '<', before).returning('id').execute();
      return rows.map((r) => r.id);
    },
  });
}

export type ImportRecords = ReturnType<typeof importRecordsFactory>;
