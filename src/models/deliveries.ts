/** Schedule runs (the execution log) and deliveries (the ledger), as the API shows them. */
import { z } from 'zod';
import { DELIVERY_CHANNELS, RUN_STATES, RUN_TRIGGERS } from './schedules.ts';

export const DELIVERY_STATES = ['pending', 'sending', 'sent', 'failed', 'retrying', 'unknown'] as const;

const page = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

export const RunRequestSchema = z
  .object({
    period: z
      .string()
      .max(20)
      .optional()
      .describe(
        'daily: YYYY-MM-DD; weekly: YYYY-Www; monthly: YYYY-MM. Default: the period a fire now covers',
      ),
    dryRun: z.boolean().default(false).describe('send nothing: list who would get what'),
  })
  .strict()
  .meta({ examples: [{}, { dryRun: true }, { period: '2026-12-01' }] });

export const RecipientOutcomeSchema = z.object({
  channel: z.string(),
  address: z.string(),
  name: z.string().optional(),
  slice: z.string().describe('all, store:<id> or region:<name>: recipients of one slice share one file'),
  state: z.enum(['pending', 'sending', 'sent', 'failed', 'retrying', 'unknown', 'skipped']),
  deliveryId: z.string().optional(),
  attempts: z.number().int().optional(),
  reason: z.string().optional(),
  files: z.array(z.string()).optional(),
});

export const RunSchema = z
  .object({
    id: z.string(),
    scheduleId: z.string(),
    period: z.string(),
    trigger: z.enum(RUN_TRIGGERS),
    state: z.enum(RUN_STATES),
    late: z.boolean(),
    fireAt: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    attempts: z.number().int(),
    error: z.string().nullable(),
    recipients: z.array(RecipientOutcomeSchema),
  })
  .meta({ id: 'ScheduleRun' });

export const RunListSchema = z
  .object({
    items: z.array(RunSchema),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  })
  .meta({ id: 'ScheduleRunList' });

export const RunAcceptedSchema = z
  .object({
    runId: z.string(),
    period: z.string(),
    statusUrl: z.string(),
  })
  .meta({ id: 'ScheduleRunAccepted' });

export const DryRunSchema = z
  .object({
    dryRun: z.literal(true),
    period: z.object({ key: z.string(), from: z.string(), to: z.string() }),
    renders: z.number().int().describe('files that would be rendered: one per slice and format'),
    recipients: z.array(
      z.object({
        channel: z.string(),
        address: z.string(),
        name: z.string().optional(),
        slice: z.string(),
        files: z.array(z.string()),
        alreadyDelivered: z
          .boolean()
          .describe('the ledger has this period settled for them: it would not be sent again'),
      }),
    ),
  })
  .meta({ id: 'ScheduleDryRun' });

export const RunIdParams = z.object({
  id: z
    .string()
    .regex(/^sch-[A-Za-z0-9_-]{8,40}$/, 'not a schedule id')
    .meta({ examples: ['sch-Wn3q0tXh2mZ8bK1cY7dLfA9e'] }),
  runId: z
    .string()
    .regex(/^run-[A-Za-z0-9_-]{8,60}$/, 'not a run id')
    .meta({ examples: ['run-m-yWw3Ft2BFbJT5kri'] }),
});

export const RunListQuery = z.object(page);

export const DeliverySchema = z
  .object({
    id: z.string(),
    source: z.string(),
    sourceId: z.string(),
    period: z.string(),
    channel: z.enum(DELIVERY_CHANNELS),
    address: z.string(),
    name: z.string().optional(),
    state: z.enum(DELIVERY_STATES),
    attempts: z.number().int(),
    providerMessageId: z.string().nullable(),
    error: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    sentAt: z.string().nullable(),
  })
  .meta({ id: 'Delivery' });

export const DeliveryListSchema = z
  .object({
    items: z.array(DeliverySchema),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  })
  .meta({ id: 'DeliveryList' });

export const DeliveryListQuery = z.object({
  state: z.enum(DELIVERY_STATES).optional(),
  schedule: z.string().max(100).optional().describe('a schedule id'),
  source: z.enum(['schedule', 'alert']).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('created at or after (ISO 8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('created before (ISO 8601)'),
  ...page,
});

export const DeliveryIdParams = z.object({
  deliveryId: z
    .string()
    .regex(/^dlv-[A-Za-z0-9_-]{8,40}$/, 'not a delivery id')
    .meta({ examples: ['dlv-1SgnrgPCJixcMBQK'] }),
});

export const ResendAcceptedSchema = z
  .object({ deliveryId: z.string(), state: z.literal('pending'), statusUrl: z.string() })
  .meta({ id: 'ResendAccepted' });
