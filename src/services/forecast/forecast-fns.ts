/**
 * Sales forecasting core: pure functions, no I/O. Fits one model on an evenly spaced series (or lets
 * a rolling-origin backtest choose), forecasts `horizon` steps with conformal intervals calibrated on
 * the backtest errors, and scores the choice on the last fold, which neither chose nor calibrated.
 */
import {
  type Band,
  backtestMetrics,
  conformalBands,
  type FoldPlan,
  planFolds,
  residualBands,
  scaledErrorsByStep,
} from './backtest-fns.ts';
import { COMBINATION_MEMBERS, combinationModel, combine } from './combination-fns.ts';
import { type EtsHint, fitEts } from './ets-fns.ts';
import {
  type BacktestMetrics,
  type FittedModel,
  type ForecastInput,
  type ForecastOutput,
  type ForecastPoint,
  InsufficientHistoryError,
  MODEL_NAMES,
  type ModelName,
  type Series,
} from './forecast-types.ts';
import { fitSeasonalNaive } from './naive-fns.ts';
import { fitLinearTrend, fitSeasonalRegression } from './regression-fns.ts';
import { type Candidate, pickByBacktest, seasonalRegressionBlocker } from './selection-fns.ts';
import { naiveScale } from './series-fns.ts';
import { fitTheta } from './theta-fns.ts';

export type { ForecastInput, ForecastOutput, ModelName } from './forecast-types.ts';
export { InsufficientHistoryError } from './forecast-types.ts';

export const MIN_HISTORY = 3;

type Fitter = (end: number) => FittedModel | null;

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
  const blocker = seasonalRegressionBlocker(series);
  const fitters: Record<Exclude<ModelName, 'combination'>, Fitter> = {
    seasonal_naive: (end) => fitSeasonalNaive(series, end, lag),
    linear_trend: (end) => fitLinearTrend(series, end),
    seasonal_regression: (end) => (blocker ? null : fitSeasonalRegression(series, end)),
    ets: etsFitter(series, n),
    theta: (end) => fitTheta(series, end),
  };

  const { candidates, reason: requestedReason } = candidatesFor(input.model, blocker, period, warnings);
  const minTrain = Math.max(
    MIN_HISTORY,
    lag + 1,
    candidates.includes('seasonal_regression') ? period + 3 : 0,
  );
  const plan = planFolds(series, minTrain, horizon);
  const folds = plan.origins.map((_, f) => f);
  // The last fold is held out of choosing and calibrating: it scores what the earlier ones chose.
  const choosing = folds.length >= 2 ? folds.slice(0, -1) : folds;
  const scoredFold = folds.length > 0 ? [folds.length - 1] : [];
  const rawScales = plan.origins.map((origin) => naiveScale(series, origin, lag));
  // Errors are compared in units of the fold's naive MAE, unless some fold has none (a flat window).
  const scaled = rawScales.length > 0 && rawScales.every((s) => s > 0);
  const scales = scaled ? rawScales : rawScales.map(() => 1);

  const foldForecasts = new Map<ModelName, number[][]>();
  const needed = new Set<ModelName>(['seasonal_naive', ...candidates]);
  if (candidates.includes('combination')) for (const m of COMBINATION_MEMBERS) needed.add(m);
  needed.delete('combination');
  for (const name of needed) {
    const forecasts: number[][] = [];
    for (const origin of plan.origins) {
      const fitted = fitters[name as Exclude<ModelName, 'combination'>](origin);
      if (!fitted) break;
      forecasts.push(fitted.predict(plan.horizon));
    }
    if (forecasts.length === plan.origins.length) foldForecasts.set(name, forecasts);
  }
  const members = COMBINATION_MEMBERS.filter((m) => foldForecasts.has(m));
  if (members.length >= 2) {
    foldForecasts.set(
      'combination',
      plan.origins.map((_, f) => combine(members.map((m) => foldForecasts.get(m)![f]!))),
    );
  }

  const scored: Candidate[] = candidates
    .filter((name) => foldForecasts.has(name))
    .map((name) => ({
      name,
      metrics: backtestMetrics(series, plan, foldForecasts.get(name)!, rawScales, choosing),
    }));
  const choice =
    input.model === 'auto'
      ? pickByBacktest(scored, plan.origins.length > 0, scaled)
      : { name: candidates[0]!, reason: requestedReason };

  const fitFinal = (name: ModelName): FittedModel | null => {
    if (name !== 'combination') return fitters[name](n);
    const fitted = members.map((m) => fitters[m as Exclude<ModelName, 'combination'>](n));
    const ok = fitted.filter((m): m is FittedModel => m !== null);
    return ok.length >= 2 ? combinationModel(ok) : null;
  };
  let chosenName = choice.name;
  let reason = choice.reason;
  let model = fitFinal(chosenName);
  if (!model) {
    warnings.push(`${chosenName} could not be fitted on this history: fell back to linear_trend`);
    reason = `${chosenName} could not be fitted: fell back to linear_trend`;
    chosenName = 'linear_trend';
    model = fitLinearTrend(series, n);
  }
  const points = model.predict(horizon);

  const chosenFolds = foldForecasts.get(chosenName);
  const finalScale = scaled ? naiveScale(series, n, lag) : 1;
  const conformal = chosenFolds
    ? conformalBands(scaledErrorsByStep(series, plan, chosenFolds, scales, folds), horizon, levels)
    : null;
  const growth =
    chosenName === 'seasonal_naive' ? (k: number) => Math.sqrt(Math.floor((k - 1) / lag) + 1) : Math.sqrt;
  const bands: Band[] = conformal
    ? conformal.map((b) => ({
        lower: b.lower.map((w) => w * finalScale),
        upper: b.upper.map((w) => w * finalScale),
      }))
    : residualBands(model.residualSd(), horizon, levels, growth);
  if (!conformal) {
    warnings.push('prediction intervals from the in-sample residuals: too little history to backtest');
  } else if (plan.horizon < horizon) {
    warnings.push(
      `backtest folds cover ${plan.horizon} of ${horizon} steps: later intervals are widened by √(step / ${plan.horizon})`,
    );
  }

  const forecastPoints = points.map((value, k): ForecastPoint => {
    const lower: Record<string, number> = {};
    const upper: Record<string, number> = {};
    levels.forEach((level, j) => {
      lower[String(level)] = Math.min(value, Math.max(0, value + bands[j]!.lower[k]!));
      upper[String(level)] = Math.max(value, value + bands[j]!.upper[k]!);
    });
    return { value, lower, upper };
  });

  const chosen = chosenFolds
    ? backtestMetrics(series, plan, chosenFolds, rawScales, scoredFold)
    : emptyMetrics();
  const naiveFolds = foldForecasts.get('seasonal_naive');
  const baseline = naiveFolds
    ? backtestMetrics(series, plan, naiveFolds, rawScales, scoredFold)
    : emptyMetrics();
  if (plan.origins.length === 1) {
    warnings.push(
      'only one backtest fold fits in the history: the model was chosen on the fold it is scored on',
    );
  }
  return {
    forecast: forecastPoints,
    model: {
      name: model.name,
      features: model.features,
      coefficients: model.coefficients,
      transform: model.transform,
      reason: model.note ? `${reason}; ${model.note}` : reason,
    },
    backtest: {
      method: 'rolling_origin',
      folds: plan.origins.length,
      horizon: plan.horizon,
      scored: {
        from: plan.origins.length > 0 ? plan.origins[plan.origins.length - 1]! : n,
        steps: plan.origins.length > 0 ? plan.horizon : 0,
      },
      coverage: coverageOf(series, plan, chosenFolds, scales, choosing, scoredFold, levels),
      ...chosen,
      baseline: { name: 'seasonal_naive', mae: baseline.mae, mape: baseline.mape, mase: baseline.mase },
    },
    warnings,
  };
}

