/**
 * Alerts as they are kept and shown: the lifecycle state of each (rule, entity), silences, the
 * check's answer, and the queries of the alert endpoints. Detection's own shapes (rules,
 * candidates, the backtest) are in alerts.ts.
 */
import { z } from 'zod';
import { parseDay } from '../lib/calendar.ts';
import {
  AlertCandidate,
  AlertEntity,
  AlertKind,
  AlertMetric,
  AlertRule,
  Direction,
  Duration,
  Severity,
  SkipCounts,
} from './alerts.ts';
import { BusinessDay } from './business-day.ts';

export const ALERT_STATES = ['pending', 'firing', 'resolved'] as const;
export const AlertState = z.enum(ALERT_STATES);
export type AlertState = z.infer<typeof AlertState>;
/** What a check notifies about an alert: it started firing, it still fires (repeat), it resolved. */
export const NotifyKind = z.enum(['firing', 'repeat', 'resolved']);
export type NotifyKind = z.infer<typeof NotifyKind>;
/** What a check did to an alert. */
export const AlertChange = z.enum(['opened', 'reopened', 'continued', 'fired', 'resolved', 'retired']);
export type AlertChange = z.infer<typeof AlertChange>;

const ALERT_ID = /^alr-[A-Za-z0-9_-]{16,40}$/;
const SILENCE_ID = /^sil-[A-Za-z0-9_-]{8,40}$/;
export const RULE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const day = z.iso.date();
const instant = z.iso.datetime({ offset: true });

