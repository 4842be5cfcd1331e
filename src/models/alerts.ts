/**
 * Alert rules and the alerts detection produces. Rules are plain data (the lead's rule storage
 * keeps them as rows); detection reads them and keeps no state of its own.
 */
import { z } from 'zod';
import { parseDay } from '../lib/calendar.ts';
import { BusinessDay } from './business-day.ts';

export const SALES_METRICS = ['revenue', 'units', 'orders'] as const;
export const STOCK_METRICS = ['stock_out', 'below_reorder', 'low_cover'] as const;
export const AlertMetric = z.enum([...SALES_METRICS, ...STOCK_METRICS]);
export type AlertMetric = z.infer<typeof AlertMetric>;
export type SalesMetric = (typeof SALES_METRICS)[number];
export const AlertLevel = z.enum(['store', 'region', 'category', 'brand', 'product']);
export type AlertLevel = z.infer<typeof AlertLevel>;
export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;
export const Direction = z.enum(['drop', 'spike']);
export type Direction = z.infer<typeof Direction>;
export const AlertKind = z.enum([
  'drop',
  'spike',
  'out_of_stock_lost_sales',
  'out_of_stock',
  'below_reorder',
  'low_cover',
]);
export type AlertKind = z.infer<typeof AlertKind>;

const ids = z.array(z.string().min(1).max(200)).min(1).max(500);
export const AlertFilters = z.strictObject({
  storeId: ids.optional(),
  region: ids.optional(),
  category: ids.optional(),
  brand: ids.optional(),
  productId: ids.optional(),
});
export type AlertFilters = z.infer<typeof AlertFilters>;

const SeverityStep = z.strictObject({
  minScore: z.number().min(0).describe('|score| at least this (stock rules: ignored)'),
  minMoney: z.number().min(0).describe('money at stake at least this, in currency units'),
});

export const Recipient = z.strictObject({
  channel: z.enum(['email', 'whatsapp', 'slack', 'webhook']),
  address: z.string().min(1).max(500),
  name: z.string().max(200).optional(),
  slice: AlertFilters.optional().describe('only alerts on these stores, regions, categories...'),
});

/** `12h`, `1d`, `2w`: how often a still-firing alert may be notified again. */
export const Duration = z.string().regex(/^[1-9]\d{0,3}[hdw]$/, 'a duration such as 12h, 1d or 2w');

export const AlertRule = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .describe('slug'),
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    metric: AlertMetric,
    level: AlertLevel,
    perStore: z
      .boolean()
      .default(false)
      .describe('level product: one series per (store, product) instead of the product over all stores'),
    direction: z.enum(['drop', 'spike', 'both']).default('both'),
    filters: AlertFilters.default({}),
    thresholds: z
      .strictObject({
        minScore: z.number().min(0.5).max(100).default(4).describe('robust z-score needed to alert'),
        minExpected: z
          .number()
          .min(0)
          .default(0)
          .describe(
            'entities expecting less are not checked: revenue in currency units, units, orders per day; ' +
              'stock rules: average daily units sold (items that sell)',
          ),
        baselineWeeks: z.number().int().min(2).max(26).default(6).describe('same weekday over N weeks'),
        leadTimeDays: z.number().min(0).max(365).default(7).describe('low_cover: cover under this alerts'),
      })
      .default({ minScore: 4, minExpected: 0, baselineWeeks: 6, leadTimeDays: 7 }),
    severity: z
      .strictObject({ warning: SeverityStep, critical: SeverityStep })
      .default({ warning: { minScore: 5, minMoney: 100 }, critical: { minScore: 8, minMoney: 1000 } })
      .describe('critical when both of its minimums are met, else warning when both of its are, else info'),
    includePromotions: z
      .boolean()
      .default(false)
      .describe('spikes mostly made by price cuts (promotions) alert too'),
    pendingPeriods: z.number().int().min(1).max(30).default(1).describe('consecutive days before firing'),
    repeatInterval: Duration.default('1d'),
    notifyOnResolve: z.boolean().default(false),
    recipients: z.array(Recipient).max(100).default([]),
    enabled: z.boolean().default(true),
  })
  .superRefine((r, ctx) => {
    const stock = (STOCK_METRICS as readonly string[]).includes(r.metric);
    if (stock && r.level !== 'product')
      ctx.addIssue({ code: 'custom', path: ['level'], message: 'stock rules are per product (in a store)' });
    // Filters pick entities; they do not re-slice a series (a category in one store is no level).
    const storeSide = r.level === 'store' || r.level === 'region' || (r.level === 'product' && r.perStore);
    const productSide = r.level === 'category' || r.level === 'brand' || r.level === 'product';
    for (const key of ['storeId', 'region'] as const)
      if (r.filters[key] && !storeSide)
        ctx.addIssue({
          code: 'custom',
          path: ['filters', key],
          message: `does not apply to level ${r.level}`,
        });
    for (const key of ['category', 'brand', 'productId'] as const)
      if (r.filters[key] && !productSide)
        ctx.addIssue({
          code: 'custom',
          path: ['filters', key],
          message: `does not apply to level ${r.level}`,
        });
  });
