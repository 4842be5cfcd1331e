/**
 * The three forecasting models, each fitted on the usable points before an origin and asked for the
 * next h values. The backtest refits them at every fold origin, so a fit only ever sees the past.
 */
import { MultivariateLinearRegression, SimpleLinearRegression } from 'ml-regression';
import { mean, rootMeanSquare } from 'simple-statistics';
import type { ModelName } from './forecast-fns.ts';

export type Transform = 'none' | 'log1p';

export interface Series {
  values: readonly number[];
  /** false for excluded or non-finite points: they keep their time step but are never fitted or scored */
  usable: readonly boolean[];
  /** season length ≥ 2, or 0 without seasonality */
  period: number;
  /** seasonal position of values[0], 0 ≤ phase < period */
  phase: number;
}

export interface FittedModel {
  name: ModelName;
  transform: Transform;
  features: string[];
  coefficients: Record<string, number>;
  /** why the transform was chosen; empty for models without a choice */
  note: string;
  /** forecasts for the h time steps after the fitting window, never below zero */
  predict(h: number): number[];
  /** in-sample residual standard deviation in the model's error space (log1p scale for log1p) */
  residualSd(): number;
}

/**
 * log1p must win by more than this share of the untransformed in-sample RMSE: on a near tie the
 * untransformed fit is easier to read and cannot blow up through expm1.
 */
const LOG_MARGIN = 0.01;

export function seasonOf(series: Series, t: number): number {
  return series.period >= 2 ? (series.phase + t) % series.period : 0;
}

export function seasonalFeatureNames(period: number): string[] {
  const names: string[] = [];
  for (let k = 1; k < period; k++) {
    if (period === 7) names.push(`dow_${k}`);
    else if (period === 12) names.push(`month_${k + 1}`);
    else names.push(`season_${k}`);
  }
  return names;
}

function designRow(series: Series, t: number): number[] {
  const row = [t];
  const season = seasonOf(series, t);
  for (let k = 1; k < series.period; k++) row.push(season === k ? 1 : 0);
  return row;
}

function fittingPoints(series: Series, end: number): { t: number[]; y: number[] } {
  const t: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < end; i++) {
    if (series.usable[i]) {
      t.push(i);
      y.push(series.values[i]!);
    }
  }
  return { t, y };
}

/** Residual sd with the degrees of freedom the fit used up, so short fits do not look too sure. */
function residualSd(residuals: number[], params: number): number {
  if (residuals.length === 0) return 0;
  const dof = residuals.length > params ? residuals.length - params : residuals.length;
  return rootMeanSquare(residuals) * Math.sqrt(residuals.length / dof);
}

function clampAtZero(values: number[]): number[] {
  return values.map((v) => (v > 0 ? v : 0));
}

interface RegressionFit {
  model: MultivariateLinearRegression;
  /** in-sample predictions on the original scale, clamped like the forecasts */
  fitted: number[];
  rmse: number;
}

function fitRegression(rows: number[][], y: number[], transform: Transform): RegressionFit {
  const target = transform === 'log1p' ? y.map((v) => [Math.log1p(v)]) : y.map((v) => [v]);
  const model = new MultivariateLinearRegression(rows, target, { intercept: true, statistics: false });
  const raw = model.predict(rows).map((p) => p[0]!);
  const fitted = clampAtZero(transform === 'log1p' ? raw.map(Math.expm1) : raw);
  return { model, fitted, rmse: rootMeanSquare(fitted.map((f, i) => y[i]! - f)) };
}

/**
 * Intercept + trend + (period − 1) seasonal dummies, by least squares, on y or on log(1 + y).
 * The transform with the lower in-sample RMSE on the original scale wins: multiplicative seasonality
 * (amplitude growing with the level) is additive on the log scale. log1p forecasts are back-transformed
 * with plain expm1, no smearing correction: that is the conditional median, which is what the
 * MAE-based backtest and model choice reward.
 */