export const AlertRecord = z
  .object({
    id: z.string().describe('alr-…: the same (rule, entity) keeps its id across days and episodes'),
    ruleId: z.string(),
    entity: AlertEntity,
    metric: AlertMetric,
    kind: AlertKind,
    direction: Direction.nullable(),
    state: AlertState.describe('pending (anomalous, not yet for pendingPeriods days), firing, resolved'),
    severity: Severity.describe('of the latest anomalous day'),
    score: z.number().nullable().describe('robust z-score of the latest anomalous day; null for stock'),
    moneyAtStake: z.number().describe('of the latest anomalous day, in currency units'),
    firstSeen: day.describe('first anomalous day of this episode'),
    lastSeen: day.describe('latest anomalous day'),
    lastChecked: day.describe('latest day a check evaluated this rule for it'),
    consecutive: z.number().int().describe('anomalous checks in a row in this episode'),
    episodes: z.number().int().describe('how many times this (rule, entity) opened'),
    firedOn: day.nullable(),
    resolvedOn: day.nullable(),
    acknowledged: z.object({ at: z.string(), by: z.string() }).nullable(),
    snoozedUntil: z.string().nullable().describe('no notification before this time'),
    lastNotifiedAt: z.string().nullable(),
    lastNotifiedDay: day.nullable().describe('the checked day of the latest notification'),
    detection: AlertCandidate.describe('the latest anomalous day: actual, expected, explanation...'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Alert' });
export type AlertRecord = z.infer<typeof AlertRecord>;

export const AlertIdParams = z.object({
  alertId: z
    .string()
    .regex(ALERT_ID, 'not an alert id')
    .meta({ examples: ['alr-3Jq0x3N6dPZ1wQm8cV2kHn'] }),
});

export const AlertListQuery = z
  .object({
    state: AlertState.optional(),
    severity: Severity.optional(),
    entity: z
      .string()
      .min(1)
      .max(400)
      .optional()
      .describe("an entity id; a store's or a product's id also finds its store-product alerts"),
    rule: z.string().regex(RULE_ID).optional(),
    from: BusinessDay.optional().describe('alerts anomalous on or after this day (lastSeen ≥ from)'),
    to: BusinessDay.optional().describe('alerts that started on or before this day (firstSeen ≤ to)'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .superRefine((q, ctx) => {
    if (q.from && q.to && (parseDay(q.from) ?? 0) > (parseDay(q.to) ?? 0))
      ctx.addIssue({ code: 'custom', path: ['from'], message: `must not be after to (${q.to})` });
  });
export type AlertListQuery = z.output<typeof AlertListQuery>;

export const AlertList = z
  .object({
    items: z.array(AlertRecord),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  })
  .meta({ id: 'AlertList' });

export const AlertSeries = z.object({
  metric: z.enum(['revenue', 'units', 'orders']).describe("the rule's metric; units for stock rules"),
  from: day,
  to: day,
  values: z.array(z.object({ day, value: z.number() })),
  complete: z.boolean().describe('false when a day of the window is open or was not read afresh'),
});

export const AlertDetail = AlertRecord.extend({
  rule: z.object({ id: z.string(), name: z.string() }).nullable().describe('null once the rule is deleted'),
  series: AlertSeries.describe(
    "the metric's daily values from 28 days before the episode to 7 days after it (at most yesterday), " +
      'from the sales analytics',
  ),
  silencedBy: z.array(z.string()).describe('active silences that match it'),
});
export type AlertDetail = z.infer<typeof AlertDetail>;

export const AckBody = z
  .strictObject({
    by: z.string().trim().min(1).max(200).optional().describe("who (default: the API key's id)"),
  })
  .optional()
  .meta({ examples: [{ by: 'Anna, store 7' }] });

export const SnoozeBody = z
  .strictObject({
    until: instant.nullable().optional().describe('no notification before this time; null ends the snooze'),
    for: Duration.optional().describe('or for this long from now: 12h, 1d, 2w'),
  })
  .superRefine((b, ctx) => {
    if ((b.until === undefined) === (b.for === undefined))
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'give either until or for' });
  })
  .meta({ examples: [{ for: '1d' }] });
export type SnoozeBody = z.output<typeof SnoozeBody>;

// --- silences ---------------------------------------------------------------------------------

export const Silence = z
  .object({
    id: z.string(),
    ruleId: z.string().nullable(),
    entityId: z.string().nullable(),
    startsAt: z.string(),
    endsAt: z.string(),
    comment: z.string(),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    active: z.boolean(),
  })
  .meta({ id: 'Silence' });
export type Silence = z.infer<typeof Silence>;

export const SilenceCreate = z
  .strictObject({
    ruleId: z.string().regex(RULE_ID, 'a rule id').optional().describe('only alerts of this rule'),
    entityId: z
      .string()
      .trim()
      .min(1)
      .max(400)
      .optional()
      .describe(
        "only alerts of this entity (store id, region, category, brand, product id or storeId/productId); a store's " +
          "or a product's id also silences its store-product alerts",
      ),
    endsAt: instant.optional().describe('when the silence ends'),
    for: Duration.optional().describe('or how long from now: 12h, 1d, 2w'),
    comment: z.string().trim().min(1).max(1000),
  })
  .superRefine((b, ctx) => {
    if (b.ruleId === undefined && b.entityId === undefined)
      ctx.addIssue({ code: 'custom', path: ['ruleId'], message: 'give ruleId, entityId or both' });
    if ((b.endsAt === undefined) === (b.for === undefined))
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'give either endsAt or for' });
  })
  .meta({
    examples: [{ ruleId: 'product-orders', for: '1d', comment: 'Known supplier issue, being handled' }],
  });
export type SilenceCreate = z.output<typeof SilenceCreate>;

export const SilenceIdParams = z.object({
  silenceId: z
    .string()
    .regex(SILENCE_ID, 'not a silence id')
    .meta({ examples: ['sil-Wn3q0tXh2mZ8bK1c'] }),
});

export const SilenceListQuery = z.object({
  active: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: only silences in force now; false: only ended (or not yet started) ones'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const SilenceList = z
  .object({
    items: z.array(Silence),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  })
  .meta({ id: 'SilenceList' });

// --- rules --------------------------------------------------------------------------------------

export const RuleIdParams = z.object({
  ruleId: z
    .string()
    .regex(RULE_ID, 'not a rule id')
    .meta({ examples: ['example-store-revenue'] }),
});

const EXAMPLE_RULE = {
  id: 'example-store-revenue',
  name: 'Store revenue drop (example)',
  metric: 'revenue',
  level: 'store',
  direction: 'drop',
  thresholds: { minScore: 4, minExpected: 500 },
  pendingPeriods: 2,
  repeatInterval: '1d',
  notifyOnResolve: true,
  recipients: [{ channel: 'email', address: 'ops@example.com', name: 'Operations' }],
  enabled: false,
};

/** The body of POST and PUT: a whole rule, checked by the detection's own model. */
export const AlertRuleBody = AlertRule.meta({ examples: [EXAMPLE_RULE] });

export const AlertRuleList = z
  .object({ items: z.array(AlertRule), total: z.number().int() })
  .meta({ id: 'AlertRuleList' });

// --- the check ------------------------------------------------------------------------------------

export const CheckBody = z
  .strictObject({
    date: BusinessDay.optional().describe('the business day to check (default: yesterday in BUSINESS_TZ)'),
  })
  .optional()
  .meta({ examples: [{}] });
export type CheckBody = z.output<typeof CheckBody>;

export const CheckedAlert = z.object({
  id: z.string(),
  ruleId: z.string(),
  entity: AlertEntity,
  kind: AlertKind,
  direction: Direction.nullable(),
  state: AlertState,
  previousState: AlertState.nullable(),
  change: AlertChange,
  severity: Severity,
  score: z.number().nullable(),
  moneyAtStake: z.number(),
  summary: z.string().describe('the explanation of the latest anomalous day'),
  notify: NotifyKind.nullable().describe('what this check notified about it'),
  suppressed: z
    .string()
    .nullable()
    .describe('why a notification that was due did not go: acknowledged, snoozed, silenced by sil-…'),
});
export type CheckedAlert = z.infer<typeof CheckedAlert>;

export const CheckDelivery = z.object({
  deliveryId: z.string(),
  channel: z.string(),
  address: z.string().describe('URLs shown as origin and first path segment'),
  name: z.string().nullable(),
  state: z.string().describe('sent, failed, unknown, retrying, pending, sending (the ledger)'),
  claimed: z.boolean().describe('false: an earlier check already sent this same message'),
  attempts: z.number().int(),
  error: z.string().nullable(),
  alerts: z.array(z.object({ id: z.string(), notify: NotifyKind })),
});
export type CheckDelivery = z.infer<typeof CheckDelivery>;

export const CheckAnswer = z
  .object({
    day,
    closed: z.boolean().describe('nobody sold anything: sales rules are not checked'),
    holiday: z.string().nullable(),
    complete: z.boolean().describe('false when a day the check read was incomplete'),
    rules: z.array(z.string()).describe('rules evaluated this day'),
    candidates: z.number().int().describe('anomalies found by detection'),
    skipped: SkipCounts,
    alerts: z.array(CheckedAlert).describe('every alert the check changed, most severe first'),
    deliveries: z.array(CheckDelivery),
    meta: z.object({ computeMs: z.number() }),
  })
  .meta({ id: 'AlertCheck' });
export type CheckAnswer = z.infer<typeof CheckAnswer>;