export type AlertRule = z.infer<typeof AlertRule>;
export type AlertRuleInput = z.input<typeof AlertRule>;

/**
 * What a fresh install gets, tuned on the sample upstream's data (README, Alerts):
 * - sales rules count receipts (`orders`): a count is far less lumpy than revenue, where one
 *   299.00 sale moves a small store's day by 10 %; money at stake and severity stay in revenue;
 * - stores and regions alert from a score of 4 on the first anomalous day (a store at −70 % today
 *   matters today); categories and brands need 5 (their many small series cry wolf at 4);
 * - products (over all stores) wait for a second anomalous day: one product's day is noisy;
 * - out of stock and low cover on items that sell at least one unit every two days;
 * - below reorder level is off: on a typical book one item in ten is below it, which is the
 *   purchasing report's job, not an alert's.
 */
export const DEFAULT_RULE_INPUTS: AlertRuleInput[] = [
  {
    id: 'store-orders',
    name: 'Store receipts drop or spike',
    metric: 'orders',
    level: 'store',
    thresholds: { minScore: 4, minExpected: 20 },
  },
  {
    id: 'region-orders',
    name: 'Region receipts drop or spike',
    metric: 'orders',
    level: 'region',
    thresholds: { minScore: 4, minExpected: 50 },
  },
  {
    id: 'category-orders',
    name: 'Category receipts drop or spike',
    metric: 'orders',
    level: 'category',
    thresholds: { minScore: 5, minExpected: 20 },
  },
  {
    id: 'brand-orders',
    name: 'Brand receipts drop or spike',
    metric: 'orders',
    level: 'brand',
    thresholds: { minScore: 5, minExpected: 20 },
  },
  {
    id: 'product-orders',
    name: 'Product receipts drop or spike (all stores)',
    metric: 'orders',
    level: 'product',
    thresholds: { minScore: 4, minExpected: 5 },
    pendingPeriods: 2,
  },
  {
    id: 'out-of-stock',
    name: 'Out of stock on an item that sells',
    metric: 'stock_out',
    level: 'product',
    perStore: true,
    thresholds: { minExpected: 0.5 },
    severity: { warning: { minScore: 0, minMoney: 50 }, critical: { minScore: 0, minMoney: 500 } },
  },
  {
    id: 'low-cover',
    name: 'Days of cover under the lead time',
    metric: 'low_cover',
    level: 'product',
    perStore: true,
    thresholds: { minExpected: 0.5, leadTimeDays: 7 },
    severity: { warning: { minScore: 0, minMoney: 200 }, critical: { minScore: 0, minMoney: 2000 } },
  },
  {
    id: 'below-reorder',
    name: 'Below reorder level',
    metric: 'below_reorder',
    level: 'product',
    perStore: true,
    enabled: false,
  },
];

export const DEFAULT_RULES: readonly AlertRule[] = DEFAULT_RULE_INPUTS.map((r) => AlertRule.parse(r));

const money = z.number().describe('currency units, rounded to cents');

export const Contributor = z.object({
  kind: z.enum(['store', 'category', 'product']),
  id: z.string(),
  name: z.string(),
  actual: z.number(),
  expected: z.number(),
  gap: z.number().describe('actual − expected, in the rule metric'),
  share: z.number().describe('part of the entity gap (0..1, may exceed 1 when others offset it)'),
  promotion: z.boolean().optional().describe('sold under its usual price'),
});
export type Contributor = z.infer<typeof Contributor>;

