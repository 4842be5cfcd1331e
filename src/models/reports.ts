/** Report requests, jobs and files. */
import { z } from 'zod';
import { parseDay } from '../lib/calendar.ts';
import { MAX_WINDOW_DAYS } from './analytics.ts';
import { BusinessDay } from './business-day.ts';

export const REPORT_TYPES = ['daily', 'weekly', 'monthly', 'sales_stock', 'sales_lines'] as const;
export const REPORT_FORMATS = ['pdf', 'xlsx', 'csv'] as const;

const day = BusinessDay;
const ids = z.array(z.string().min(1).max(200)).min(1).max(500);

export const ReportFiltersSchema = z.strictObject({
  storeId: ids.optional(),
  region: ids.optional(),
  category: ids.optional(),
  brand: ids.optional(),
  productId: ids.optional(),
});
export type ReportFilters = z.output<typeof ReportFiltersSchema>;

export const ReportRequestSchema = z
  .strictObject({
    type: z.enum(REPORT_TYPES),
    format: z.enum(REPORT_FORMATS),
    date: day
      .optional()
      .describe('daily: the day (default yesterday); weekly/monthly: a day after the period'),
    from: day.optional().describe('sales_stock, sales_lines: first day (default 30 days before `to`)'),
    to: day.optional().describe('sales_stock, sales_lines: last day (default yesterday)'),
    filters: ReportFiltersSchema.optional(),
    top: z
      .number()
      .int()
      .min(1)
      .max(500)
      .optional()
      .describe(
        'rows of the long lists (products, brands, reorder) in a PDF; default 50; a workbook has them all',
      ),
    force: z.boolean().default(false).describe('make a new file even when one exists for the same data'),
  })
  .superRefine((v, ctx) => {
    if (v.type === 'sales_lines' && v.format === 'pdf') {
      ctx.addIssue({ code: 'custom', path: ['format'], message: 'sales_lines is xlsx or csv' });
    }
    if (v.type !== 'sales_lines' && v.format === 'csv') {
      ctx.addIssue({ code: 'custom', path: ['format'], message: `${v.type} is pdf or xlsx` });
    }
    if (v.from && v.to) {
      const f = parseDay(v.from)!;
      const t = parseDay(v.to)!;
      if (f > t) ctx.addIssue({ code: 'custom', path: ['from'], message: `must not be after to (${v.to})` });
      else if (t - f + 1 > MAX_WINDOW_DAYS)
        ctx.addIssue({ code: 'custom', path: ['to'], message: `at most ${MAX_WINDOW_DAYS} days` });
    }
    if ((v.from || v.to) && (v.type === 'daily' || v.type === 'weekly' || v.type === 'monthly')) {
      ctx.addIssue({
        code: 'custom',
        path: [v.from ? 'from' : 'to'],
        message: `${v.type} reports take \`date\``,
      });
    }
  })
  .meta({ examples: [{ type: 'daily', format: 'pdf' }] });
export type ReportRequestBody = z.output<typeof ReportRequestSchema>;
/** What a report job is asked for: the request without `force`. */
export type ReportJobRequest = Omit<ReportRequestBody, 'force'>;

export const JobStateSchema = z.enum(['queued', 'active', 'completed', 'failed']);

export const ReportFile = z
  .object({
    name: z.string().describe('opaque file name, for /reports/download?file='),
    bytes: z.number().int(),
    sha256: z.string(),
    downloadUrl: z.string(),
    signedUrl: z.string().describe('works without an API key until it expires (for e-mails)'),
    expiresAt: z.string(),
  })
  .meta({ id: 'ReportFile' });

export const ReportJob = z
  .object({
    jobId: z.string(),
    type: z.enum(REPORT_TYPES),
    format: z.enum(REPORT_FORMATS),
    state: JobStateSchema,
    progress: z.number(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    attempts: z.number().int(),
    error: z.string().optional(),
    file: ReportFile.optional(),
  })
  .meta({ id: 'ReportJob' });

export const ReportAccepted = z
  .object({
    jobId: z.string(),
    status: JobStateSchema,
    created: z.boolean().describe('false: the same request over the same data already had a job'),
    statusUrl: z.string(),
    downloadUrl: z.string(),
  })
  .meta({ id: 'ReportAccepted' });

export const JobIdParams = z.object({
  jobId: z
    .string()
    .regex(/^rep-[A-Za-z0-9_-]{8,80}$/, 'not a report job id')
    .meta({ examples: ['rep-Wn3q0tXh2mZ8bK1cY7dLfA9e'] })
    .describe('`jobId` of the answer of POST /reports/generate'),
});

export const DownloadQuery = z.object({
  expires: z.coerce.number().int().optional().describe('signed links: expiry, epoch seconds'),
  sig: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .optional()
    .describe('signed links: HMAC-SHA256, base64url'),
});

export const DownloadByNameQuery = z.object({
  file: z
    .string()
    .max(120)
    .regex(/^rep-[A-Za-z0-9_-]{8,80}\.(pdf|xlsx|csv)$/, 'not a file name this service produced')
    .meta({ examples: ['rep-Wn3q0tXh2mZ8bK1cY7dLfA9e.pdf'] })
    .describe('`file.name` of a completed job status'),
  expires: z.coerce.number().int().optional().describe('signed links: expiry, epoch seconds'),
  sig: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .optional()
    .describe('signed links: signature'),
});

export const ReportListQuery = z.object({
  state: JobStateSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export const ReportList = z
  .object({ jobs: z.array(ReportJob), total: z.number().int(), limit: z.number(), offset: z.number() })
  .meta({ id: 'ReportList' });
