/** Forecast request and answer. */
import { z } from 'zod';
import { parseDay } from '../lib/calendar.ts';
import { MAX_WINDOW_DAYS } from './analytics.ts';
import { BusinessDay } from './business-day.ts';

/** Weekly and monthly models need more than the analytics' three years: two full prior years and this one. */
export const MAX_HISTORY_DAYS = { day: MAX_WINDOW_DAYS, week: 1827, month: 1827 } as const;
/** Default history: two years of days; three years of weeks or months, so a yearly season is seen twice. */
export const HISTORY_DEFAULT_DAYS = { day: 730, week: 1096, month: 1096 } as const;
export const FORECAST_MODELS = [
  'seasonal_naive',
  'linear_trend',
  'seasonal_regression',
  'ets',
  'theta',
  'combination',
] as const;

export const HORIZON_DEFAULTS = { day: 28, week: 8, month: 3 } as const;
export const HORIZON_MAX = { day: 365, week: 52, month: 12 } as const;

const day = BusinessDay;
const ids = z.array(z.string().min(1).max(200)).min(1).max(500);

export const ForecastRequest = z
  .strictObject({
    target: z.enum(['revenue', 'units', 'orders']).default('revenue'),
    granularity: z.enum(['day', 'week', 'month']).default('day'),
    horizon: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('periods ahead; default 28 days / 8 weeks / 3 months; at most 365 / 52 / 12'),
    history: z
      .strictObject({
        from: day
          .optional()
          .describe(
            'default: 730 days before `to` (day), 1,096 (week, month); widened back to the start of its week or month',
          ),
        to: day.optional().describe('default: yesterday'),
      })
      .default({}),
    filters: z
      .strictObject({
        storeId: ids.optional(),
        region: ids.optional(),
        category: ids.optional(),
        brand: ids.optional(),
        productId: ids.optional(),
      })
      .default({}),
    groupBy: z
      .enum(['store', 'region', 'category', 'brand', 'product'])
      .optional()
      .describe('one series per group'),
    top: z.number().int().min(1).max(100).default(10).describe('groups by revenue over the history'),
    model: z
      .enum(['auto', ...FORECAST_MODELS])
      .default('auto')
      .describe('auto: the backtest chooses between the combination and the single models'),
    levels: z
      .array(z.number().int().min(50).max(99))
      .min(1)
      .max(4)
      .default([80, 95])
      .refine((l) => new Set(l).size === l.length, 'levels must be distinct'),
  })
  .superRefine((v, ctx) => {
    if (v.horizon !== undefined && v.horizon > HORIZON_MAX[v.granularity]) {
      ctx.addIssue({
        code: 'custom',
        path: ['horizon'],
        message: `at most ${HORIZON_MAX[v.granularity]} for granularity ${v.granularity}`,
      });
    }
    const { from, to } = v.history;
    if (from && to) {
      const f = parseDay(from)!;
      const t = parseDay(to)!;
      if (f > t)
        ctx.addIssue({ code: 'custom', path: ['history', 'from'], message: `must not be after to (${to})` });
      else if (t - f + 1 > MAX_HISTORY_DAYS[v.granularity])
        ctx.addIssue({
          code: 'custom',
          path: ['history', 'to'],
          message: `history may cover at most ${MAX_HISTORY_DAYS[v.granularity]} days for granularity ${v.granularity}`,
        });
    }
  })
  .meta({ examples: [{ target: 'revenue', granularity: 'day', horizon: 28, groupBy: 'store', top: 3 }] });
export type ForecastRequest = z.output<typeof ForecastRequest>;

const Band = z.record(z.string(), z.number()).describe('by level, e.g. {"80": 1200.5, "95": 1100.2}');
const Metrics = {
  mae: z.number().nullable().describe('null when the history is too short for any backtest fold'),
  rmse: z.number().nullable(),
  mape: z.number().nullable().describe('percent; null when an actual value is zero'),
  smape: z.number().nullable().describe('percent, 0..200'),
  mase: z
    .number()
    .nullable()
    .describe('mean absolute error over the in-sample seasonal naive MAE; < 1: better than seasonal naive'),
};

export const ForecastAnswer = z
  .object({
    series: z.array(
      z.object({
        keys: z.record(z.string(), z.string()),
        labels: z.record(z.string(), z.string()),
        history: z.array(z.object({ date: z.string(), value: z.number() })),
        forecast: z.array(z.object({ date: z.string(), value: z.number(), lower: Band, upper: Band })),
        model: z.object({
          name: z.enum(FORECAST_MODELS),
          features: z.array(z.string()),
          featureNotes: z
            .record(z.string(), z.string())
            .describe('what each feature means, e.g. {"dow_1": "Tuesday, against Monday"}'),
          coefficients: z
            .record(z.string(), z.number())
            .describe('rounded for display: 2 decimals, 4 significant digits below 1'),
          transform: z.enum(['none', 'log1p']),
          reason: z.string(),
        }),
        backtest: z.object({
          method: z.literal('rolling_origin'),
          folds: z.number().int().describe('all folds: the ones that chose the model, then the scored one'),
          horizon: z.number().int(),
          scored: z
            .object({ from: z.string(), to: z.string() })
            .nullable()
            .describe(
              'the dates of the last fold, which the metrics score: it never chose the model nor calibrated its intervals',
            ),
          coverage: z
            .record(z.string(), z.number().nullable())
            .describe(
              'by level: share of the scored fold inside intervals calibrated on the earlier folds; null without a separate fold',
            ),
          ...Metrics,
          baseline: z.object({
            name: z.literal('seasonal_naive'),
            mae: z.number().nullable(),
            mape: z.number().nullable(),
            mase: z.number().nullable(),
          }),
        }),
        warnings: z.array(z.string()),
      }),
    ),
    meta: z.object({
      target: z.enum(['revenue', 'units', 'orders']),
      granularity: z.enum(['day', 'week', 'month']),
      horizon: z.number().int(),
      dataAsOf: z.string().nullable(),
      complete: z.boolean(),
      computeMs: z.number(),
      cached: z.boolean(),
      warnings: z.array(z.string()).describe('groups left out, and why'),
    }),
  })
  .meta({ id: 'Forecast' });
export type ForecastAnswer = z.output<typeof ForecastAnswer>;
