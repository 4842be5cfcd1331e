/**
 * Sales forecasting core: pure functions, no I/O. Fits one of three models on an evenly spaced series
 * (or lets a rolling-origin backtest choose), forecasts `horizon` steps with prediction intervals taken
 * from the backtest errors, and reports the backtest against the seasonal naive baseline.
 */
import { backtestMetrics, errorsByStep, type FoldPlan, intervalBands, planFolds } from './backtest-fns.ts';
import {
  type FittedModel,
  fitLinearTrend,
  fitSeasonalNaive,
  fitSeasonalRegression,
  naiveScale,
  type Series,
  seasonOf,
} from './models-fns.ts';

export type ModelName = 'seasonal_regression' | 'linear_trend' | 'seasonal_naive';

export interface ForecastInput {
  /** the observed series, oldest first, evenly spaced (days, weeks or months) */
  values: number[];
  /** indexes (into values) to leave out of fitting, e.g. stock-out days; they still count as time steps */
  exclude?: number[];
  /** season length: 7 for daily data (day of week), 12 for monthly (month of year), 0/1 = none (weekly data) */
  period: number;
  /** the seasonal position of values[0] (e.g. weekday 0..6 of the first day, or month 0..11), so dummies line up */
  phase: number;
  horizon: number;
  model: 'auto' | ModelName;
  /** interval levels in percent, e.g. [80, 95] */
  levels: number[];
}

export interface ForecastPoint {
  value: number;
  lower: Record<string, number>;
  upper: Record<string, number>;
}

/**
 * null when nothing could be scored (no backtest fold fits in the history); MAPE also when an actual
 * is 0, MASE also when the naive scale is 0 (a flat training window).
 */
export interface BacktestMetrics {
  mae: number | null;
  rmse: number | null;
  /** percent */
  mape: number | null;
  /** percent, 0..200 */
  smape: number | null;
  mase: number | null;
}

export interface ForecastOutput {
  /** horizon points, never below zero */
  forecast: ForecastPoint[];
  model: {
    name: ModelName;
    features: string[];
    coefficients: Record<string, number>;
    transform: 'none' | 'log1p';
    reason: string;
  };
  backtest: { method: 'rolling_origin'; folds: number; horizon: number } & BacktestMetrics & {
      baseline: { name: 'seasonal_naive' } & Pick<BacktestMetrics, 'mae' | 'mape' | 'mase'>;
    };
  warnings: string[];
}

/** Fewer usable (non-excluded) points than any model can be fitted on. */
export class InsufficientHistoryError extends Error {
  constructor(
    readonly needed: number,
    readonly have: number,
  ) {
    super(`forecasting needs at least ${needed} usable (not excluded) points, have ${have}`);
    this.name = 'InsufficientHistoryError';
  }
}

export const MIN_HISTORY = 3;

/** Ties in the backtest go to the first model here: fewer parameters, fewer ways to be wrong. */
const SIMPLICITY: readonly ModelName[] = ['seasonal_naive', 'linear_trend', 'seasonal_regression'];
const MODEL_NAMES = new Set<string>(['auto', ...SIMPLICITY]);

