/**
 * Rolling-origin backtest: fold planning, error metrics, and prediction intervals from the errors the
 * backtest observed at each step ahead.
 */
import { mean, probit, quantile, rootMeanSquare } from 'simple-statistics';
import type { BacktestMetrics } from './forecast-fns.ts';
import type { Series } from './models-fns.ts';

const MAX_FOLDS = 5;
const MIN_FOLDS = 3;
/** Fewer usable points than this before an origin make the fold meaningless. */
const MIN_FOLD_TRAINING = 3;
/** Backtest errors needed before their empirical quantiles are trusted for the interval shape. */
const MIN_EMPIRICAL = 30;
/** Errors behind each step's spread; a step with fewer borrows its neighbours'. */
const MIN_SPREAD_POOL = 40;
/** Below this many backtest errors, intervals come from the final fit's residuals instead. */
const MIN_SCALED = 5;

export interface FoldPlan {
  /** the first test time step of each fold, oldest first; each fold trains on everything before it */
  origins: number[];
  /** steps scored after each origin */
  horizon: number;
}

/**
 * The last folds × h time steps, cut into consecutive test windows of h steps. h is the requested
 * horizon unless the history cannot hold three such windows after `minTrain` steps of training.
 * The windows end at the last usable point: an excluded tail (a stock-out now) has nothing to score.
 */
export function planFolds(series: Series, minTrain: number, horizon: number): FoldPlan {
  const n = series.usable.lastIndexOf(true) + 1;
  const room = n - minTrain;
  if (room < 1) return { origins: [], horizon: 0 };
  const h = Math.max(1, Math.min(horizon, Math.floor(room / MIN_FOLDS)));
  const folds = Math.min(MAX_FOLDS, Math.floor(room / h));
  const usableBefore: number[] = [0];
  for (let i = 0; i < n; i++) usableBefore.push(usableBefore[i]! + (series.usable[i] ? 1 : 0));
  const origins: number[] = [];
  for (let f = folds; f >= 1; f--) {
    const origin = n - f * h;
    const scored = usableBefore[origin + h]! - usableBefore[origin]!;
    if (usableBefore[origin]! >= MIN_FOLD_TRAINING && scored > 0) origins.push(origin);
  }
  return { origins, horizon: origins.length > 0 ? h : 0 };
}

/**
 * Metrics over every usable (actual, forecast) pair of every fold. MAPE and sMAPE are percentages;
 * MAPE is null as soon as one actual is 0 (dropping those points would flatter intermittent series).
 * MASE divides each absolute error by its fold's in-sample one-season naive MAE and averages; null
 * when a fold's scale is 0 or undefined (e.g. a flat training window).
 */
export function backtestMetrics(
  series: Series,
  plan: FoldPlan,
  forecasts: number[][],
  scales: readonly number[],
): BacktestMetrics {
  const abs: number[] = [];
  const errors: number[] = [];
  const pct: number[] = [];
  const sym: number[] = [];
  const scaled: number[] = [];
  let zeroActual = false;
  let scaleMissing = false;
  plan.origins.forEach((origin, f) => {
    const scale = scales[f] ?? Number.NaN;
    for (let k = 0; k < plan.horizon; k++) {
      const t = origin + k;
      if (!series.usable[t]) continue;
      const actual = series.values[t]!;
      const predicted = forecasts[f]![k]!;
      const e = actual - predicted;
      errors.push(e);
      abs.push(Math.abs(e));
      if (actual === 0) zeroActual = true;
      else pct.push(Math.abs(e / actual) * 100);
      const denominator = Math.abs(actual) + Math.abs(predicted);
      sym.push(denominator === 0 ? 0 : (200 * Math.abs(e)) / denominator);
      if (scale > 0) scaled.push(Math.abs(e) / scale);
      else scaleMissing = true;
    }
  });
  if (abs.length === 0) return { mae: null, rmse: null, mape: null, smape: null, mase: null };
  return {
    mae: mean(abs),
    rmse: rootMeanSquare(errors),
    mape: zeroActual ? null : mean(pct),
    smape: mean(sym),
    mase: scaleMissing ? null : mean(scaled),
  };
}

/**
 * errors[k]: the errors observed k + 1 steps after the origins, in the error space of the final model
 * (actual − forecast, or log1p(actual) − log1p(forecast) for a log1p model).
 */
