/**
 * Sales forecasts: the daily series of the analytics engine, rolled up to the requested
 * granularity, modelled by forecast-fns (ETS, Theta, their combination with a seasonal regression,
 * and simpler baselines, chosen by a rolling-origin backtest, with conformal intervals), rounded for
 * display, and cached per (request, data version).
 */
import type { Cache } from '../../clients/cache/cache-types.ts';
import type { Config } from '../../config.ts';
import { AppError } from '../../errors.ts';
import { formatDay, isoWeekKey, monthKey, parseDay, weekday } from '../../lib/calendar.ts';
import {
  type ForecastAnswer,
  type ForecastRequest,
  HISTORY_DEFAULT_DAYS,
  HORIZON_DEFAULTS,
} from '../../models/forecast.ts';
import type { UpstreamStockItem } from '../../models/upstream.ts';
import { roundMoney } from '../analytics/kpi-fns.ts';
import type { PartitionStore } from '../analytics/partition-store.ts';
import type { DailySeries, SalesAnalyticsService } from '../analytics/sales-analytics-service.ts';
import type { StockAnalyticsService } from '../analytics/stock-analytics-service.ts';
import { cachedAnswer, elapsedMs, resultKey } from '../result-cache.ts';
import { featureNotes, roundForDisplay, roundMetrics } from './display-fns.ts';
import { forecast } from './forecast-fns.ts';
import { InsufficientHistoryError } from './forecast-types.ts';

/** Weekly data gets a yearly season from two full years on. */
const WEEKS_FOR_YEARLY_SEASON = 104;

export interface ForecastServiceDeps {
  sales: Pick<SalesAnalyticsService, 'dailySeries'>;
  stock: Pick<StockAnalyticsService, 'currentStock'>;
  partitions: Pick<PartitionStore, 'today'>;
  cache: Cache;
  config: Pick<Config, 'analytics'>;
}

interface Bucketed {
  dates: string[];
  values: number[];
  /** season length and the season position of the first value */
  period: number;
  phase: number;
  /** date of the bucket after index i (for the forecast's dates) */
  nextDate: (i: number) => string;
}

/**
 * Rolls a daily series up to weeks or months; partial weeks and months at the edges are dropped (the
 * history window is widened back to the start of its first week or month, so only a series that
 * really starts mid-month, or the current month, is partial).
 */
export function bucketize(
  days: number[],
  values: number[],
  granularity: ForecastRequest['granularity'],
): Bucketed {
  if (granularity === 'day') {
    const first = days[0] ?? 0;
    const last = days[days.length - 1] ?? 0;
    return {
      dates: days.map(formatDay),
      values,
      period: 7,
      phase: (weekday(first) + 6) % 7,
      nextDate: (i) => formatDay(last + 1 + i),
    };
  }
  const keyOf = granularity === 'week' ? isoWeekKey : monthKey;
  const groups: { key: string; start: number; days: number; value: number }[] = [];
  days.forEach((d, i) => {
    const key = keyOf(d);
    const lastGroup = groups[groups.length - 1];
    if (lastGroup?.key === key) {
      lastGroup.days++;
      lastGroup.value += values[i]!;
    } else groups.push({ key, start: d, days: 1, value: values[i]! });
  });
  const full = groups.filter((g) =>
    granularity === 'week'
      ? g.days === 7
      : g.days === daysInMonth(g.start) && new Date(g.start * 86_400_000).getUTCDate() === 1,
  );
  if (granularity === 'week') {
    const lastStart = full[full.length - 1]?.start ?? days[days.length - 1] ?? 0;
    const yearly = full.length >= WEEKS_FOR_YEARLY_SEASON;
    return {
      dates: full.map((g) => formatDay(g.start)),
      values: full.map((g) => g.value),
      period: yearly ? 52 : 0,
      phase: yearly && full[0] ? (Number(full[0].key.slice(-2)) - 1) % 52 : 0,
      nextDate: (i) => formatDay(lastStart + 7 * (i + 1)),
    };
  }
  const lastStart = full[full.length - 1]?.start ?? days[days.length - 1] ?? 0;
  const firstMonth = full[0] ? new Date(full[0].start * 86_400_000).getUTCMonth() : 0;
  return {
    dates: full.map((g) => formatDay(g.start)),
    values: full.map((g) => g.value),
    period: 12,
    phase: firstMonth,
    nextDate: (i) => {
      const d = new Date(lastStart * 86_400_000);
      return formatDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1 + i, 1) / 86_400_000);
    },
  };
}

