/** Query and answer schemas of the analytics and sync endpoints. */
import { z } from 'zod';
import { parseDay } from '../lib/calendar.ts';
import { markPure } from '../lib/pure-schemas.ts';
import { BusinessDay } from './business-day.ts';
import { repeatable } from './catalog.ts';

/** What sales can be grouped by: store and product attributes, and time buckets. */
export const DIMENSIONS = [
  'store',
  'region',
  'category',
  'brand',
  'product',
  'day',
  'week',
  'month',
] as const;

export const MAX_WINDOW_DAYS = 1096; // three years, one of them leap
export const COMPARE_MODES = [
  'none',
  'previous_period',
  'previous_year',
  'rolling_7d',
  'same_weekday_4w',
] as const;
export const SALES_SORTS = ['revenue', 'units', 'orders', 'profit', 'growth', 'key'] as const;

const day = BusinessDay;

const idList = repeatable(z.string().min(1).max(200));
const nameList = repeatable(z.string().min(1).max(200));

function windowChecks(v: { from?: string | undefined; to?: string | undefined }, ctx: z.RefinementCtx) {
  if (!v.from || !v.to) return;
  const from = parseDay(v.from);
  const to = parseDay(v.to);
  if (from === undefined || to === undefined) return;
  if (from > to) ctx.addIssue({ code: 'custom', path: ['from'], message: `must not be after to (${v.to})` });
  else if (to - from + 1 > MAX_WINDOW_DAYS)
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `the window may cover at most ${MAX_WINDOW_DAYS} days (3 years)`,
    });
}

export const SalesQuery = z
  .object({
    from: day.optional().describe('first day, inclusive (default: 30 days before `to`)'),
    to: day.optional().describe('last day, inclusive (default: yesterday in BUSINESS_TZ)'),
    groupBy: z
      .string()
      .optional()
      .transform((v) => (v ? v.split(',').map((s) => s.trim()) : []))
      .pipe(
        z
          .array(z.enum(DIMENSIONS))
          .max(2, 'at most two dimensions, e.g. store,product')
          .refine((dims) => new Set(dims).size === dims.length, 'a dimension may appear once'),
      )
      .describe(`one or two of ${DIMENSIONS.join(', ')}, comma-separated`),
    compare: z.enum(COMPARE_MODES).default('previous_period'),
    storeId: idList.describe('only these stores (repeatable)'),
    region: nameList.describe('only stores of these regions (repeatable)'),
    category: nameList.describe('only these categories (repeatable)'),
    brand: nameList.describe('only these brands (repeatable)'),
    productId: idList.describe('only these products (repeatable)'),
    sort: z
      .enum(SALES_SORTS)
      .optional()
      .describe(
        'revenue, units, orders, profit, growth: descending, ties by key; key: by the group keys ascending, ' +
          'time first (days, weeks, months in time order). Default: key when grouped by day, week or month, ' +
          'else revenue',
      ),
    limit: z.coerce.number().int().min(1).max(5000).default(50),
  })
  .superRefine(windowChecks);
// No clock in it: "to" defaults to yesterday in the service, not here.
markPure(SalesQuery);
export type SalesQuery = z.output<typeof SalesQuery>;

const money = z.number().describe('in currency units, rounded to cents');
const pct = z.number().nullable().describe('percent, 2 decimals; null when there is nothing to compare with');

const Keys = z
  .object({
    store: z.string().optional(),
    region: z.string().optional(),
    category: z.string().optional(),
    brand: z.string().optional(),
    product: z.string().optional(),
    day: z.string().optional(),
    week: z.string().optional(),
    month: z.string().optional(),
  })
  .meta({ id: 'GroupKeys' });

const Meta = z
  .object({
    dataAsOf: z
      .string()
      .nullable()
      .describe('when the oldest day partition used was read from the system of record'),
    complete: z
      .boolean()
      .describe('false when a day is still open, was not re-read after a failure, or is missing'),
    stale: z
      .boolean()
      .describe(
        'true when older data was served because the system of record failed or did not answer in time ' +
          '(then also `X-Cache: STALE` and `Warning: 110`)',
      ),
    cached: z.boolean(),
    computeMs: z.number(),
    currency: z.string().describe('ISO 4217 code of every money figure of the answer (CURRENCY)'),
  })
  .meta({ id: 'AnalyticsMeta' });

export const SalesAnswer = z
  .object({
    period: z.object({ from: z.string(), to: z.string(), days: z.number().int() }),
    comparison: z.object({ mode: z.enum(COMPARE_MODES), from: z.string(), to: z.string() }).nullable(),
    kpis: z.object({
      revenue: money,
      units: z.number(),
      lines: z.number().int(),
      orders: z.number(),
      avgOrderValue: money,
      cost: money,
      profit: money,
      marginPct: pct,
      previous: z.object({ revenue: money, units: z.number(), orders: z.number(), profit: money }).nullable(),
      revenueGrowthPct: pct,
      unitsGrowthPct: pct,
      ordersGrowthPct: pct,
    }),
    rows: z.array(
      z.object({
        keys: Keys,
        labels: Keys,
        revenue: money,
        units: z.number(),
        lines: z.number().int(),
        orders: z.number(),
        avgOrderValue: money,
        profit: money,
        marginPct: pct,
        sharePct: pct.describe('row revenue / total revenue × 100, a percentage like every *Pct field'),
        share: z
          .number()
          .describe('row revenue / total revenue as a fraction 0..1 (the same figure as sharePct / 100)'),
        previousRevenue: money.nullable(),
        revenueGrowthPct: pct,
        revenuePerEmployee: money.nullable().optional(),
        partial: z
          .boolean()
          .optional()
          .describe(
            'week and month groupings: true when the window cuts this week or month (some of its days are ' +
              'outside the window), so its figures cover only part of it',
          ),
      }),
    ),
    totalRows: z.number().int(),
    trend: z.array(
      z.object({
        date: z.string(),
        revenue: money,
        units: z.number(),
        orders: z.number(),
        rolling7dAvgRevenue: money.describe('mean revenue of the 7 days ending on this date'),
      }),
    ),
    meta: Meta,
  })
  .meta({ id: 'SalesAnalytics' });
