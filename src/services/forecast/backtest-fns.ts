/**
 * Rolling-origin backtest: fold planning, error metrics, and conformal prediction intervals from the
 * scaled errors the backtest observed at each step ahead.
 */
import { mean, probit, rootMeanSquare } from 'simple-statistics';
import type { BacktestMetrics, Series } from './forecast-types.ts';

/** The last fold is scored only; the ones before it choose the model and calibrate its intervals. */
const MAX_FOLDS = 6;
const MIN_FOLDS = 3;
/** Fewer usable points than this before an origin make the fold meaningless. */
const MIN_FOLD_TRAINING = 3;
/** Errors behind each step's spread; a step with fewer borrows its neighbours'. */
const MIN_SPREAD_POOL = 40;
/** Below this many backtest errors, intervals come from the final fit's residuals instead. */
const MIN_CONFORMAL = 8;
/** A fold's errors weigh this much less per fold of age in the interval quantiles. */
const RECENCY = 0.5;

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
  forecasts: readonly number[][],
  scales: readonly number[],
  folds: readonly number[] = plan.origins.map((_, f) => f),
): BacktestMetrics {
  const abs: number[] = [];
  const errors: number[] = [];
  const pct: number[] = [];
  const sym: number[] = [];
  const scaled: number[] = [];
  let zeroActual = false;
  let scaleMissing = false;
  for (const f of folds) {
    const origin = plan.origins[f]!;
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
  }
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
 * byStep[k]: (actual − forecast) / the fold's scale, k + 1 steps after the origins of `folds`. The
 * scale (the fold's in-sample naive MAE) makes errors of a small and a grown level comparable.
 */
export function scaledErrorsByStep(
  series: Series,
  plan: FoldPlan,
  forecasts: readonly number[][],
  scales: readonly number[],
  folds: readonly number[],
): ScaledErrors {
  const byStep: number[][] = Array.from({ length: plan.horizon }, () => []);
  const weights: number[][] = Array.from({ length: plan.horizon }, () => []);
  const newest = Math.max(...folds);
  for (const f of folds) {
    const origin = plan.origins[f]!;
    const scale = scales[f]!;
    for (let k = 0; k < plan.horizon; k++) {
      const t = origin + k;
      if (!series.usable[t]) continue;
      byStep[k]!.push((series.values[t]! - forecasts[f]![k]!) / scale);
      weights[k]!.push(RECENCY ** (newest - f));
    }
  }
  return { byStep, weights };
}

export interface ScaledErrors {
  byStep: number[][];
  /** each error's weight: RECENCY per fold of age, 1 for the newest fold */
  weights: number[][];
}

/** Offsets to add to the point forecast for steps 1..horizon; lower ≤ 0 ≤ upper. */
export interface Band {
  lower: number[];
  upper: number[];
}

/**
 * Conformal bands (in scaled units) for steps 1..horizon, one per level, or null with too few
 * errors. Each step's spread is the RMS of its scaled errors, pooled with its neighbours' until
 * there are enough, made non-decreasing; the errors divided by their step's spread are pooled over
 * all steps, weighted by recency (RECENCY per fold of age: errors drift, and an older fold was also
 * fitted on less history), and a level's half-width is their weighted conformal quantile times the
 * spread at the step. Past the backtest horizon the last spread grows by √(step / backtest horizon).
 */
export function conformalBands(
  { byStep, weights }: ScaledErrors,
  horizon: number,
  levels: readonly number[],
): Band[] | null {
  const count = byStep.reduce((n, errors) => n + errors.length, 0);
  if (count < MIN_CONFORMAL) return null;
  const hb = byStep.length;
  const local = byStep.map((_, k) => {
    let count = byStep[k]!.length;
    let sum: number[] = weightedSquares(byStep[k]!, weights[k]!);
    for (let w = 1; count < MIN_SPREAD_POOL && (k - w >= 0 || k + w < hb); w++) {
      for (const j of [k - w, k + w]) {
        if (j < 0 || j >= hb) continue;
        count += byStep[j]!.length;
        sum = sum.map((v, i) => v + weightedSquares(byStep[j]!, weights[j]!)[i]!);
      }
    }
    return sum[1]! > 0 ? Math.sqrt(sum[0]! / sum[1]!) : 0;
  });
  const monotone = nonDecreasing(local);
  const standardised = byStep
    .flatMap((errors, k) =>
      monotone[k]! > 0 ? errors.map((e, i) => ({ v: Math.abs(e) / monotone[k]!, w: weights[k]![i]! })) : [],
    )
    .sort((a, b) => a.v - b.v);
  const spread: number[] = [];
  for (let k = 0; k < horizon; k++) {
    spread.push(k < hb ? monotone[k]! : monotone[hb - 1]! * Math.sqrt((k + 1) / hb));
  }
  // Weighted conformal quantile (Barber et al., 2023): the smallest score whose cumulative weight
  // reaches p of the total, the total counting one more point of full weight (the one forecast).
  let total = 1;
  for (const s of standardised) total += s.w;
  const quantileAt = (p: number) => {
    let cumulative = 0;
    for (const s of standardised) {
      cumulative += s.w;
      if (cumulative >= p * total) return s.v;
    }
    return standardised[standardised.length - 1]?.v ?? 0;
  };
  return levels.map((level) => {
    const q = quantileAt(level / 100);
    return { lower: spread.map((s) => -q * s), upper: spread.map((s) => q * s) };
  });
}

/** Normal bands from the final fit's residual sd, for a history too short to backtest. */
export function residualBands(
  residualSd: number,
  horizon: number,
  levels: readonly number[],
  growth: (step: number) => number,
): Band[] {
  return levels.map((level) => {
    const z = probit(0.5 + level / 200);
    const upper = Array.from({ length: horizon }, (_, k) => z * residualSd * growth(k + 1));
    return { lower: upper.map((u) => -u), upper };
  });
}

function weightedSquares(errors: readonly number[], weights: readonly number[]): [number, number] {
  let squares = 0;
  let total = 0;
  errors.forEach((e, i) => {
    squares += weights[i]! * e * e;
    total += weights[i]!;
  });
  return [squares, total];
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
