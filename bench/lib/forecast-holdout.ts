/** Holdout scoring for the forecast accuracy bench: fit on the past, score the next h points. */
import { forecast } from '../../src/services/forecast/forecast-fns.ts';
import type { ForecastInput } from '../../src/services/forecast/forecast-types.ts';

export interface HoldoutScore {
  /** MASE of the model's forecast of the held-out points, and of the seasonal naive forecast */
  mase: number;
  naive: number;
  /** held-out points inside the 80 % interval, and how many were scored */
  inside80: number;
  points: number;
  model: string;
}

/**
 * Fits on values[0..origin), forecasts `horizon`, and scores against values[origin..origin+horizon):
 * MASE scaled by the in-sample mean absolute seasonal difference (lag `period`, or 1), as R's
 * forecast::accuracy does.
 */
export function scoreHoldout(
  values: readonly number[],
  origin: number,
  horizon: number,
  input: Pick<ForecastInput, 'period' | 'phase' | 'model'>,
): HoldoutScore {
  const train = values.slice(0, origin);
  const actual = values.slice(origin, origin + horizon);
  const lag = input.period >= 2 ? input.period : 1;
  let scale = 0;
  for (let t = lag; t < train.length; t++) scale += Math.abs(train[t]! - train[t - lag]!);
  scale /= train.length - lag;
  const out = forecast({ ...input, values: train, horizon: actual.length, levels: [80] });
  let error = 0;
  let naiveError = 0;
  let inside80 = 0;
  actual.forEach((a, k) => {
    const p = out.forecast[k]!;
    error += Math.abs(a - p.value);
    naiveError += Math.abs(a - train[train.length - lag + (k % lag)]!);
    if (a >= p.lower['80']! && a <= p.upper['80']!) inside80++;
  });
  return {
    mase: error / actual.length / scale,
    naive: naiveError / actual.length / scale,
    inside80,
    points: actual.length,
    model: out.model.name,
  };
}