export function errorsByStep(
  series: Series,
  plan: FoldPlan,
  forecasts: number[][],
  toErrorSpace: (v: number) => number,
): number[][] {
  const byStep: number[][] = Array.from({ length: plan.horizon }, () => []);
  plan.origins.forEach((origin, f) => {
    for (let k = 0; k < plan.horizon; k++) {
      const t = origin + k;
      if (!series.usable[t]) continue;
      byStep[k]!.push(toErrorSpace(series.values[t]!) - toErrorSpace(forecasts[f]![k]!));
    }
  });
  return byStep;
}

export type IntervalMethod = 'empirical' | 'scaled' | 'residual';

export interface Band {
  level: number;
  /** offsets to add to the point forecast (in error space), one per step; lower ≤ 0 ≤ upper */
  lower: number[];
  upper: number[];
}

/**
 * Interval offsets for steps 1..horizon, widening with the step:
 * - enough backtest errors: empirical quantiles of the errors, each divided by the spread (RMS) of
 *   the errors at its step and its neighbours, times the spread at the step being forecast. Five folds
 *   give five errors per step, too few for a 95 % quantile on their own, but plenty for a spread; the
 *   shape of the distribution (skew, tails) comes from all steps together;
 * - a few errors: a normal band from their RMS, each error scaled by 1/√step, grown by √step;
 * - none: the final fit's residual sd × z × growth(step).
 * Past the backtest horizon the last backtest spread grows by √(step / backtest horizon).
 */
export function intervalBands(
  byStep: readonly number[][],
  horizon: number,
  levels: readonly number[],
  residualSd: number,
  growth: (step: number) => number,
): { method: IntervalMethod; bands: Band[] } {
  const total = byStep.reduce((n, errors) => n + errors.length, 0);
  const z = (level: number) => probit(0.5 + level / 200);

  if (total >= MIN_EMPIRICAL) {
    const hb = byStep.length;
    const local = byStep.map((_, k) => {
      const pool = [...byStep[k]!];
      for (let w = 1; pool.length < MIN_SPREAD_POOL && (k - w >= 0 || k + w < hb); w++) {
        pool.push(...(byStep[k - w] ?? []), ...(byStep[k + w] ?? []));
      }
      return pool.length > 0 ? rootMeanSquare(pool) : 0;
    });
    const standardised = byStep.flatMap((errors, k) =>
      local[k]! > 0 ? errors.map((e) => e / local[k]!) : [],
    );
    const probabilities = levels.flatMap((level) => [0.5 - level / 200, 0.5 + level / 200]);
    const q = standardised.length > 0 ? quantile(standardised, probabilities) : probabilities.map(() => 0);
    const monotone = nonDecreasing(local);
    const spread: number[] = [];
    for (let k = 0; k < horizon; k++) {
      spread.push(k < hb ? monotone[k]! : monotone[hb - 1]! * Math.sqrt((k + 1) / hb));
    }
    const bands = levels.map((level, j) => ({
      level,
      lower: spread.map((s) => Math.min(0, q[2 * j]! * s)),
      upper: spread.map((s) => Math.max(0, q[2 * j + 1]! * s)),
    }));
    return { method: 'empirical', bands };
  }

  if (total >= MIN_SCALED) {
    const normalised = byStep.flatMap((errors, k) => errors.map((e) => e / Math.sqrt(k + 1)));
    const sd = rootMeanSquare(normalised);
    return { method: 'scaled', bands: normalBands(levels, horizon, (k) => sd * Math.sqrt(k), z) };
  }

  return { method: 'residual', bands: normalBands(levels, horizon, (k) => residualSd * growth(k), z) };
}

function normalBands(
  levels: readonly number[],
  horizon: number,
  sdAt: (step: number) => number,
  z: (level: number) => number,
): Band[] {
  return levels.map((level) => {
    const lower: number[] = [];
    const upper: number[] = [];
    for (let k = 1; k <= horizon; k++) {
      const half = z(level) * sdAt(k);
      lower.push(-half);
      upper.push(half);
    }
    return { level, lower, upper };
  });
}

/**
 * The closest non-decreasing sequence (pool-adjacent-violators): a later step is never more certain
 * than an earlier one. A running max would do that too, but it ratchets up on every noisy spike and
 * widens the later intervals well past their nominal coverage.
 */
function nonDecreasing(values: readonly number[]): number[] {
  const blocks: { sum: number; count: number }[] = [];
  for (const v of values) {
    blocks.push({ sum: v, count: 1 });
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1]!;
      const previous = blocks[blocks.length - 2]!;
      if (previous.sum / previous.count <= last.sum / last.count) break;
      previous.sum += last.sum;
      previous.count += last.count;
      blocks.pop();
    }
  }
  return blocks.flatMap((b) => new Array<number>(b.count).fill(b.sum / b.count));
}
