/**
 * Where an import lives while and after it runs. Its record (the request, the state, the result)
 * is a row of the metadata database, so every instance and worker reads the same one and past
 * imports can be listed; its files sit in one folder per import under EXPORTS_DIR/imports, shared
 * like the report files: the upload, the full issue list the error workbook is made from (written
 * atomically), and the error workbook.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImportFilter, ImportRecords } from '../../db/repos/import-records.ts';
import type { ImportOptions, ImportResult } from '../../models/imports.ts';
import type { FileFormat } from './file-sniff.ts';
import { FileTooLargeError } from './import-errors.ts';
import type { RowIssue } from './import-rows.ts';

export interface ImportRequest {
  importId: string;
  options: ImportOptions & { chunkSize: number };
  file: { name: string; bytes: number; format: FileFormat };
  createdAt: string;
}

/** Everything the error workbook needs beyond the upload itself. */
export interface ImportDetail {
  /** the row holding the column names */
  headerRow: number;
  /** every row issue, by row */
  issues: RowIssue[];
  /**
   * null: every data row goes into the error workbook (nothing was applied);
   * otherwise only these rows (invalid, refused, or never sent), with `extra` messages
   */
  onlyRows: number[] | null;
  /** messages beyond validation, e.g. "refused by the system of record: …" */
  extra: { row: number; message: string }[];
}

/** what the type check reads */
const HEAD_BYTES = 65_536;
const ID_PATTERN = /^imp-[A-Za-z0-9_-]{16,40}$/;

export function newImportId(): string {
  return `imp-${randomBytes(15).toString('base64url')}`;
}

export function importLinks(importId: string) {
  const self = `/api/v1/excel/imports/${importId}`;
  return { self, errors: `${self}/errors.xlsx` };
}

export function importStoreFactory({ exportsDir, records }: { exportsDir: string; records: ImportRecords }) {
  const root = join(exportsDir, 'imports');

  function dirOf(importId: string): string {
    // Ids come from URLs: the pattern keeps them inside the imports folder.
    if (!ID_PATTERN.test(importId)) throw new Error(`not an import id: ${importId}`);
    return join(root, importId);
  }

  async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(value));
    await rename(tmp, path);
  }

  async function readJson<T>(path: string): Promise<T | null> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  return {
    root,
    dirOf,

    uploadPath: (importId: string) => join(dirOf(importId), 'upload'),
    errorsWorkbookPath: (importId: string) => join(dirOf(importId), 'errors.xlsx'),

    /**
     * Streams an upload to disk, refusing it as soon as it passes `maxBytes`; returns its size and
     * first bytes (for the type check).
     */
    async saveUpload(
      importId: string,
      stream: Readable,
      maxBytes: number,
    ): Promise<{ bytes: number; head: Buffer }> {
      await mkdir(dirOf(importId), { recursive: true });
      const path = join(dirOf(importId), 'upload');
      let seen = 0;
      // The first bytes decide the file type: kept as they pass rather than read back.
      const head: Buffer[] = [];
      let headBytes = 0;
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          seen += chunk.length;
          if (seen > maxBytes) return done(new FileTooLargeError(maxBytes));
          if (headBytes < HEAD_BYTES) {
            head.push(chunk.subarray(0, HEAD_BYTES - headBytes));
            headBytes += Math.min(chunk.length, HEAD_BYTES - headBytes);
          }
          done(null, chunk);
        },
      });
      await pipeline(stream, limit, createWriteStream(path));
      return { bytes: seen, head: Buffer.concat(head) };
    },

    writeRequest: (request: ImportRequest) => records.insert(request),
    readRequest: (importId: string) => records.request<ImportRequest>(importId),
    markRunning: (importId: string) => records.markRunning(importId),
    writeResult: (result: ImportResult) => records.saveResult(result),
    readResult: (importId: string) => records.result(importId),
    list: (filter: ImportFilter) => records.list(filter),
    writeDetail: (importId: string, detail: ImportDetail) =>
      writeJsonAtomic(join(dirOf(importId), 'detail.json'), detail),
    readDetail: (importId: string) => readJson<ImportDetail>(join(dirOf(importId), 'detail.json')),

    async remove(importId: string): Promise<void> {
      // Called on the way out of a failed upload: its own error is the answer, not the database's
      // (a record left behind by an outage is dropped by the cleanup when it expires).
      await records.remove(importId).catch(() => {});
      await rm(dirOf(importId), { recursive: true, force: true });
    },

    /** Deletes imports older than the retention, records and folders; returns how many folders. */
    async cleanup(retentionMs: number, now = Date.now()): Promise<number> {
      await records.removeOlderThan(new Date(now - retentionMs).toISOString());
      let removed = 0;
      let names: string[];
      try {
        names = await readdir(root);
      } catch {
        return 0;
      }
      for (const name of names) {
        if (!ID_PATTERN.test(name)) continue;
        const info = await stat(join(root, name)).catch(() => null);
        if (info && now - info.mtimeMs > retentionMs) {
          await rm(join(root, name), { recursive: true, force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}

export type ImportStore = ReturnType<typeof importStoreFactory>;