export function forecast(input: ForecastInput): ForecastOutput {
  validate(input);
  const { values, horizon } = input;
  const levels = [...new Set(input.levels)];
  const n = values.length;
  const excluded = new Set((input.exclude ?? []).filter((i) => Number.isInteger(i) && i >= 0 && i < n));
  const usable = values.map((v, i) => Number.isFinite(v) && !excluded.has(i));
  const have = usable.filter(Boolean).length;
  if (have < MIN_HISTORY) throw new InsufficientHistoryError(MIN_HISTORY, have);

  const period = input.period >= 2 ? input.period : 0;
  const phase = period > 0 ? ((input.phase % period) + period) % period : 0;
  const series: Series = { values, usable, period, phase };
  const warnings: string[] = [];
  if (n - have > 0) warnings.push(`${n - have} ${n - have === 1 ? 'period' : 'periods'} left out of fitting`);

  const lag = period >= 2 && n > period ? period : 1;
  if (period >= 2 && lag === 1) {
    warnings.push(`less than one full season (${period} points): seasonal_naive repeats the last value`);
  }
  const fit: Record<ModelName, (end: number) => FittedModel> = {
    seasonal_regression: (end) => fitSeasonalRegression(series, end),
    linear_trend: (end) => fitLinearTrend(series, end),
    seasonal_naive: (end) => fitSeasonalNaive(series, end, lag),
  };

  const blocker = seasonalRegressionBlocker(series);
  let candidates: ModelName[];
  let requestedReason = '';
  if (input.model === 'auto') {
    candidates = blocker ? ['seasonal_naive', 'linear_trend'] : [...SIMPLICITY];
    if (blocker && period >= 2) warnings.push(`seasonal_regression not considered: ${blocker}`);
  } else if (input.model === 'seasonal_regression' && blocker) {
    candidates = ['linear_trend'];
    requestedReason = `seasonal_regression requested, but ${blocker}: fell back to linear_trend`;
    warnings.push(`seasonal_regression fell back to linear_trend: ${blocker}`);
  } else {
    candidates = [input.model];
    requestedReason = `${input.model} as requested`;
  }

  const minTrain = (models: readonly ModelName[]) =>
    Math.max(MIN_HISTORY, lag + 1, models.includes('seasonal_regression') ? 2 * period : 0);
  let plan = planFolds(series, minTrain(candidates), horizon);
  if (plan.origins.length === 0 && input.model === 'auto' && candidates.includes('seasonal_regression')) {
    candidates = candidates.filter((c) => c !== 'seasonal_regression');
    warnings.push('seasonal_regression not considered: too little history to backtest it');
    plan = planFolds(series, minTrain(candidates), horizon);
  }

  const scales = plan.origins.map((origin) => naiveScale(series, origin, lag));
  const foldForecasts = new Map<ModelName, number[][]>();
  const metrics = new Map<ModelName, BacktestMetrics>();
  for (const name of new Set<ModelName>([...candidates, 'seasonal_naive'])) {
    const forecasts = plan.origins.map((origin) => fit[name](origin).predict(plan.horizon));
    foldForecasts.set(name, forecasts);
    metrics.set(name, backtestMetrics(series, plan, forecasts, scales));
  }

  const choice =
    input.model === 'auto'
      ? pickByBacktest(candidates, metrics, plan)
      : { name: candidates[0]!, reason: requestedReason };
  const model = fit[choice.name](n);
  const points = model.predict(horizon);

  const log = model.transform === 'log1p';
  const toErrorSpace = log ? Math.log1p : (v: number) => v;
  const fromErrorSpace = log ? Math.expm1 : (v: number) => v;
  const byStep = errorsByStep(series, plan, foldForecasts.get(choice.name) ?? [], toErrorSpace);
  // A seasonal naive forecast k steps ahead is only ⌈k / lag⌉ seasons of drift away from its source.
  const growth =
    choice.name === 'seasonal_naive' ? (k: number) => Math.sqrt(Math.floor((k - 1) / lag) + 1) : Math.sqrt;
  const { method, bands } = intervalBands(byStep, horizon, levels, model.residualSd(), growth);
  if (method === 'residual') {
    warnings.push('prediction intervals from the in-sample residuals: too little history to backtest');
  } else if (method === 'scaled') {
    warnings.push(
      'prediction intervals assume normal errors: too few backtest errors for empirical quantiles',
    );
  } else if (plan.horizon < horizon) {
    warnings.push(
      `backtest folds cover ${plan.horizon} of ${horizon} steps: later intervals are widened by √(step / ${plan.horizon})`,
    );
  }

  const forecastPoints = points.map((value, k): ForecastPoint => {
    const lower: Record<string, number> = {};
    const upper: Record<string, number> = {};
    for (const band of bands) {
      const key = String(band.level);
      const centre = toErrorSpace(value);
      lower[key] = Math.min(value, Math.max(0, fromErrorSpace(centre + band.lower[k]!)));
      upper[key] = Math.max(value, fromErrorSpace(centre + band.upper[k]!));
    }
    return { value, lower, upper };
  });

  const chosen = metrics.get(choice.name) ?? emptyMetrics();
  const baseline = metrics.get('seasonal_naive') ?? emptyMetrics();
  return {
    forecast: forecastPoints,
    model: {
      name: model.name,
      features: model.features,
      coefficients: model.coefficients,
      transform: model.transform,
      reason: model.note ? `${choice.reason}; ${model.note}` : choice.reason,
    },
    backtest: {
      method: 'rolling_origin',
      folds: plan.origins.length,
      horizon: plan.horizon,
      ...chosen,
      baseline: { name: 'seasonal_naive', mae: baseline.mae, mape: baseline.mape, mase: baseline.mase },
    },
    warnings,
  };
}