export const AlertEntity = z.object({
  level: AlertLevel,
  id: z.string().describe('store id, region, category, brand, product id, or storeId/productId'),
  name: z.string(),
  storeId: z.string().optional(),
  productId: z.string().optional(),
});
export type AlertEntity = z.infer<typeof AlertEntity>;

/** One rule's finding on one entity on one day: what the lifecycle turns into an alert. */
export const AlertCandidate = z.object({
  ruleId: z.string(),
  day: z.iso.date(),
  entity: AlertEntity,
  metric: AlertMetric,
  kind: AlertKind,
  direction: Direction.optional(),
  actual: z.number(),
  expected: z.number(),
  score: z.number().nullable().describe('robust z-score; null for stock rules'),
  severity: Severity,
  moneyAtStake: money.describe('|actual − expected| revenue; stock: revenue at risk over the lead time'),
  lostRevenue: money.optional(),
  baselineDays: z.array(z.iso.date()).optional(),
  holiday: z.string().optional().describe('the checked day is this public holiday'),
  promotion: z.boolean().optional(),
  stock: z
    .object({
      quantity: z.number(),
      reorderLevel: z.number(),
      avgDailyUnits: z.number(),
      daysOfCover: z.number().nullable(),
    })
    .optional(),
  explanation: z.object({ summary: z.string(), contributors: z.array(Contributor) }),
});
export type AlertCandidate = z.infer<typeof AlertCandidate>;

export const SkipCounts = z.object({
  belowMinVolume: z.number().int(),
  tooLittleHistory: z.number().int(),
  closed: z.number().int(),
  promotion: z.number().int(),
  stockUnknown: z.number().int().describe('stock rules on a past day: only current stock is known'),
});
export type SkipCounts = z.infer<typeof SkipCounts>;

export const FiredAlert = z.object({
  ruleId: z.string(),
  entity: AlertEntity,
  kind: AlertKind,
  direction: Direction.optional(),
  startedOn: z.iso.date().describe('first anomalous day of the run'),
  firedOn: z.iso.date().describe('the day pendingPeriods was reached'),
  lastOn: z.iso.date().describe('last anomalous day of the run'),
  resolvedOn: z.iso.date().nullable().describe('first checked day back to normal; null if still firing'),
  days: z.number().int(),
  peakScore: z.number().nullable(),
  severity: Severity,
  moneyAtStake: money.describe('summed over the run'),
  notifications: z.array(z.iso.date()).describe('days a notification would have gone out'),
  candidate: AlertCandidate.describe('the finding on the day it fired, with its explanation'),
});
export type FiredAlert = z.infer<typeof FiredAlert>;

export const BACKTEST_MAX_DAYS = 731;

export const BacktestQuery = z
  .strictObject({
    from: BusinessDay.meta({ examples: ['2026-11-02'] }),
    to: BusinessDay.meta({ examples: ['2026-11-15'] }),
    rule: z.string().max(100).optional().describe('a default rule id; all enabled default rules if absent'),
  })
  .superRefine((q, ctx) => {
    const f = parseDay(q.from);
    const t = parseDay(q.to);
    if (f === undefined || t === undefined) return;
    if (f > t) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to' });
    else if (t - f + 1 > BACKTEST_MAX_DAYS)
      ctx.addIssue({ code: 'custom', path: ['to'], message: `at most ${BACKTEST_MAX_DAYS} days` });
  });
export type BacktestQuery = z.infer<typeof BacktestQuery>;

export const BacktestAnswer = z.object({
  from: z.iso.date(),
  to: z.iso.date(),
  rules: z.array(z.string()),
  alerts: z.array(FiredAlert),
  days: z.object({
    checked: z.number().int(),
    closed: z.array(z.iso.date()),
    holidays: z.array(z.object({ day: z.iso.date(), name: z.string() })),
  }),
  skipped: SkipCounts,
  meta: z.object({ computeMs: z.number(), complete: z.boolean() }),
});
export type BacktestAnswer = z.infer<typeof BacktestAnswer>;
