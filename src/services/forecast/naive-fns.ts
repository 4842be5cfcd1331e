/** The seasonal naive forecast: the benchmark every other model has to beat. */
import type { FittedModel, Series } from './forecast-types.ts';
import { clampAtZero, naiveDifferences, residualSd } from './series-fns.ts';

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
