/**
 * Regression models: intercept + trend (+ seasonal dummies), by least squares. Each is fitted on the
 * usable points before an origin and asked for the next h values.
 */
import { SimpleLinearRegression } from 'ml-regression';
import { rootMeanSquare } from 'simple-statistics';
import type { FittedModel, Series, Transform } from './forecast-types.ts';
import { type SeasonalFit, seasonalLeastSquares } from './least-squares-fns.ts';
import { clampAtZero, fittingPoints, residualSd, seasonalFeatureNames, seasonOf } from './series-fns.ts';

/**
 * log1p must win by more than this share of the untransformed in-sample RMSE: on a near tie the
 * untransformed fit is easier to read and cannot blow up through expm1.
 */
const LOG_MARGIN = 0.01;

interface RegressionFit {
  fit: SeasonalFit;
  /** in-sample predictions on the original scale, clamped like the forecasts */
  fitted: number[];
  rmse: number;
}

function valueAt(fit: SeasonalFit, t: number, season: number): number {
  return fit.intercept + fit.trend * t + (fit.effects[season] ?? 0);
}

function fitRegression(
  t: number[],
  seasons: number[],
  y: number[],
  period: number,
  transform: Transform,
): RegressionFit | null {
  const target = transform === 'log1p' ? y.map(Math.log1p) : y;
  const fit = seasonalLeastSquares(t, seasons, target, period);
  if (!fit) return null;
  const raw = t.map((i, j) => valueAt(fit, i, seasons[j]!));
  const fitted = clampAtZero(transform === 'log1p' ? raw.map(Math.expm1) : raw);
  return { fit, fitted, rmse: rootMeanSquare(fitted.map((f, i) => y[i]! - f)) };
}

/**
 * Intercept + trend + (period − 1) seasonal dummies, by least squares, on y or on log(1 + y).
 * The transform with the lower in-sample RMSE on the original scale wins: multiplicative seasonality
 * (amplitude growing with the level) is additive on the log scale. log1p forecasts are back-transformed
 * with plain expm1, no smearing correction: that is the conditional median, which is what the
 * MAE-based backtest and model choice reward.
 */
export function fitSeasonalRegression(series: Series, end: number): FittedModel | null {
  const { t, y } = fittingPoints(series, end);
  const seasons = t.map((i) => seasonOf(series, i));
  const plain = fitRegression(t, seasons, y, series.period, 'none');
  if (!plain) return null;
  const log = y.every((v) => v >= 0) ? fitRegression(t, seasons, y, series.period, 'log1p') : null;
  const useLog = log !== null && log.rmse < plain.rmse * (1 - LOG_MARGIN);
  const chosen = useLog ? log : plain;
  const transform: Transform = useLog ? 'log1p' : 'none';

  const names = seasonalFeatureNames(series.period);
  const features = ['intercept', 'trend', ...names];
  const coefficients: Record<string, number> = { intercept: chosen.fit.intercept, trend: chosen.fit.trend };
  names.forEach((name, k) => {
    coefficients[name] = chosen.fit.effects[k + 1]!;
  });

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
      const raw: number[] = [];
      for (let k = 0; k < h; k++) raw.push(valueAt(chosen.fit, end + k, seasonOf(series, end + k)));
      return clampAtZero(useLog ? raw.map(Math.expm1) : raw);
    },
    residualSd() {
      return residualSd(
        chosen.fitted.map((f, i) => y[i]! - f),
        features.length,
      );
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
