/**
 * The combination forecast: the equal-weight mean of the member models' forecasts, step by step.
 * The M4 competition's lesson: a plain average of a few sound models beats choosing one of them,
 * because their errors partly cancel and no single choice can be badly wrong.
 */
import type { FittedModel, ModelName } from './forecast-types.ts';

/** The members, in the order they are tried; at least two must fit for a combination. */
export const COMBINATION_MEMBERS: readonly ModelName[] = ['ets', 'theta', 'seasonal_regression'];

export function combine(forecasts: readonly (readonly number[])[]): number[] {
  const h = forecasts[0]?.length ?? 0;
  const out: number[] = [];
  for (let k = 0; k < h; k++) {
    let sum = 0;
    for (const f of forecasts) sum += f[k]!;
    out.push(sum / forecasts.length);
  }
  return out;
}

export function combinationModel(members: readonly FittedModel[]): FittedModel {
  const weight = 1 / members.length;
  return {
    name: 'combination',
    transform: 'none',
    features: members.map((m) => m.name),
    coefficients: Object.fromEntries(members.map((m) => [m.name, weight])),
    note: `mean of ${members.map((m) => (m.note ? `${m.name} (${m.note})` : m.name)).join(', ')}`,
    predict: (h) => combine(members.map((m) => m.predict(h))),
    residualSd: () => Math.max(...members.map((m) => m.residualSd())),
  };
}