export type SalesAnswer = z.output<typeof SalesAnswer>;

export const STOCK_STATUSES = ['negative', 'out', 'low', 'ok'] as const;
export const STOCK_SORTS = ['urgency', 'daysOfCover', 'quantity', 'stockValue'] as const;
export const DEFAULT_LEAD_TIME_DAYS = 7;

export const StockQuery = z.object({
  storeId: idList.describe('only these stores (repeatable)'),
  category: nameList.describe('only these categories (repeatable)'),
  brand: nameList.describe('only these brands (repeatable)'),
  status: repeatable(z.enum(STOCK_STATUSES)).describe('negative, out, low, ok (repeatable)'),
  reorderNow: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe('true: only the items to reorder now; false: only the others'),
  leadTimeDays: z.coerce
    .number()
    .int()
    .min(1)
    .max(180)
    .default(DEFAULT_LEAD_TIME_DAYS)
    .describe('days a delivery ordered now takes to arrive: what "reorder now" measures cover against'),
  sort: z
    .enum(STOCK_SORTS)
    .default('daysOfCover')
    .describe(
      'urgency: items to reorder first, by revenue at stake (descending); daysOfCover: negative stock ' +
        'first, then the lowest cover, items without sales last; quantity: ascending; stockValue: descending',
    ),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
});
markPure(StockQuery);
export type StockQuery = z.output<typeof StockQuery>;

const count = (what: string) => z.number().int().describe(what);
const StockCounts = {
  storeProducts: count('store × product pairs in the stock book (one product in 3 stores counts 3)'),
  products: count('distinct products'),
  units: z.number().describe('units on hand (negative quantities count as 0)'),
  stockValue: money.describe('Σ max(quantity, 0) × price'),
  negativeStockCount: count('store × product pairs below zero: oversold, or a data error to check'),
  outOfStockCount: count('store × product pairs at zero'),
  lowStockCount: count('store × product pairs above zero, at or under their reorder level'),
};

export const StockAnswer = z
  .object({
    kpis: z.object({
      ...StockCounts,
      reorderNowCount: count('items that sell and whose stock lasts less than the lead time'),
      revenueAtStake: money.describe('Σ revenue at stake of the items to reorder now'),
      leadTimeDays: z.number().int(),
    }),
    rows: z.array(
      z.object({
        storeId: z.string(),
        storeName: z.string(),
        productId: z.string(),
        sku: z.string().nullable(),
        name: z.string(),
        category: z.string(),
        brand: z.string(),
        quantity: z.number(),
        reorderLevel: z.number(),
        avgDailyUnits: z.number().describe('units sold over the last 28 days / 28'),
        daysOfCover: z
          .number()
          .nullable()
          .describe('quantity / avgDailyUnits; null without sales, and for negative stock'),
        status: z.enum(STOCK_STATUSES),
        stockValue: money,
        reorderNow: z.boolean().describe('it sells, and its stock lasts less than the lead time'),
        revenueAtStake: money.describe(
          '(avgDailyUnits × lead time − max(quantity, 0)) × price when positive, else 0',
        ),
      }),
    ),
    totalRows: z.number().int(),
    byCategory: z.array(z.object({ category: z.string(), ...StockCounts })),
    coverDistribution: z
      .array(
        z.object({
          bucket: z.string(),
          label: z.string(),
          storeProducts: z.number().int(),
          stockValue: money,
        }),
      )
      .describe(
        'store × product pairs by days of cover, in order: negative, out, then cover ranges, no sales',
      ),
    meta: Meta,
  })
  .meta({ id: 'StockAnalytics' });
export type StockAnswer = z.output<typeof StockAnswer>;

export const SyncBody = z
  .object({
    from: day.optional().describe('default: 30 days before `to`'),
    to: day.optional().describe('default: yesterday'),
    force: z.boolean().default(false).describe('re-read every day even when held'),
  })
  .superRefine(windowChecks)
  .meta({ examples: [{ force: false }] });
export type SyncBody = z.output<typeof SyncBody>;

export const SyncReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    days: z.number().int(),
    fetched: z.number().int(),
    reused: z.number().int(),
    lines: z.number().int(),
    failed: z.array(z.object({ day: z.string(), error: z.string() })),
    ms: z.number(),
    linesPerSecond: z.number(),
  })
  .meta({ id: 'SyncReport' });

export const SyncStatus = z
  .object({
    today: z.string(),
    watermark: z.string().nullable().describe('the newest complete (closed) day held'),
    partitions: z.object({
      held: z.number().int(),
      oldest: z.string().nullable(),
      newest: z.string().nullable(),
      lines: z.number().int(),
      inMemory: z.number().int(),
      memoryBytes: z.number().int(),
    }),
    lastSync: SyncReportSchema.extend({ at: z.string() }).nullable(),
    lastError: z.object({ day: z.string(), error: z.string(), at: z.string() }).nullable(),
  })
  .meta({ id: 'SyncStatus' });
