/** Forecast request and answer. */
import { z } from 'zod';
import { parseDay } from '../lib/calendar.ts';
import { MAX_WINDOW_DAYS } from './analytics.ts';

export const HORIZON_DEFAULTS = { day: 28, week: 8, month: 3 } as const;
export const HORIZON_MAX = { day: 365, week: 52, month: 12 } as const;

const day = z.iso.date();
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
        from: day.optional().describe('default: 730 days before `to`'),
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
    model: z.enum(['auto', 'seasonal_regression', 'linear_trend', 'seasonal_naive']).default('auto'),
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
      else if (t - f + 1 > MAX_WINDOW_DAYS)
        ctx.addIssue({
          code: 'custom',
          path: ['history', 'to'],
          message: `history may cover at most ${MAX_WINDOW_DAYS} days`,
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
  mase: z.number().nullable().describe('< 1: better than the seasonal naive forecast in-sample'),
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
          name: z.enum(['seasonal_regression', 'linear_trend', 'seasonal_naive']),
          features: z.array(z.string()),
          coefficients: z.record(z.string(), z.number()),
          transform: z.enum(['none', 'log1p']),
          reason: z.string(),
        }),
        backtest: z.object({
          method: z.literal('rolling_origin'),
          folds: z.number().int(),
          horizon: z.number().int(),
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
      dataAsOf: z.string().nullable(),
      complete: z.boolean(),
      computeMs: z.number(),
      cached: z.boolean(),
      warnings: z.array(z.string()).describe('groups left out, and why'),
    }),
  })
  .meta({ id: 'Forecast' });
export type ForecastAnswer = z.output<typeof ForecastAnswer>;
