/**
 * Spreadsheet imports: an upload is stored, read as a stream, mapped, validated row by row,
 * compared with the system of record, and (on commit) pushed to its bulk endpoints in chunks with
 * an idempotency key each. Small files are answered in the request; larger ones run as a job.
 *
 * Nothing half-imported: with reject_all nothing is pushed while any row is invalid; a commit that
 * stops (the system of record failed) records exactly which rows reached it, and a retry of the
 * job replays the same chunk keys, which the system of record answers without applying twice.
 */

import type { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.ts';
import { AppError, NotFoundError } from '../../errors.ts';
import type { AppJobQueue } from '../../jobs/job-registry.ts';
import { type JobContext, PermanentJobError } from '../../jobs/queue-types.ts';
import { parseDay } from '../../lib/calendar.ts';
import type { FileIssue, ImportOptions, ImportResult, ImportStatus } from '../../models/imports.ts';
import { queueProblem } from '../queue-problem.ts';
import { inspectXlsx, type XlsxInspection } from './file-inspect.ts';
import { type FileFormat, sniffFormat } from './file-sniff.ts';
import { importDownloadsFactory } from './import-downloads.ts';
import { FileRejectedError, ImportInterruptedError, ImportRejectedError } from './import-errors.ts';
import {
  columnLetter,
  countKnownHeaders,
  FIELDS,
  type HeaderMapping,
  type ImportKind,
  mapHeader,
} from './import-fields.ts';
import { type ItemTypes, type PlannedRow, planImport, type ValidRow } from './import-plan.ts';
import { type RowIssue, rowValidator } from './import-rows.ts';
import {
  type ImportDetail,
  type ImportRequest,
  type ImportStore,
  importLinks as links,
  newImportId,
} from './import-store.ts';
import { type ImportUpstream, importUpstreamFactory, LISTED_ISSUES } from './import-upstream.ts';
import { type CellValue, openSheet, type SheetRow } from './sheet-reader.ts';

const LISTED_CHANGES = 100;
const HEADER_SEARCH_ROWS = 10;
/** attempts of an import job; the last one records its failure as the result */
const JOB_ATTEMPTS = 3;
/** The template's example row starts its key with this; such rows are skipped, with a warning. */
export const EXAMPLE_PREFIX = 'EXAMPLE-';

export interface ImportServiceDeps {
  upstream: ImportUpstream;
  store: ImportStore;
  jobs: AppJobQueue;
  /** caches that must forget what an import changed */
  invalidate: {
    catalog(): Promise<void>;
    stock(): Promise<void>;
    salesDays(days: number[]): Promise<void>;
  };
  config: Pick<Config, 'imports' | 'businessTz'>;
  logger: FastifyBaseLogger;
}

export type UploadOutcome =
  | { kind: 'done'; result: ImportResult }
  | { kind: 'queued'; importId: string; statusUrl: string };

function rowKeyOf(kind: ImportKind, item: ItemTypes[ImportKind]): string {
  if (kind === 'stock') {
    const s = item as ItemTypes['stock'];
    return `${s.storeId}/${s.productId}`;
  }
  if (kind === 'products') return (item as ItemTypes['products']).sku;
  return String((item as ItemTypes['sales']).id);
}

function isTextLike(cell: CellValue): boolean {
  return typeof cell === 'string' || cell === null;
}

interface ReadOutcome<K extends ImportKind> {
  sheetName: string | null;
  delimiter?: string;
  headerRow: number;
  mapping: HeaderMapping;
  rows: number;
  valid: ValidRow<K>[];
  issues: RowIssue[];
  warnings: FileIssue[];
}

export function importServiceFactory({
  upstream,
  store,
  jobs,
  invalidate,
  config,
  logger,
}: ImportServiceDeps) {
  const { recordedSales, referenceData, commit } = importUpstreamFactory({ upstream, logger });
  const limits = {
    maxEntries: config.imports.maxZipEntries,
    maxUncompressedBytes: config.imports.maxUncompressedBytes,
    maxRatio: config.imports.maxZipRatio,
  };

  /** Finds the header (the first of the top rows naming two known fields), then validates each row. */
  async function readFile<K extends ImportKind>(
    request: ImportRequest,
    kind: K,
    onRows: (rows: number) => void,
    inspection?: XlsxInspection,
  ): Promise<ReadOutcome<K>> {
    const opened = await openSheet(store.uploadPath(request.importId), {
      fileName: request.file.name,
      ...(request.options.sheet ? { sheet: request.options.sheet } : {}),
      limits,
      ...(inspection ? { inspection } : {}),
    });
    const where = opened.sheetName ? `sheet ${JSON.stringify(opened.sheetName)}` : 'the file';
    const warnings: ReadOutcome<K>['warnings'] = opened.warnings.map((message) => ({
      row: null,
      column: null,
      value: null,
      message,
    }));
    const top: SheetRow[] = [];
    let mapping: HeaderMapping | undefined;
    let headerRow = 0;
    let validate: ReturnType<typeof rowValidator<K>> | undefined;
    const valid: ValidRow<K>[] = [];
    const issues: RowIssue[] = [];
    let rows = 0;

    const useHeader = (header: SheetRow) => {
      const mapped = mapHeader(kind, header.cells);
      if ('problem' in mapped) {
        throw new FileRejectedError(
          `Row ${header.row} of ${where}: ${mapped.problem.message}.`,
          mapped.problem.kind === 'duplicate' ? 'duplicate-headers' : 'missing-columns',
        );
      }
      mapping = mapped.mapping;
      headerRow = header.row;
      validate = rowValidator(kind, mapping, config.businessTz);
      if (header !== top[0] && top[0]) {
        warnings.push({
          row: top[0].row,
          column: null,
          value: null,
          message: `rows ${top[0].row}–${header.row - 1} above the header (row ${header.row}) were not read`,
        });
      }
      if (mapping.unknown.length > 0) {
        warnings.push({
          row: header.row,
          column: null,
          value: null,
          message: `columns not recognised, not read: ${mapping.unknown.join(', ')}`,
        });
      }
    };

    const noHeader = (): never => {
      const first = top[0]!;
      // A first row of words is a header with the wrong names: say which are missing.
      if (first.cells.every(isTextLike)) useHeader(first);
      const expected = FIELDS[kind]
        .filter((f) => f.required)
        .map((f) => f.label)
        .join(', ');
      throw new FileRejectedError(
        `Row ${first.row} of ${where} holds data, not column names: add a header row such as ${expected}.`,
        'no-header',
      );
    };

    const keyField = kind === 'stock' ? 'storeId' : kind === 'products' ? 'sku' : 'id';
    const dataRow = (r: SheetRow) => {
      rows++;
      if (rows > config.imports.maxRows) {
        throw new FileRejectedError(
          `${where} has more than ${config.imports.maxRows} data rows (IMPORT_MAX_ROWS): split it into smaller files.`,
          'too-many-rows',
        );
      }
      const verdict = validate!(r.row, r.cells);
      if (verdict.ok) {
        const key = (verdict.value as unknown as Record<string, unknown>)[keyField];
        if (typeof key === 'string' && key.startsWith(EXAMPLE_PREFIX)) {
          rows--;
          warnings.push({
            row: r.row,
            column: null,
            value: key,
            message: "the template's example row: skipped",
          });
          return;
        }
        valid.push({ row: r.row, value: verdict.value });
        for (const w of verdict.warnings) warnings.push(w);
      } else {
        for (const i of verdict.issues) issues.push(i);
      }
      if (rows % 5000 === 0) onRows(rows);
    };

    for await (const r of opened.rows) {
      if (mapping) {
        dataRow(r);
        continue;
      }
      top.push(r);
      if (countKnownHeaders(kind, r.cells) >= 2) {
        useHeader(r);
        continue;
      }
      if (top.length >= HEADER_SEARCH_ROWS) noHeader();
    }
    if (!mapping) {
      if (top.length === 0)
        throw new FileRejectedError(`${where} is empty: there is nothing to import.`, 'empty-sheet');
      noHeader();
    }
    if (rows === 0) {
      throw new FileRejectedError(
        `${where} has a header (row ${headerRow}) but no data rows under it.`,
        'empty-sheet',
      );
    }
    return {
      sheetName: opened.sheetName,
      ...(opened.delimiter ? { delimiter: opened.delimiter } : {}),
      headerRow,
      mapping: mapping!,
      rows,
      valid,
      issues,
      warnings,
    };
  }

  async function invalidateAfter(kind: ImportKind, accepted: PlannedRow<ImportKind>[]): Promise<void> {
    if (accepted.length === 0) return;
    try {
      if (kind === 'products') await invalidate.catalog();
      else if (kind === 'stock') await invalidate.stock();
      else {
        const days = new Set<number>();
        // soldAt carries the business zone's offset, so its date is the business day.
        for (const p of accepted) days.add(parseDay((p.item as ItemTypes['sales']).soldAt.slice(0, 10))!);
        await invalidate.salesDays([...days]);
      }
    } catch (err) {
      // The data is in the system of record; caches expire on their own (CACHE_TTL_SECONDS).
      logger.warn({ err, kind }, 'could not invalidate caches after an import');
    }
  }

  function baseResult(request: ImportRequest, status: ImportStatus, progress: number): ImportResult {
    return {
      importId: request.importId,
      kind: request.options.kind,
      mode: request.options.mode,
      onError: request.options.onError,
      status,
      progress,
      file: { name: request.file.name, bytes: request.file.bytes, format: request.file.format, sheet: null },
      createdAt: request.createdAt,
      finishedAt: null,
      rows: 0,
      valid: 0,
      invalid: 0,
      toCreate: 0,
      toUpdate: 0,
      unchanged: 0,
      errors: [],
      errorsTotal: 0,
      warnings: [],
      warningsTotal: 0,
      changes: [],
      links: links(request.importId),
    };
  }

  /** Reads, validates, plans and (on commit) pushes one stored upload. */
  async function runImport(
    request: ImportRequest,
    progress: (percent: number) => void,
    signal?: AbortSignal,
    inspection?: XlsxInspection,
  ): Promise<{ result: ImportResult; detail: ImportDetail; accepted: PlannedRow<ImportKind>[] }> {
    const { kind, mode, onError } = request.options;
    // A rough rows estimate for progress: about 45 bytes a row in either format.
    const estimate = Math.max(1, request.file.bytes / 45);
    const early = referenceData(kind);
    // Awaited once the file is read; until then a failure must not count as unhandled.
    early.catch(() => {});
    const read = await readFile(
      request,
      kind,
      (n) => progress(Math.min(40, (n / estimate) * 40)),
      inspection,
    );
    progress(40);
    const ref = await early;
    if (kind === 'sales') ref.sales = await recordedSales(read.valid as ValidRow<'sales'>[]);
    const columnOf = (field: string) =>
      read.mapping.columns.find((c) => c.field === field)?.header ??
      FIELDS[kind].find((f) => f.key === field)?.label ??
      field;
    const plan = planImport(kind, read.valid, ref, columnOf);
    // The plan holds what is pushed; a commit of 100k rows need not keep the parsed rows too.
    read.valid.length = 0;
    progress(50);
    const issues = [...read.issues, ...plan.issues].sort((a, b) => a.row - b.row);
    const invalidRows = new Set(issues.map((i) => i.row));
    const count = (action: string) => plan.planned.filter((p) => p.action === action).length;

    const result = baseResult(request, 'validated', 100);
    result.file.sheet = read.sheetName;
    if (read.delimiter) result.file.delimiter = read.delimiter;
    result.rows = read.rows;
    result.invalid = invalidRows.size;
    result.valid = read.rows - invalidRows.size;
    result.toCreate = count('create');
    result.toUpdate = count('update');
    result.unchanged = count('unchanged');
    result.errors = issues.slice(0, LISTED_ISSUES);
    result.errorsTotal = issues.length;
    result.warnings = read.warnings.slice(0, LISTED_ISSUES);
    result.warningsTotal = read.warnings.length;
    result.columns = {
      mapped: read.mapping.columns
        .filter((c) => c.field !== null)
        .map((c) => ({ column: columnLetter(c.index), header: c.header, field: c.field! })),
      ignored: read.mapping.unknown,
    };
    result.changes = plan.planned
      .filter((p) => p.action !== 'unchanged')
      .slice(0, LISTED_CHANGES)
      .map((p) => ({
        row: p.row,
        action: p.action as 'create' | 'update',
        key: rowKeyOf(kind, p.item),
        ...(p.changes ? { changes: p.changes } : {}),
      }));
    const detail: ImportDetail = { headerRow: read.headerRow, issues, onlyRows: null, extra: [] };

    if (mode === 'dry_run') return { result, detail, accepted: [] };
    if (onError === 'reject_all' && invalidRows.size > 0) {
      result.status = 'rejected';
      return { result, detail, accepted: [] };
    }
    const report = await commit(
      request,
      plan.planned,
      (done, total) => progress(50 + (done / total) * 50),
      signal,
    );
    const { accepted, refused, ...commitReport } = report;
    result.commit = commitReport;
    const reached = accepted.length;
    const stopped = commitReport.error !== undefined || commitReport.failed > 0;
    result.status = !stopped ? 'committed' : reached > 0 ? 'partial' : 'failed';
    // The error workbook then holds what did not land: invalid, refused and unsent rows.
    const acceptedRows = new Set(accepted.map((p) => p.row));
    detail.onlyRows = [];
    detail.extra = [];
    for (const p of plan.planned) {
      if (p.action === 'unchanged' || acceptedRows.has(p.row)) continue;
      detail.onlyRows.push(p.row);
      detail.extra.push({
        row: p.row,
        message:
          refused.get(p.row) ??
          `not sent: the commit stopped (${commitReport.error ?? 'the system of record failed'})`,
      });
    }
    for (const row of invalidRows) detail.onlyRows.push(row);
    detail.onlyRows.sort((a, b) => a - b);
    return { result, detail, accepted };
  }

  async function finish(request: ImportRequest, outcome: Awaited<ReturnType<typeof runImport>>) {
    const { result, detail, accepted } = outcome;
    result.finishedAt = new Date().toISOString();
    result.progress = 100;
    await store.writeDetail(request.importId, detail);
    await store.writeResult(result);
    await invalidateAfter(request.options.kind, accepted);
    logger.info(
      {
        importId: result.importId,
        kind: result.kind,
        mode: result.mode,
        status: result.status,
        rows: result.rows,
        invalid: result.invalid,
        created: result.commit?.created,
        updated: result.commit?.updated,
      },
      'import finished',
    );
    return result;
  }

  function failedResult(request: ImportRequest, err: AppError): ImportResult {
    const result = baseResult(request, 'failed', 100);
    result.finishedAt = new Date().toISOString();
    result.problem = {
      status: err.status,
      title: err.title,
      detail: err.message,
      type: `urn:salesflow:problem:${err.code}`,
    };
    return result;
  }

  /** The answer of an inline import: a rejected or interrupted one is a problem, not a 200. */
  function answerOf(result: ImportResult): ImportResult {
    if (result.status === 'rejected') throw new ImportRejectedError(result);
    if (result.commit?.error) throw new ImportInterruptedError(result, result.commit);
    return result;
  }

  /** The stored result, or the queued job's state and progress. */
  async function get(importId: string): Promise<ImportResult> {
    const result = await store.readResult(importId);
    if (result) return result;
    const request = await store.readRequest(importId);
    if (!request) throw new NotFoundError(`No import ${importId} (imports are kept IMPORT_RETENTION_DAYS).`);
    const job = await jobs.get('imports', importId).catch((err: unknown) => {
      throw queueProblem(err, 'ask again shortly', `The state of import ${importId} cannot be read`);
    });
    if (job?.state === 'failed') {
      const failed = baseResult(request, 'failed', job.progress);
      failed.finishedAt = job.finishedAt;
      failed.problem = {
        status: 500,
        title: 'The import failed',
        detail: job.error ?? 'the import job failed',
        type: 'urn:salesflow:problem:import-failed',
      };
      return failed;
    }
    return baseResult(request, job?.state === 'active' ? 'running' : 'queued', job?.progress ?? 0);
  }

  return {
    /** Stores the upload, checks its type, then answers (small files) or queues it (large ones). */
    async upload(input: {
      stream: Readable;
      fileName: string;
      options: ImportOptions;
    }): Promise<UploadOutcome> {
      const importId = newImportId();
      let saved: { bytes: number; head: Buffer };
      try {
        saved = await store.saveUpload(importId, input.stream, config.imports.maxFileBytes);
      } catch (err) {
        await store.remove(importId);
        throw err;
      }
      let request: ImportRequest;
      let inspection: XlsxInspection | undefined;
      try {
        if (saved.bytes === 0) throw new FileRejectedError('The file is empty.', 'empty-sheet');
        const { format, warnings } = sniffFormat(saved.head, input.fileName);
        if (warnings.length) logger.info({ importId, warnings }, 'upload type warnings');
        // Zip bombs are refused before anything is queued, whatever the size.
        if (format === 'xlsx') inspection = await inspectXlsx(store.uploadPath(importId), limits);
        request = {
          importId,
          options: { ...input.options, chunkSize: input.options.chunkSize ?? config.imports.chunkSize },
          file: { name: input.fileName, bytes: saved.bytes, format: format as FileFormat },
          createdAt: new Date().toISOString(),
        };
        await store.writeRequest(request);
      } catch (err) {
        await store.remove(importId);
        throw err;
      }

      if (saved.bytes > config.imports.inlineMaxBytes) {
        try {
          await jobs.enqueue(
            'imports',
            'run',
            { importId },
            { jobId: importId, attempts: JOB_ATTEMPTS, backoffMs: 2_000 },
          );
        } catch (err) {
          // Not queued, not kept: no record waits for a job that will never run. (A job queued
          // before an answer was lost finds no request and fails for good.)
          await store.remove(importId);
          throw queueProblem(
            err,
            'nothing was kept: upload the file again shortly',
            'The import could not be queued',
          );
        }
        return { kind: 'queued', importId, statusUrl: links(importId).self };
      }
      let outcome: Awaited<ReturnType<typeof runImport>>;
      try {
        outcome = await runImport(request, () => {}, undefined, inspection);
      } catch (err) {
        // A file the import cannot read leaves nothing behind; the problem is the answer.
        await store.remove(importId);
        throw err;
      }
      return { kind: 'done', result: answerOf(await finish(request, outcome)) };
    },

    /** The job processor of large uploads (the in-process runner or src/worker.ts). */
    async process(payload: { importId: string }, ctx: JobContext): Promise<{ status: ImportStatus }> {
      const request = await store.readRequest(payload.importId);
      if (!request) throw new PermanentJobError(`import ${payload.importId} has no stored request`);
      const done = await store.readResult(payload.importId);
      if (done) return { status: done.status };
      await store.markRunning(payload.importId);
      let last = 0;
      const progress = (p: number) => {
        if (p - last >= 2 || p === 100) {
          last = p;
          void ctx.updateProgress(Math.round(p));
        }
      };
      try {
        const result = await finish(request, await runImport(request, progress, ctx.signal));
        return { status: result.status };
      } catch (err) {
        // A file problem will not go away on retry: record it as the result.
        if (err instanceof AppError && err.status < 500) {
          await store.writeResult(failedResult(request, err));
          return { status: 'failed' };
        }
        if (ctx.attempt >= JOB_ATTEMPTS && err instanceof AppError)
          await store.writeResult(failedResult(request, err));
        throw err;
      }
    },

    get,

    /** The rows to fix, as uploaded, with an error column; built once, then served from disk. */
    ...importDownloadsFactory({ store, get, limits }),

    cleanup: (now?: number) => store.cleanup(config.imports.retentionMs, now),
  };
}

export type ImportService = ReturnType<typeof importServiceFactory>;