export function fitSeasonalRegression(series: Series, end: number): FittedModel {
  const { t, y } = fittingPoints(series, end);
  const rows = t.map((i) => designRow(series, i));
  const plain = fitRegression(rows, y, 'none');
  const log = y.every((v) => v >= 0) ? fitRegression(rows, y, 'log1p') : null;
  const useLog = log !== null && log.rmse < plain.rmse * (1 - LOG_MARGIN);
  const chosen = useLog ? log : plain;
  const transform: Transform = useLog ? 'log1p' : 'none';

  const features = ['intercept', 'trend', ...seasonalFeatureNames(series.period)];
  const weights = chosen.model.weights;
  const coefficients: Record<string, number> = { intercept: weights[rows[0]?.length ?? 1]?.[0] ?? 0 };
  for (let i = 1; i < features.length; i++) coefficients[features[i]!] = weights[i - 1]?.[0] ?? 0;

  const fmt = (v: number) => v.toPrecision(3);
  const note =
    log === null
      ? 'untransformed: negative values rule out log1p'
      : useLog
        ? `log1p: in-sample RMSE ${fmt(log.rmse)} vs ${fmt(plain.rmse)} untransformed (multiplicative seasonality)`
        : `untransformed: in-sample RMSE ${fmt(plain.rmse)} vs ${fmt(log.rmse)} with log1p`;

  return {
    name: 'seasonal_regression',
    transform,
    features,
    coefficients,
    note,
    predict(h) {
      const future: number[][] = [];
      for (let k = 0; k < h; k++) future.push(designRow(series, end + k));
      const raw = chosen.model.predict(future).map((p: number[]) => p[0]!);
      return clampAtZero(useLog ? raw.map(Math.expm1) : raw);
    },
    residualSd() {
      const residuals = useLog
        ? chosen.fitted.map((f, i) => Math.log1p(y[i]!) - Math.log1p(f))
        : chosen.fitted.map((f, i) => y[i]! - f);
      return residualSd(residuals, features.length);
    },
  };
}

/** y = intercept + slope × t by ordinary least squares; a lone point gives a flat line. */
export function fitLinearTrend(series: Series, end: number): FittedModel {
  const { t, y } = fittingPoints(series, end);
  const slr = t.length >= 2 ? new SimpleLinearRegression(t, y) : null;
  const intercept = slr ? slr.intercept : (y[0] ?? 0);
  const slope = slr ? slr.slope : 0;
  const at = (steps: number[]): number[] => (slr ? slr.predict(steps) : steps.map(() => intercept));
  return {
    name: 'linear_trend',
    transform: 'none',
    features: ['intercept', 'trend'],
    coefficients: { intercept, trend: slope },
    note: '',
    predict(h) {
      const future: number[] = [];
      for (let k = 0; k < h; k++) future.push(end + k);
      return clampAtZero(at(future));
    },
    residualSd() {
      const fitted = at(t);
      return residualSd(
        fitted.map((f, i) => y[i]! - f),
        2,
      );
    },
  };
}

/**
 * The value `lag` steps back (one season, or the last value for lag 1), skipping back whole seasons
 * past excluded points so a stock-out is never repeated as the forecast.
 */
export function fitSeasonalNaive(series: Series, end: number, lag: number): FittedModel {
  let lastUsable = end - 1;
  while (lastUsable >= 0 && !series.usable[lastUsable]) lastUsable--;
  const fallback = lastUsable >= 0 ? series.values[lastUsable]! : 0;
  const source = (target: number): number => {
    let i = target - lag * Math.ceil((target - end + 1) / lag);
    while (i >= 0 && !series.usable[i]) i -= lag;
    return i >= 0 ? series.values[i]! : fallback;
  };
  return {
    name: 'seasonal_naive',
    transform: 'none',
    features: [`lag_${lag}`],
    coefficients: { [`lag_${lag}`]: 1 },
    note: '',
    predict(h) {
      const future: number[] = [];
      for (let k = 0; k < h; k++) future.push(source(end + k));
      return clampAtZero(future);
    },
    residualSd() {
      return residualSd(naiveDifferences(series, end, lag), 0);
    },
  };
}

/** y[t] − y[t − lag] over the usable pairs before `end`: the in-sample errors of the naive forecast. */
export function naiveDifferences(series: Series, end: number, lag: number): number[] {
  const diffs: number[] = [];
  for (let i = lag; i < end; i++) {
    if (series.usable[i] && series.usable[i - lag]) diffs.push(series.values[i]! - series.values[i - lag]!);
  }
  return diffs;
}

/** The MASE denominator: in-sample MAE of the one-season naive forecast; NaN without a usable pair. */
export function naiveScale(series: Series, end: number, lag: number): number {
  const diffs = naiveDifferences(series, end, lag);
  return diffs.length > 0 ? mean(diffs.map(Math.abs)) : Number.NaN;
}
