/**
 * Exponential smoothing (Holt–Winters in its ETS error-correction form): level, optional trend
 * (additive, or damped by φ), optional season (additive, or multiplicative when the series is
 * positive). The smoothing parameters minimise the one-step squared errors (Nelder–Mead, on a
 * logistic scale that keeps them inside the usual ETS region); the variant with the lowest AICc wins.
 */
import type { FittedModel, Series } from './forecast-types.ts';
import { nelderMead } from './nelder-mead-fns.ts';
import { clampAtZero, contiguousWindow } from './series-fns.ts';

export type TrendKind = 'N' | 'A' | 'Ad';
export type SeasonKind = 'N' | 'A' | 'M';
export interface EtsVariant {
  trend: TrendKind;
  season: SeasonKind;
}

export interface EtsParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

interface Init {
  level: number;
  slope: number;
  seasonal: Float64Array;
}

const PHI_MIN = 0.8;
const PHI_SPAN = 0.18;
const EPS = 1e-4;
/** Two seasons are needed to tell a season from a trend. */
export const MIN_SEASONS = 2;

const logistic = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));

function paramsOf(x: Float64Array | readonly number[], variant: EtsVariant): EtsParams {
  const alpha = EPS + (1 - 2 * EPS) * logistic(x[0]!);
  const hasTrend = variant.trend !== 'N';
  const beta = hasTrend ? alpha * logistic(x[1]!) : 0;
  const gammaIndex = hasTrend ? 2 : 1;
  const gamma = variant.season !== 'N' ? (1 - alpha) * logistic(x[gammaIndex]!) : 0;
  const phi = variant.trend === 'Ad' ? PHI_MIN + PHI_SPAN * logistic(x[gammaIndex + 1]!) : 1;
  return { alpha, beta, gamma, phi };
}

function startOf(variant: EtsVariant): number[] {
  const x = [logit(0.3)];
  if (variant.trend !== 'N') x.push(logit(0.1));
  if (variant.season !== 'N') x.push(logit(0.1));
  if (variant.trend === 'Ad') x.push(logit(0.5));
  return x;
}

/**
 * Heuristic initial states from the first two seasons: level and slope from the seasonal means,
 * each season's index from the detrended values, normalised to sum 0 (additive) or average 1.
 */
function initialStates(y: Float64Array, m: number, variant: EtsVariant): Init {
  const span = variant.season === 'N' ? Math.min(y.length, 10) : m;
  const meanOf = (from: number, count: number) => {
    let s = 0;
    for (let i = from; i < from + count; i++) s += y[i]!;
    return s / count;
  };
  const first = meanOf(0, span);
  const slope = variant.trend === 'N' || y.length < 2 * span ? 0 : (meanOf(span, span) - first) / span;
  // The level just before the first point: the first season's mean, moved back half a season.
  const level = first - slope * ((span + 1) / 2);
  const seasonal = new Float64Array(Math.max(m, 1));
  if (variant.season !== 'N') {
    const seasons = Math.min(MIN_SEASONS, Math.floor(y.length / m));
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < seasons; k++) {
        const t = j + k * m;
        const trendAt = level + slope * (t + 1);
        s += variant.season === 'A' ? y[t]! - trendAt : y[t]! / trendAt;
      }
      seasonal[j] = s / seasons;
    }
    let centre = 0;
    for (let j = 0; j < m; j++) centre += seasonal[j]! / m;
    for (let j = 0; j < m; j++) {
      seasonal[j] = variant.season === 'A' ? seasonal[j]! - centre : seasonal[j]! / centre;
    }
  }
  return { level, slope, seasonal };
}

interface Run {
  sse: number;
  level: number;
  slope: number;
  /** seasonal indexes by position: seasonal[(t + offset) % m] is the index of time step t */
  seasonal: Float64Array;
  /** the season slot of the first step after the window */
  next: number;
}

/** Runs the recursion over the window; Infinity when a multiplicative run leaves positive ground. */
function filter(
  y: Float64Array,
  real: Uint8Array,
  m: number,
  variant: EtsVariant,
  p: EtsParams,
  init: Init,
  seasonal: Float64Array,
): Run {
  let level = init.level;
  let slope = init.slope;
  seasonal.set(init.seasonal);
  const hasSeason = variant.season !== 'N';
  const mult = variant.season === 'M';
  const { alpha, beta, gamma, phi } = p;
  let sse = 0;
  let slot = 0;
  for (let t = 0; t < y.length; t++) {
    const base = level + phi * slope;
    const s = hasSeason ? seasonal[slot]! : mult ? 1 : 0;
    const predicted = mult ? base * s : base + s;
    if (real[t] === 1) {
      const e = y[t]! - predicted;
      sse += e * e;
      if (mult) {
        if (!(base > 0) || !(s > 0))
          return { sse: Number.POSITIVE_INFINITY, level, slope, seasonal, next: slot };
        level = base + (alpha * e) / s;
        slope = phi * slope + (beta * e) / s;
        seasonal[slot] = s + (gamma * e) / base;
      } else {
        level = base + alpha * e;
        slope = phi * slope + beta * e;
        if (hasSeason) seasonal[slot] = s + gamma * e;
      }
    } else {
      level = base;
      slope = phi * slope;
    }
    if (hasSeason) slot = slot + 1 === m ? 0 : slot + 1;
  }
  return { sse, level, slope, seasonal, next: slot };
}