function validate(input: ForecastInput): void {
  if (!Array.isArray(input.values)) throw new TypeError('values must be an array of numbers');
  if (!Number.isInteger(input.horizon) || input.horizon < 1) {
    throw new RangeError(`horizon must be a positive integer, got ${input.horizon}`);
  }
  if (!Number.isInteger(input.period) || input.period < 0) {
    throw new RangeError(`period must be a non-negative integer, got ${input.period}`);
  }
  if (!Number.isInteger(input.phase)) throw new RangeError(`phase must be an integer, got ${input.phase}`);
  if (!MODEL_NAMES.has(input.model)) throw new RangeError(`unknown model ${String(input.model)}`);
  for (const level of input.levels) {
    if (!(level > 0 && level < 100))
      throw new RangeError(`interval levels must be in (0, 100), got ${level}`);
  }
}

/** Why seasonal dummies cannot be estimated on this series, or null when they can. */
function seasonalRegressionBlocker(series: Series): string | null {
  const { period } = series;
  const n = series.values.length;
  if (period < 2) return 'no season (period ≤ 1)';
  if (n < 2 * period) return `fewer than two full seasons (${2 * period} points needed, have ${n})`;
  const seen = new Array<boolean>(period).fill(false);
  let usable = 0;
  for (let t = 0; t < n; t++) {
    if (!series.usable[t]) continue;
    seen[seasonOf(series, t)] = true;
    usable++;
  }
  if (usable < period + 2) return `too few usable points (${usable}) for ${period + 1} coefficients`;
  if (seen.includes(false)) return 'a seasonal position has no usable point';
  return null;
}

function pickByBacktest(
  candidates: readonly ModelName[],
  metrics: ReadonlyMap<ModelName, BacktestMetrics>,
  plan: FoldPlan,
): { name: ModelName; reason: string } {
  const ordered = SIMPLICITY.filter((name) => candidates.includes(name));
  const byMase = ordered.every((name) => metrics.get(name)?.mase != null);
  const score = (name: ModelName) => (byMase ? metrics.get(name)?.mase : metrics.get(name)?.mae) ?? null;
  if (plan.origins.length === 0 || ordered.some((name) => score(name) === null)) {
    return {
      name: 'linear_trend',
      reason: 'auto: too little history to backtest the models; linear_trend by default',
    };
  }
  const tied = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  let best = ordered[0]!;
  for (const name of ordered.slice(1)) {
    const s = score(name)!;
    if (s < score(best)! && !tied(s, score(best)!)) best = name;
  }
  const metric = byMase ? 'MASE' : 'MAE';
  const others = ordered
    .filter((name) => name !== best)
    .map((name) => `${name} ${format(score(name)!)}`)
    .join(', ');
  const notes = [
    ...(ordered.some((name) => name !== best && tied(score(name)!, score(best)!))
      ? ['a tie: the simpler model wins']
      : []),
    ...(byMase ? [] : ['MASE undefined: the naive scale is 0']),
  ];
  return {
    name: best,
    reason: `auto: ${best} had the lowest backtest ${metric} (${format(score(best)!)} vs ${others})${notes.map((n) => `; ${n}`).join('')}`,
  };
}

function format(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

function emptyMetrics(): BacktestMetrics {
  return { mae: null, rmse: null, mape: null, smape: null, mase: null };
}
