/**
 * Types shared by the forecasting modules. Everything else in this folder imports from here, never
 * the other way round: forecast-fns -> backtest-fns / model files -> series-fns -> forecast-types.
 */

export const MODEL_NAMES = [
  'seasonal_naive',
  'linear_trend',
  'seasonal_regression',
  'ets',
  'theta',
  'combination',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

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
  /** what the fit chose (transform, variant), for `model.reason`; empty when there was no choice */
  note: string;
  /** forecasts for the h time steps after the fitting window, never below zero */
  predict(h: number): number[];
  /** in-sample residual standard deviation on the original scale */
  residualSd(): number;
}

export interface ForecastInput {
  /** the observed series, oldest first, evenly spaced (days, weeks or months) */
  values: number[];
  /** indexes (into values) to leave out of fitting, e.g. stock-out days; they still count as time steps */
  exclude?: number[];
  /** season length: 7 for daily data, 52 for weekly, 12 for monthly; 0/1 = none */
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
    transform: Transform;
    reason: string;
  };
  backtest: {
    method: 'rolling_origin';
    /** all folds: the ones the model was chosen and calibrated on, then the scored one */
    folds: number;
    horizon: number;
    /** the last `horizon` steps of history: scored, never used to choose the model or its intervals */
    scored: { from: number; steps: number };
    /** share of the scored actuals inside each level's interval (calibrated on the earlier folds) */
    coverage: Record<string, number | null>;
  } & BacktestMetrics & {
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
