/** Helpers every model shares: seasonal positions, fitting windows, residual spread, the naive scale. */
import { mean, rootMeanSquare } from 'simple-statistics';
import type { Series } from './forecast-types.ts';

export function seasonOf(series: Series, t: number): number {
  return series.period >= 2 ? (series.phase + t) % series.period : 0;
}

/** dow_1..6 are Tuesday..Sunday against Monday (phase 0 is Monday); month_2..12 against January. */
export function seasonalFeatureNames(period: number): string[] {
  const names: string[] = [];
  for (let k = 1; k < period; k++) {
    if (period === 7) names.push(`dow_${k}`);
    else if (period === 12) names.push(`month_${k + 1}`);
    else if (period === 52) names.push(`week_${k + 1}`);
    else names.push(`season_${k}`);
  }
  return names;
}

/** The usable points before `end`, with their time steps. */
export function fittingPoints(series: Series, end: number): { t: number[]; y: number[] } {
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

/**
 * The window [start, end) a recursive model runs on: from the first usable point, with unusable points
 * inside filled by linear interpolation between their usable neighbours (or the last usable value at
 * the end), and a mask saying which points are real. Recursions skip the updates at filled points.
 */
export function contiguousWindow(
  series: Series,
  end: number,
): { start: number; y: Float64Array; real: Uint8Array } {
  let start = 0;
  while (start < end && !series.usable[start]) start++;
  const n = end - start;
  const y = new Float64Array(n);
  const real = new Uint8Array(n);
  let previous = -1;
  for (let i = 0; i < n; i++) {
    if (!series.usable[start + i]) continue;
    const v = series.values[start + i]!;
    y[i] = v;
    real[i] = 1;
    if (previous >= 0 && i - previous > 1) {
      const from = y[previous]!;
      for (let j = previous + 1; j < i; j++) y[j] = from + ((v - from) * (j - previous)) / (i - previous);
    }
    previous = i;
  }
  for (let j = previous + 1; j < n; j++) y[j] = previous >= 0 ? y[previous]! : 0;
  return { start, y, real };
}

/** Residual sd with the degrees of freedom the fit used up, so short fits do not look too sure. */
export function residualSd(residuals: readonly number[], params: number): number {
  if (residuals.length === 0) return 0;
  const dof = residuals.length > params ? residuals.length - params : residuals.length;
  return rootMeanSquare(residuals as number[]) * Math.sqrt(residuals.length / dof);
}

export function clampAtZero(values: number[]): number[] {
  return values.map((v) => (v > 0 ? v : 0));
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
