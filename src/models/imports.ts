/** Spreadsheet imports: upload options, the import result, templates. */
import { z } from 'zod';

/** What an import file may hold (the field rules of each live in services/imports/import-fields.ts). */
export const IMPORT_KINDS = ['products', 'stock', 'sales'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export const IMPORT_MODES = ['dry_run', 'commit'] as const;
export const ERROR_POLICIES = ['reject_all', 'skip_invalid'] as const;
export const IMPORT_STATUSES = [
  'queued',
  'running',
  'validated',
  'committed',
  'partial',
  'rejected',
  'failed',
] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

const IMPORT_ID = /^imp-[A-Za-z0-9_-]{16,40}$/;

const optionFields = {
  kind: z.enum(IMPORT_KINDS).describe('what the file holds (default products)'),
  mode: z
    .enum(IMPORT_MODES)
    .describe(
      'dry_run (default): validate and compare, change nothing; commit: push the rows to the system of record',
    ),
  onError: z
    .enum(ERROR_POLICIES)
    .describe(
      'reject_all (default): push nothing when any row is invalid; skip_invalid: push the valid rows',
    ),
  sheet: z.string().trim().min(1).max(100).describe('the sheet to read (default: the first visible sheet)'),
  chunkSize: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .describe('rows per bulk request (default IMPORT_CHUNK_SIZE)'),
};

/** Options of an upload: query parameters, or form fields sent before the file. */
export const ImportOptionsSchema = z.strictObject({
  kind: optionFields.kind.default('products'),
  mode: optionFields.mode.default('dry_run'),
  onError: optionFields.onError.default('reject_all'),
  sheet: optionFields.sheet.optional(),
  chunkSize: optionFields.chunkSize.optional(),
});
/** The same options in the query string, without defaults (form fields may still give them). */
export const ImportQuerySchema = z.strictObject({
  kind: optionFields.kind.optional(),
  mode: optionFields.mode.optional(),
  onError: optionFields.onError.optional(),
  sheet: optionFields.sheet.optional(),
  chunkSize: optionFields.chunkSize.optional(),
});
export type ImportOptions = z.output<typeof ImportOptionsSchema>;

export const RowIssueSchema = z
  .object({
    row: z.number().int().describe('the row number as the spreadsheet shows it (the header is usually 1)'),
    column: z
      .string()
      .nullable()
      .describe('the column header as written in the file; null for the whole row'),
    value: z.string().nullable().describe('the cell as read'),
    message: z.string(),
  })
  .meta({ id: 'ImportRowIssue' });

export const FileIssueSchema = z
  .object({
    row: z.number().int().nullable(),
    column: z.string().nullable(),
    value: z.string().nullable(),
    message: z.string(),
  })
  .meta({ id: 'ImportWarning' });
export type FileIssue = z.output<typeof FileIssueSchema>;

export const RowChangeSchema = z
  .object({
    row: z.number().int(),
    action: z.enum(['create', 'update']),
    key: z.string().describe('SKU, store/product, or sale line id'),
    changes: z
      .record(z.string(), z.tuple([z.unknown(), z.unknown()]))
      .optional()
      .describe('updates: field → [current, new]'),
  })
  .meta({ id: 'ImportRowChange' });

export const RowRangeSchema = z.object({ fromRow: z.number().int(), toRow: z.number().int() });

export const CommitReportSchema = z
  .object({
    chunks: z.number().int().describe('bulk requests needed'),
    chunksSent: z.number().int().describe('bulk requests the system of record answered'),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int().describe('rows equal to the system of record, not sent'),
    failed: z.number().int().describe('rows the system of record refused'),
    notSent: z.number().int().describe('rows never sent because the commit stopped'),
    reachedUpstream: z
      .array(RowRangeSchema)
      .describe('the file rows (ranges, inclusive) that were sent and accepted: exactly what changed'),
    failures: z
      .array(z.object({ row: z.number().int(), message: z.string() }))
      .describe('rows the system of record refused, with its reason (first 1000)'),
    error: z.string().optional().describe('why the commit stopped early'),
  })
  .meta({ id: 'ImportCommitReport' });
export type CommitReport = z.output<typeof CommitReportSchema>;

export const ImportColumnsSchema = z.object({
  mapped: z.array(z.object({ column: z.string(), header: z.string(), field: z.string() })),
  ignored: z.array(z.string()).describe('columns that match no field: not read'),
});

export const ImportResultSchema = z
  .object({
    importId: z.string(),
    kind: z.enum(IMPORT_KINDS),
    mode: z.enum(IMPORT_MODES),
    onError: z.enum(ERROR_POLICIES),
    status: z
      .enum(IMPORT_STATUSES)
      .describe(
        'validated (dry run done), committed, partial (some rows reached the system of record, see commit), ' +
          'rejected (invalid rows with reject_all: nothing pushed), failed, or queued/running for large files',
      ),
    progress: z.number().describe('percent, for queued and running imports'),
    file: z.object({
      name: z.string(),
      bytes: z.number().int(),
      format: z.enum(['xlsx', 'csv']),
      sheet: z.string().nullable(),
      delimiter: z.string().optional(),
    }),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    rows: z.number().int().describe('data rows read (blank rows are skipped)'),
    valid: z.number().int(),
    invalid: z.number().int(),
    toCreate: z.number().int(),
    toUpdate: z.number().int(),
    unchanged: z.number().int(),
    errors: z.array(RowIssueSchema).describe('row errors (first 1000; errors.xlsx has them all)'),
    errorsTotal: z.number().int(),
    warnings: z.array(FileIssueSchema).describe('first 1000'),
    warningsTotal: z.number().int(),
    columns: ImportColumnsSchema.optional(),
    changes: z.array(RowChangeSchema).describe('the first 100 rows that would create or update'),
    commit: CommitReportSchema.optional(),
    problem: z
      .object({ status: z.number().int(), title: z.string(), detail: z.string(), type: z.string() })
      .optional()
      .describe('failed imports: why (the same problem a small upload gets as its answer)'),
    links: z.object({ self: z.string(), errors: z.string() }),
  })
  .meta({ id: 'ImportResult' });
export type ImportResult = z.output<typeof ImportResultSchema>;

export const ImportAcceptedSchema = z
  .object({
    importId: z.string(),
    status: z.enum(['queued']),
    statusUrl: z.string(),
  })
  .meta({ id: 'ImportAccepted' });

export const ImportIdParams = z.object({
  importId: z
    .string()
    .regex(IMPORT_ID, 'not an import id')
    .meta({ examples: ['imp-4fJq2Lx9Tb7Kc0Wm3Ys8'] })
    .describe('`importId` of the answer of POST /excel/upload'),
});

export const TemplateQuery = z.object({ kind: z.enum(IMPORT_KINDS).default('products') });

/** Documents the multipart body for OpenAPI; the route reads the parts itself, as a stream. */
export const UploadBodyDoc = z
  .object({
    file: z.string().describe('the .xlsx or .csv file (one); binary'),
    kind: optionFields.kind.optional().meta({ examples: ['products'] }),
    mode: optionFields.mode.optional().meta({ examples: ['dry_run'] }),
    onError: optionFields.onError.optional(),
    sheet: optionFields.sheet.optional(),
    chunkSize: optionFields.chunkSize.optional(),
  })
  .describe('multipart/form-data; option fields must come before the file (or use the query string)');

export const ImportListQuerySchema = z
  .strictObject({
    kind: z.enum(IMPORT_KINDS).optional(),
    status: z.enum(IMPORT_STATUSES).optional(),
    from: z.iso
      .date()
      .optional()
      .describe('uploaded on or after this business day (YYYY-MM-DD, BUSINESS_TZ)'),
    to: z.iso.date().optional().describe('uploaded on or before this business day'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be before from', path: ['to'] });
export type ImportListQuery = z.output<typeof ImportListQuerySchema>;

export const ImportSummarySchema = z
  .object({
    importId: z.string(),
    kind: z.enum(IMPORT_KINDS),
    mode: z.enum(IMPORT_MODES),
    onError: z.enum(ERROR_POLICIES),
    status: z.enum(IMPORT_STATUSES),
    file: z.object({ name: z.string(), bytes: z.number().int(), format: z.enum(['xlsx', 'csv']) }),
    rows: z.number().int().describe('data rows read (0 until finished)'),
    valid: z.number().int(),
    invalid: z.number().int(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    links: z.object({ self: z.string(), errors: z.string() }),
  })
  .meta({ id: 'ImportSummary' });
export type ImportSummary = z.output<typeof ImportSummarySchema>;

export const ImportListSchema = z
  .object({
    items: z.array(ImportSummarySchema).describe('newest first'),
    total: z.number().int().describe('imports matching the filters, before paging'),
    limit: z.number().int(),
    offset: z.number().int(),
  })
  .meta({ id: 'ImportList' });