function daysInMonth(day: number): number {
  const d = new Date(day * 86_400_000);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

/**
 * Zero sales while out of stock are not demand of zero. The system of record gives only today's
 * stock, so what can be known is: the product is out now everywhere it is stocked for this series,
 * and the trailing run of zero periods is when it ran out. Those periods are left out of fitting.
 */
function stockOutTail(values: number[], outOfStock: boolean): number[] {
  if (!outOfStock) return [];
  const excluded: number[] = [];
  for (let i = values.length - 1; i >= 0 && values[i] === 0; i--) excluded.push(i);
  return excluded.reverse();
}

export function forecastServiceFactory({ sales, stock, partitions, cache }: ForecastServiceDeps) {
  function isOutOfStock(
    series: DailySeries,
    request: ForecastRequest,
    items: readonly UpstreamStockItem[],
  ): boolean {
    const products = series.keys.product ? [series.keys.product] : request.filters.productId;
    if (!products?.length) return false; // only meaningful for product-level series
    const stores = series.keys.store
      ? new Set([series.keys.store])
      : request.filters.storeId
        ? new Set(request.filters.storeId)
        : null;
    const wanted = new Set(products);
    const relevant = items.filter((i) => wanted.has(i.productId) && (!stores || stores.has(i.storeId)));
    return relevant.length > 0 && relevant.every((i) => i.quantity <= 0);
  }

  return {
    async forecast(request: ForecastRequest): Promise<ForecastAnswer> {
      const started = performance.now();
      const today = partitions.today();
      const to = request.history.to ? parseDay(request.history.to)! : today - 1;
      const asked = request.history.from
        ? parseDay(request.history.from)!
        : to - (HISTORY_DEFAULT_DAYS[request.granularity] - 1);
      const from = startOfBucket(asked, request.granularity);
      const horizon = request.horizon ?? HORIZON_DEFAULTS[request.granularity];

      const daily = await sales.dailySeries({
        from,
        to,
        filters: request.filters,
        groupBy: request.groupBy,
        top: request.top,
        target: request.target,
      });
      const key = resultKey('forecast:v1', { ...request, history: { from, to }, horizon }, daily.dataVersion);
      const cached = await cachedAnswer<ForecastAnswer>(cache, key, started);
      if (cached) return cached;

      const productLevel = request.groupBy === 'product' || Boolean(request.filters.productId?.length);
      const items = productLevel ? (await stock.currentStock()).value : [];
      const unit =
        request.granularity === 'day' ? 'days' : request.granularity === 'week' ? 'weeks' : 'months';

      const series: ForecastAnswer['series'] = [];
      const skipped: string[] = [];
      for (const s of daily.series) {
        // Before a series' first sale there is no series yet: leading zero days are not demand of zero.
        const first = s.values.findIndex((v) => v !== 0);
        const begin = first < 0 ? s.values.length : first;
        const b = bucketize(daily.days.slice(begin), s.values.slice(begin), request.granularity);
        const exclude = stockOutTail(b.values, productLevel && isOutOfStock(s, request, items));
        const warnings: string[] = [];
        if (exclude.length > 0) {
          warnings.push(
            `${exclude.length} ${unit} at the end of the history left out of fitting: the product is out of stock ` +
              'and sold nothing, which is not demand of zero',
          );
        }
        try {
          const out = forecast({
            values: b.values,
            exclude,
            period: b.period,
            phase: b.phase,
            horizon,
            model: request.model,
            levels: request.levels,
          });
          series.push({
            keys: s.keys,
            labels: s.labels,
            history: b.values.map((value, i) => ({ date: b.dates[i]!, value: round(value) })),
            forecast: out.forecast.map((p, i) => ({
              date: b.nextDate(i),
              value: round(p.value),
              lower: mapValues(p.lower, round),
              upper: mapValues(p.upper, round),
            })),
            model: {
              ...out.model,
              featureNotes: featureNotes(
                out.model.name,
                out.model.features,
                request.granularity,
                out.model.transform,
              ),
              coefficients: mapValues(out.model.coefficients, roundForDisplay),
            },
            backtest: {
              ...roundMetrics(out.backtest),
              scored:
                out.backtest.scored.steps > 0
                  ? {
                      from: b.dates[out.backtest.scored.from]!,
                      to: b.dates[out.backtest.scored.from + out.backtest.scored.steps - 1]!,
                    }
                  : null,
              coverage: mapNullable(out.backtest.coverage, (v) => Math.round(v * 1000) / 1000),
              baseline: roundMetrics(out.backtest.baseline),
            },
            warnings: [...warnings, ...out.warnings],
          });
        } catch (err) {
          if (!(err instanceof InsufficientHistoryError)) throw err;
          if (!request.groupBy) {
            throw new AppError(
              422,
              'insufficient-history',
              'Not enough history to forecast',
              `${err.message} The history window ${formatDay(from)}..${formatDay(to)} holds ${b.values.length} ${unit}` +
                ` with ${b.values.filter((v) => v !== 0).length} non-zero; widen history or use a finer granularity.`,
              { needed: err.needed, have: err.have },
            );
          }
          // One group without history does not spoil the others: it is left out, and meta says so.
          skipped.push(`${Object.values(s.labels).join(' / ')} skipped: ${err.message}`);
        }
      }

      const answer: ForecastAnswer = {
        series,
        meta: {
          target: request.target,
          granularity: request.granularity,
          horizon,
          dataAsOf: daily.dataAsOf,
          complete: daily.complete,
          computeMs: elapsedMs(started),
          cached: false,
          warnings: skipped,
        },
      };
      await cache.set(key, answer, { ttlMs: 3_600_000 }).catch(() => {});
      return answer;
    },
  };
}

// Forecasts are shown with 2 decimals, rounded as the analytics round money.
const round = roundMoney;

function mapValues(o: Record<string, number>, f: (v: number) => number): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

function mapNullable(
  o: Record<string, number | null>,
  f: (v: number) => number,
): Record<string, number | null> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? null : f(v)]));
}

/** The Monday of `day`'s ISO week, or the 1st of its month; the day itself for daily series. */
export function startOfBucket(day: number, granularity: ForecastRequest['granularity']): number {
  if (granularity === 'week') return day - ((weekday(day) + 6) % 7);
  if (granularity === 'month') return day - (new Date(day * 86_400_000).getUTCDate() - 1);
  return day;
}

export type ForecastService = ReturnType<typeof forecastServiceFactory>;