/**
 * ETS for the backtest's folds, oldest first, then the final fit: the first fold searches the
 * variants, later folds refit the variant and parameters of the fold before (a shorter window, so
 * nothing from the future), and the final fit on the whole history searches afresh.
 */
function etsFitter(series: Series, n: number): Fitter {
  let hint: EtsHint | undefined;
  let lastEnd = -1;
  return (end) => {
    const warm = end < n && end > lastEnd ? hint : undefined;
    const fitted = fitEts(series, end, warm);
    if (end < n) {
      hint = fitted?.hint;
      lastEnd = end;
    }
    return fitted;
  };
}

/**
 * Share of the scored fold's actuals inside each level's interval, the intervals calibrated on the
 * choosing folds alone; null when there is no separate fold to score or too few errors to calibrate.
 */
function coverageOf(
  series: Series,
  plan: FoldPlan,
  forecasts: number[][] | undefined,
  scales: readonly number[],
  choosing: readonly number[],
  scoredFold: readonly number[],
  levels: readonly number[],
): Record<string, number | null> {
  const none = Object.fromEntries(levels.map((l) => [String(l), null]));
  const f = scoredFold[0];
  if (!forecasts || f === undefined || choosing.includes(f)) return none;
  const bands = conformalBands(
    scaledErrorsByStep(series, plan, forecasts, scales, choosing),
    plan.horizon,
    levels,
  );
  const errors = scaledErrorsByStep(series, plan, forecasts, scales, [f]).byStep;
  const total = errors.reduce((s, e) => s + e.length, 0);
  if (!bands || total === 0) return none;
  return Object.fromEntries(
    levels.map((level, j) => {
      let inside = 0;
      errors.forEach((e, k) => {
        const band = bands[j]!;
        if (e.length > 0 && e[0]! >= band.lower[k]! && e[0]! <= band.upper[k]!) inside++;
      });
      return [String(level), inside / total];
    }),
  );
}

/** The models to backtest for a request, and why for an explicit one. */
function candidatesFor(
  model: ForecastInput['model'],
  blocker: string | null,
  period: number,
  warnings: string[],
): { candidates: ModelName[]; reason: string } {
  if (model === 'auto') {
    if (blocker && period >= 2) warnings.push(`seasonal_regression not considered: ${blocker}`);
    return {
      candidates: MODEL_NAMES.filter((name) => !(blocker && name === 'seasonal_regression')),
      reason: '',
    };
  }
  if (model === 'seasonal_regression' && blocker) {
    warnings.push(`seasonal_regression fell back to linear_trend: ${blocker}`);
    return {
      candidates: ['linear_trend'],
      reason: `seasonal_regression requested, but ${blocker}: fell back to linear_trend`,
    };
  }
  return { candidates: [model], reason: `${model} as requested` };
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
  if (input.model !== 'auto' && !MODEL_NAMES.includes(input.model)) {
    throw new RangeError(`unknown model ${String(input.model)}`);
  }
  for (const level of input.levels) {
    if (!(level > 0 && level < 100))
      throw new RangeError(`interval levels must be in (0, 100), got ${level}`);
  }
}

function emptyMetrics(): BacktestMetrics {
  return { mae: null, rmse: null, mape: null, smape: null, mase: null };
}
