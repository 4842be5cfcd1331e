/** Scheduled delivery: schedules, their recipients and options. */
import { z } from 'zod';
import { isValidTimeZone } from '../lib/calendar.ts';
import { ReportFiltersSchema } from './reports.ts';

export const SCHEDULE_REPORT_TYPES = ['daily', 'weekly', 'monthly'] as const;
export type ScheduleReportType = (typeof SCHEDULE_REPORT_TYPES)[number];
export const DELIVERY_CHANNELS = ['email', 'whatsapp', 'slack', 'webhook'] as const;
export const RUN_STATES = ['working', 'success', 'partial', 'error', 'noop', 'late'] as const;
export type RunState = (typeof RUN_STATES)[number];
export const RUN_TRIGGERS = ['cron', 'catch_up', 'manual'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

const SCHEDULE_ID = /^sch-[A-Za-z0-9_-]{8,40}$/;

export const SliceSchema = z
  .strictObject({
    storeId: z.string().min(1).max(200).optional(),
    region: z.string().min(1).max(200).optional(),
  })
  .describe("the recipient's own slice of the report: one store or one region");
export type Slice = z.output<typeof SliceSchema>;

export const RecipientSchema = z.strictObject({
  channel: z.enum(DELIVERY_CHANNELS),
  address: z
    .string()
    .trim()
    .min(1)
    .max(2_000)
    .describe(
      'e-mail address; E.164 number (+33612345678); Slack channel id or incoming-webhook URL; https URL',
    ),
  name: z.string().trim().min(1).max(200).optional(),
  slice: SliceSchema.optional(),
});
export type Recipient = z.output<typeof RecipientSchema>;

export const ScheduleOptionsSchema = z.strictObject({
  skipIfEmpty: z.boolean().default(false).describe('send nothing for a period without sales'),
  attach: z
    .enum(['auto', 'always', 'link'])
    .default('auto')
    .describe('auto: attach unless over ATTACHMENT_MAX_MB, then a signed link; link: always a link'),
  freshness: z
    .strictObject({
      waitMinutes: z.number().int().min(0).max(720).default(0),
      onIncomplete: z.enum(['send_marked', 'skip']).default('send_marked'),
    })
    .default({ waitMinutes: 0, onIncomplete: 'send_marked' }),
  catchUp: z
    .strictObject({ maxPeriods: z.number().int().min(0).max(31).default(1) })
    .default({ maxPeriods: 1 })
    .describe('after downtime, send each missed period (at most this many), late'),
});

const timezone = z
  .string()
  .refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Paris' })
  .describe('IANA time zone the cron and the period are read in (default BUSINESS_TZ)');

const fields = {
  name: z.string().trim().min(1).max(200),
  enabled: z.boolean(),
  report: z.strictObject({
    type: z.enum(SCHEDULE_REPORT_TYPES),
    format: z.enum(['pdf', 'xlsx', 'both']),
    filters: ReportFiltersSchema.optional(),
  }),
  cron: z
    .string()
    .trim()
    .min(9)
    .max(120)
    .describe('5 fields (minute hour day month weekday), e.g. "0 7 * * *"'),
  timezone,
  recipients: z.array(RecipientSchema).min(1).max(1_000),
  options: ScheduleOptionsSchema,
};

export const ScheduleCreateSchema = z
  .strictObject({
    ...fields,
    enabled: fields.enabled.default(true),
    timezone: timezone.optional(),
    options: ScheduleOptionsSchema.default(ScheduleOptionsSchema.parse({})),
  })
  .meta({
    examples: [
      {
        name: 'Store managers, every morning',
        report: { type: 'daily', format: 'pdf' },
        cron: '0 7 * * *',
        timezone: 'Europe/Paris',
        recipients: [{ channel: 'email', address: 'manager@example.com', name: 'Store manager' }],
      },
    ],
  });
export type ScheduleCreate = z.output<typeof ScheduleCreateSchema>;

export const SchedulePatchSchema = z
  .strictObject({
    name: fields.name.optional(),
    enabled: fields.enabled.optional(),
    report: fields.report.optional(),
    cron: fields.cron.optional(),
    timezone: timezone.optional(),
    recipients: fields.recipients.optional(),
    options: ScheduleOptionsSchema.optional(),
  })
  .meta({ examples: [{ enabled: false }] });
export type SchedulePatch = z.output<typeof SchedulePatchSchema>;

export const ScheduleSchema = z
  .object({
    id: z.string(),
    ...fields,
    nextRunAt: z.string().nullable().describe('the next fire time (UTC), null when disabled'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Schedule' });
export type Schedule = z.output<typeof ScheduleSchema>;

export const ScheduleIdParams = z.object({
  id: z
    .string()
    .regex(SCHEDULE_ID, 'not a schedule id')
    .meta({ examples: ['sch-Wn3q0tXh2mZ8bK1cY7dLfA9e'] }),
});

export const ScheduleListQuery = z.object({
  enabled: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const ScheduleListSchema = z
  .object({
    items: z.array(ScheduleSchema),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  })
  .meta({ id: 'ScheduleList' });
