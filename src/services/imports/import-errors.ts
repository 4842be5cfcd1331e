/**
 * Why an uploaded spreadsheet was refused, and why an import stopped. Each detail tells the user
 * what to change in the file, because the person reading it is the one who exported it, not a
 * developer.
 */
import { AppError } from '../../errors.ts';
import type { CommitReport, ImportResult } from '../../models/imports.ts';

/** Stable slugs for `FileRejectedError.reason`: clients may switch on them. */
export const FILE_REJECT_REASONS = [
  /** the archive expands far beyond its size, or lies about it */
  'zip-bomb',
  'too-many-entries',
  /** a ZIP this reader refuses: ZIP64, split, encrypted, inconsistent headers, unknown compression */
  'bad-zip',
  'merged-cells',
  'empty-sheet',
  'no-header',
  /** two columns with the same header, or two headers meaning the same field */
  'duplicate-headers',
  /** a required column is absent */
  'missing-columns',
  'sheet-not-found',
  /** a sheet stored in a way the streaming reader cannot read, or XML it cannot parse */
  'unreadable-sheet',
  'too-many-rows',
  'bad-csv',
] as const;

export type FileRejectReason = (typeof FILE_REJECT_REASONS)[number];

/** Not an Excel workbook (.xlsx) nor a UTF-8 CSV, whatever its name says. */
export class UnsupportedFileError extends AppError {
  constructor(detail: string, extensions: Record<string, unknown> = {}) {
    super(415, 'unsupported-file-type', 'Unsupported file type', detail, extensions);
  }
}

/** The right type of file, but it cannot be read as one table. */
export class FileRejectedError extends AppError {
  constructor(
    detail: string,
    readonly reason?: FileRejectReason,
    extensions: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      400,
      'import-file-rejected',
      'The file cannot be imported',
      detail,
      reason ? { reason, ...extensions } : extensions,
      options,
    );
  }
}

/** Bigger than IMPORT_MAX_FILE_MB: refused while it arrives, nothing kept. */
export class FileTooLargeError extends AppError {
  constructor(maxBytes: number) {
    super(
      413,
      'file-too-large',
      'File too large',
      `The file is larger than ${Math.round(maxBytes / 1_048_576)} MB (IMPORT_MAX_FILE_MB): split it into smaller files.`,
    );
  }
}

/** reject_all met invalid rows: nothing was pushed. The answer carries the rows to fix. */
export class ImportRejectedError extends AppError {
  constructor(result: ImportResult) {
    super(
      422,
      'import-rejected',
      'The file has invalid rows; nothing was imported',
      `${result.invalid} of ${result.rows} rows are invalid (first: row ${result.errors[0]?.row}: ` +
        `${result.errors[0]?.message}). Fix them (${result.links.errors} lists every one) and upload again, ` +
        'or send onError=skip_invalid to import the valid rows only.',
      {
        importId: result.importId,
        rowErrors: result.errors.slice(0, 100),
        errorsTotal: result.errorsTotal,
        resultUrl: result.links.self,
        errorsUrl: result.links.errors,
      },
    );
  }
}

/** A commit stopped because the system of record failed; the answer says which rows reached it. */
export class ImportInterruptedError extends AppError {
  constructor(result: ImportResult, commit: CommitReport) {
    const reached = commit.reachedUpstream.map((r) =>
      r.fromRow === r.toRow ? `${r.fromRow}` : `${r.fromRow}–${r.toRow}`,
    );
    super(
      502,
      'import-interrupted',
      'The import stopped: the system of record failed',
      `${commit.error ?? 'the system of record failed'}. ` +
        (reached.length
          ? `Rows ${reached.slice(0, 20).join(', ')}${reached.length > 20 ? ', …' : ''} reached the system of record; `
          : 'No row reached the system of record; ') +
        `${commit.notSent} rows were not sent. Upload the same file again to finish: rows already applied come back unchanged.`,
      {
        importId: result.importId,
        reachedUpstream: commit.reachedUpstream,
        notSent: commit.notSent,
        resultUrl: result.links.self,
        errorsUrl: result.links.errors,
      },
    );
  }
}