export interface EtsFit {
  variant: EtsVariant;
  params: EtsParams;
  /** the optimiser's coordinates of params, to warm-start a refit on a longer window */
  x: number[];
  sse: number;
  /** points scored (the real ones) */
  n: number;
  aicc: number;
  forecast(h: number): number[];
}

/** Fits one variant; null when it cannot run (too short, or non-positive data for M). */
export function fitEtsVariant(
  y: Float64Array,
  real: Uint8Array,
  period: number,
  variant: EtsVariant,
  start?: readonly number[],
  iterations = 60,
): EtsFit | null {
  const m = variant.season === 'N' ? 1 : period;
  if (variant.season !== 'N' && y.length < MIN_SEASONS * m) return null;
  if (variant.season === 'M' && y.some((v) => !(v > 0))) return null;
  if (y.length < 4) return null;
  const init = initialStates(y, m, variant);
  const seasonal = new Float64Array(Math.max(m, 1));
  const objective = (x: Float64Array) =>
    filter(y, real, m, variant, paramsOf(x, variant), init, seasonal).sse;
  const best = nelderMead(objective, start ?? startOf(variant), {
    step: 1,
    maxIterations: iterations * startOf(variant).length,
    tolerance: 1e-4,
  });
  const params = paramsOf(best.x, variant);
  const run = filter(y, real, m, variant, params, init, new Float64Array(Math.max(m, 1)));
  if (!Number.isFinite(run.sse)) return null;
  let n = 0;
  for (let t = 0; t < real.length; t++) n += real[t]!;
  const k = best.x.length + 1 + (variant.trend === 'N' ? 0 : 1) + (variant.season === 'N' ? 0 : m - 1);
  const aicc =
    n > k + 1
      ? n * Math.log(Math.max(run.sse, 1e-12) / n) + 2 * k + (2 * k * (k + 1)) / (n - k - 1)
      : Number.POSITIVE_INFINITY;
  return {
    variant,
    params,
    x: best.x,
    sse: run.sse,
    n,
    aicc,
    forecast(h) {
      const out: number[] = [];
      let damped = 0;
      let factor = 1;
      for (let k2 = 1; k2 <= h; k2++) {
        factor *= params.phi;
        damped += factor;
        const base = run.level + damped * run.slope;
        if (variant.season === 'N') out.push(base);
        else {
          const s = run.seasonal[(run.next + k2 - 1) % m]!;
          out.push(variant.season === 'M' ? base * s : base + s);
        }
      }
      return out;
    },
  };
}

export function etsVariants(series: Series, positive: boolean): EtsVariant[] {
  const seasons: SeasonKind[] = series.period >= 2 ? ['A', ...(positive ? (['M'] as const) : [])] : ['N'];
  const variants: EtsVariant[] = [];
  for (const season of seasons) {
    for (const trend of ['N', 'A', 'Ad'] as const) variants.push({ trend, season });
  }
  return variants;
}

const label = (v: EtsVariant) => `ETS(A,${v.trend},${v.season})`;

export interface EtsHint {
  variant: EtsVariant;
  x: number[];
}

/** A refit from a hint only polishes: a few simplex steps from where the earlier fit ended. */
const WARM_ITERATIONS = 15;

/**
 * Fits the candidate variants on the usable points before `end` and keeps the lowest AICc. With a
 * hint (the variant and parameters an earlier fit chose on a shorter window), only that variant is
 * refitted, starting from those parameters: the backtest refits at each fold this way.
 */
export function fitEts(
  series: Series,
  end: number,
  hint?: EtsHint,
): (FittedModel & { hint: EtsHint }) | null {
  const { y, real } = contiguousWindow(series, end);
  const positive = y.every((v) => v > 0);
  const period = series.period >= 2 && y.length >= MIN_SEASONS * series.period ? series.period : 0;
  const shaped: Series = { ...series, period };
  let best: EtsFit | null = null;
  const usableHint = hint && (hint.variant.season === 'N' || period > 0) ? hint : undefined;
  if (usableHint) best = fitEtsVariant(y, real, period, usableHint.variant, usableHint.x, WARM_ITERATIONS);
  if (!best) {
    for (const variant of etsVariants(shaped, positive)) {
      const fit = fitEtsVariant(y, real, period, variant);
      if (fit && (best === null || fit.aicc < best.aicc)) best = fit;
    }
  }
  if (!best) return null;
  const chosen = best;
  const { alpha, beta, gamma, phi } = chosen.params;
  const coefficients: Record<string, number> = { alpha };
  if (chosen.variant.trend !== 'N') coefficients['beta'] = beta;
  if (chosen.variant.season !== 'N') coefficients['gamma'] = gamma;
  if (chosen.variant.trend === 'Ad') coefficients['phi'] = phi;
  return {
    name: 'ets',
    transform: 'none',
    features: Object.keys(coefficients),
    coefficients,
    note: `${label(chosen.variant)}${usableHint ? '' : ' by AICc'}`,
    predict: (h) => clampAtZero(chosen.forecast(h)),
    residualSd: () => Math.sqrt(chosen.sse / Math.max(1, chosen.n - Object.keys(coefficients).length)),
    hint: { variant: chosen.variant, x: chosen.x },
  };
}
