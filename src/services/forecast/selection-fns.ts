/** Which models can be tried on a series, and which one the backtest prefers. */
import type { BacktestMetrics, ModelName, Series } from './forecast-types.ts';
import { seasonOf } from './series-fns.ts';

/** Ties in the backtest go to the first model here: fewer parameters, fewer ways to be wrong. */
export const SIMPLICITY: readonly ModelName[] = [
  'seasonal_naive',
  'linear_trend',
  'theta',
  'ets',
  'seasonal_regression',
  'combination',
];

/** Why seasonal dummies cannot be estimated on this series, or null when they can. */
export function seasonalRegressionBlocker(series: Series): string | null {
  const { period } = series;
  const n = series.values.length;
  if (period < 2) return 'no season (period ≤ 1)';
  // One full season and a few points more pin down the dummies and the trend: a partial month at
  // either end of two years of history must not cost the season.
  if (n < period + 3) return `less than a full season and 3 points (${period + 3} points needed, have ${n})`;
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

/** A single model must beat the combination's backtest MASE by this share to be chosen over it. */
const COMBINATION_MARGIN = 0.2;

export interface Candidate {
  name: ModelName;
  metrics: BacktestMetrics;
}

/** The lowest backtest MASE (MAE when a fold has no naive scale) on the choosing folds. */
export function pickByBacktest(
  candidates: readonly Candidate[],
  haveFolds: boolean,
  byMase: boolean,
): { name: ModelName; reason: string } {
  const ordered = SIMPLICITY.flatMap((name) => candidates.filter((c) => c.name === name));
  const score = (c: Candidate) => (byMase ? c.metrics.mase : c.metrics.mae);
  const scoredOnes = ordered.filter((c) => score(c) !== null);
  if (!haveFolds || scoredOnes.length === 0) {
    return {
      name: 'linear_trend',
      reason: 'auto: too little history to backtest the models; linear_trend by default',
    };
  }
  const tied = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  let best = scoredOnes[0]!;
  for (const c of scoredOnes.slice(1)) {
    if (score(c)! < score(best)! && !tied(score(c)!, score(best)!)) best = c;
  }
  // The M4 lesson: prefer the combination unless a single model is clearly better (a tie, as on a
  // flat series that every model forecasts perfectly, still goes to the simpler model).
  const combination = scoredOnes.find((c) => c.name === 'combination');
  const preferCombination =
    combination !== undefined &&
    combination !== best &&
    !tied(score(best)!, score(combination)!) &&
    score(best)! >= (1 - COMBINATION_MARGIN) * score(combination)!;
  if (preferCombination) best = combination;
  const metric = byMase ? 'MASE' : 'MAE';
  const others = scoredOnes
    .filter((c) => c !== best)
    .map((c) => `${c.name} ${format(score(c)!)}`)
    .join(', ');
  const notes = [
    ...(scoredOnes.some((c) => c !== best && tied(score(c)!, score(best)!))
      ? ['a tie: the simpler model wins']
      : []),
    ...(byMase ? [] : ['MASE undefined: the naive scale is 0']),
  ];
  const why = preferCombination
    ? `auto: combination chosen, no single model beat its backtest ${metric} by ${COMBINATION_MARGIN * 100} % (${format(score(best)!)} vs ${others})`
    : `auto: ${best.name} had the lowest backtest ${metric} (${format(score(best)!)} vs ${others})`;
  return { name: best.name, reason: `${why}${notes.map((n) => `; ${n}`).join('')}` };
}

function format(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}
