/**
 * What an import gives back as files: the error workbook (the rows to fix, as uploaded, with an
 * error column; built once, then served from disk) and the empty templates.
 */
import { access, stat } from 'node:fs/promises';
import { AppError } from '../../errors.ts';
import type { ImportKind, ImportResult } from '../../models/imports.ts';
import { CONTENT_TYPES } from '../reports/report-service.ts';
import type { ImportStore } from './import-store.ts';
import { buildErrorWorkbook, buildTemplateWorkbook } from './import-workbooks.ts';
import { openSheet } from './sheet-reader.ts';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export interface ImportDownloadsDeps {
  store: ImportStore;
  /** the import's result, or its queued/running state */
  get(importId: string): Promise<ImportResult>;
  limits: Parameters<typeof openSheet>[1]['limits'];
}

export function importDownloadsFactory({ store, get, limits }: ImportDownloadsDeps) {
  return {
    async errorsWorkbook(
      importId: string,
    ): Promise<{ path: string; name: string; bytes: number; contentType: string }> {
      const result = await get(importId);
      if (result.status === 'queued' || result.status === 'running') {
        throw new AppError(
          409,
          'import-running',
          'The import is still running',
          'Ask again when it has finished.',
        );
      }
      const request = (await store.readRequest(importId))!;
      const detail = await store.readDetail(importId);
      if (!detail) {
        throw new AppError(
          409,
          'import-unreadable',
          'The file could not be read',
          `The import failed before reading any row: ${result.problem?.detail ?? 'see the import result'}.`,
        );
      }
      const path = store.errorsWorkbookPath(importId);
      const base = request.file.name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '_') || 'import';
      const file = async () => ({
        path,
        name: `${base}-errors.xlsx`,
        bytes: (await stat(path)).size,
        contentType: CONTENT_TYPES.xlsx,
      });
      if (await exists(path)) return file();
      const opened = await openSheet(store.uploadPath(importId), {
        fileName: request.file.name,
        ...(result.file.sheet ? { sheet: result.file.sheet } : {}),
        limits,
      });
      await buildErrorWorkbook({ rows: opened.rows, detail, target: path, sheetName: result.kind });
      return file();
    },

    async template(kind: ImportKind): Promise<{ bytes: Buffer; name: string; contentType: string }> {
      return {
        bytes: await buildTemplateWorkbook(kind),
        name: `salesflow-${kind}-template.xlsx`,
        contentType: CONTENT_TYPES.xlsx,
      };
    },
  };
}
