/**
 * The Theta method (Assimakopoulos & Nikolopoulos; Hyndman & Billah's form, as R's `thetaf`): when
 * the series is seasonal (its autocorrelation at one season is significant), divide out a classical
 * decomposition's seasonal indexes; forecast the adjusted series by simple exponential smoothing
 * plus half the slope of its straight-line fit (the θ = 2 line); put the season back.
 */
import type { FittedModel, Series } from './forecast-types.ts';
import { nelderMead } from './nelder-mead-fns.ts';
import { clampAtZero, contiguousWindow } from './series-fns.ts';

/** One-sided 90 % test on the lag-m autocorrelation, as thetaf does. */
const SEASONAL_Z = 1.645;

function autocorrelations(y: Float64Array, maxLag: number): number[] {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]! / n;
  let denominator = 0;
  for (let i = 0; i < n; i++) denominator += (y[i]! - mean) ** 2;
  const r: number[] = [];
  for (let lag = 1; lag <= maxLag; lag++) {
    let s = 0;
    for (let i = lag; i < n; i++) s += (y[i]! - mean) * (y[i - lag]! - mean);
    r.push(denominator > 0 ? s / denominator : 0);
  }
  return r;
}

export function isSeasonal(y: Float64Array, m: number): boolean {
  if (m < 2 || y.length < 2 * m) return false;
  const r = autocorrelations(y, m);
  let sum = 0;
  for (let k = 0; k < m - 1; k++) sum += r[k]! ** 2;
  const limit = SEASONAL_Z * Math.sqrt((1 + 2 * sum) / y.length);
  return Math.abs(r[m - 1]!) > limit;
}

/**
 * Classical decomposition's seasonal indexes (centred moving average of one season), by position in
 * the window: multiplicative (mean 1) for positive data, else additive (mean 0).
 */
export function seasonalIndexes(y: Float64Array, m: number, multiplicative: boolean): Float64Array {
  const n = y.length;
  const half = Math.floor(m / 2);
  const sums = new Float64Array(m);
  const counts = new Float64Array(m);
  for (let t = half; t < n - half; t++) {
    let s = 0;
    if (m % 2 === 0) {
      s = (y[t - half]! + y[t + half]!) / 2;
      for (let i = t - half + 1; i < t + half; i++) s += y[i]!;
    } else for (let i = t - half; i <= t + half; i++) s += y[i]!;
    const trend = s / m;
    sums[t % m]! += multiplicative ? y[t]! / trend : y[t]! - trend;
    counts[t % m]!++;
  }
  const indexes = new Float64Array(m);
  let centre = 0;
  for (let j = 0; j < m; j++) {
    indexes[j] = counts[j]! > 0 ? sums[j]! / counts[j]! : multiplicative ? 1 : 0;
    centre += indexes[j]! / m;
  }
  for (let j = 0; j < m; j++) indexes[j] = multiplicative ? indexes[j]! / centre : indexes[j]! - centre;
  return indexes;
}

/** SES with the smoothing weight and the initial level chosen by least one-step squared error. */
function ses(y: Float64Array, real: Uint8Array): { level: number; alpha: number } {
  const run = (alpha: number, level0: number) => {
    let level = level0;
    let sse = 0;
    for (let t = 0; t < y.length; t++) {
      if (real[t] !== 1) continue;
      const e = y[t]! - level;
      sse += e * e;
      level += alpha * e;
    }
    return { sse, level };
  };
  const alphaOf = (x: number) => 1e-4 + (1 - 2e-4) / (1 + Math.exp(-x));
  const scale = Math.abs(y[0]!) + 1;
  const best = nelderMead((x) => run(alphaOf(x[0]!), y[0]! + x[1]! * scale).sse, [0, 0], {
    step: [1, 0.1],
    maxIterations: 200,
    tolerance: 1e-8,
  });
  const alpha = alphaOf(best.x[0]!);
  return { alpha, level: run(alpha, y[0]! + best.x[1]! * scale).level };
}

export function fitTheta(series: Series, end: number): FittedModel | null {
  const { y, real } = contiguousWindow(series, end);
  const n = y.length;
  if (n < 3) return null;
  const m = series.period;
  const seasonal = isSeasonal(y, m);
  const multiplicative = y.every((v) => v > 0);
  const indexes = seasonal ? seasonalIndexes(y, m, multiplicative) : null;
  const adjust = (v: number, t: number) =>
    indexes ? (multiplicative ? v / indexes[t % m]! : v - indexes[t % m]!) : v;
  const restore = (v: number, t: number) =>
    indexes ? (multiplicative ? v * indexes[t % m]! : v + indexes[t % m]!) : v;
  const adjusted = new Float64Array(n);
  for (let t = 0; t < n; t++) adjusted[t] = adjust(y[t]!, t);

  // Least-squares slope of the adjusted series over the real points.
  let count = 0;
  let st = 0;
  let sy = 0;
  for (let t = 0; t < n; t++) {
    if (real[t] !== 1) continue;
    count++;
    st += t;
    sy += adjusted[t]!;
  }
  const tBar = st / count;
  const yBar = sy / count;
  let sxy = 0;
  let sxx = 0;
  for (let t = 0; t < n; t++) {
    if (real[t] !== 1) continue;
    sxy += (t - tBar) * (adjusted[t]! - yBar);
    sxx += (t - tBar) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const { alpha, level } = ses(adjusted, real);
  const drift = (k: number) => (slope / 2) * (k + (1 - (1 - alpha) ** n) / alpha);

  let residualSum = 0;
  return {
    name: 'theta',
    transform: 'none',
    features: ['alpha', 'drift'],
    coefficients: { alpha, drift: slope / 2 },
    note: indexes
      ? `seasonally adjusted (${multiplicative ? 'multiplicative' : 'additive'}) first`
      : 'no significant season',
    predict(h) {
      const out: number[] = [];
      for (let k = 0; k < h; k++) out.push(restore(level + drift(k), n + k));
      return clampAtZero(out);
    },
    residualSd() {
      if (residualSum === 0) {
        let l = adjusted[0]!;
        for (let t = 0; t < n; t++) {
          const e = adjusted[t]! - l;
          if (real[t] === 1) residualSum += e * e;
          l += alpha * e;
        }
      }
      return Math.sqrt(residualSum / Math.max(1, count - 2));
    },
  };
}
