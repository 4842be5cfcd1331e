/** How a forecast's model and metrics are shown: rounded figures and a note on every feature. */

import { MONTH_NAMES } from '../../lib/calendar.ts';
import type { BacktestMetrics, ModelName } from './forecast-types.ts';

export type Granularity = 'day' | 'week' | 'month';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** 2 decimals from 1 up (117598.34); 4 significant digits below (0.0123 stays readable). */
export function roundForDisplay(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 1) return Math.round(value * 100) / 100;
  return Number(value.toPrecision(4));
}

export function roundMetrics<T extends Partial<BacktestMetrics>>(metrics: T): T {
  const out: Record<string, unknown> = { ...metrics };
  for (const key of ['mae', 'rmse', 'mape', 'smape'] as const) {
    const v = metrics[key];
    if (typeof v === 'number') out[key] = Math.round(v * 100) / 100;
  }
  if (typeof metrics.mase === 'number') out['mase'] = Math.round(metrics.mase * 1000) / 1000;
  return out as T;
}

/** What each coefficient of the model means, in the words of the series' calendar. */
export function featureNotes(
  model: ModelName,
  features: readonly string[],
  granularity: Granularity,
  transform: 'none' | 'log1p',
): Record<string, string> {
  const unit = granularity;
  const scale = transform === 'log1p' ? ' (on the log(1 + value) scale)' : '';
  const notes: Record<string, string> = {};
  for (const feature of features) {
    notes[feature] = noteOf(model, feature, unit, scale) ?? feature;
  }
  return notes;
}

function noteOf(model: ModelName, feature: string, unit: Granularity, scale: string): string | undefined {
  const seasonal = /^(dow|month|week|season)_(\d+)$/.exec(feature);
  if (seasonal) {
    const k = Number(seasonal[2]);
    if (seasonal[1] === 'dow') return `${WEEKDAYS[k]} against Monday${scale}`;
    if (seasonal[1] === 'month') return `${MONTH_NAMES[k - 1]} against January${scale}`;
    if (seasonal[1] === 'week') return `ISO week ${k} against week 1${scale}`;
    return `season position ${k} against position 0${scale}`;
  }
  const lag = /^lag_(\d+)$/.exec(feature);
  if (lag) return `the value ${lag[1]} ${unit}${lag[1] === '1' ? '' : 's'} before`;
  if (model === 'combination') return `weight of the ${feature} forecast in the mean`;
  switch (feature) {
    case 'intercept':
      return `the straight line's value at the first ${unit} of the history${scale}`;
    case 'trend':
      return `change per ${unit}${scale}`;
    case 'alpha':
      return model === 'theta'
        ? 'weight of the newest value in the smoothed, seasonally adjusted level (0..1)'
        : 'weight of the newest error in the level (0..1)';
    case 'beta':
      return 'weight of the newest error in the slope (0..alpha)';
    case 'gamma':
      return 'weight of the newest error in its season (0..1 − alpha)';
    case 'phi':
      return 'damping of the slope per step ahead (1 = none)';
    case 'drift':
      return `half the straight-line slope per ${unit} (the theta line)`;
    default:
      return undefined;
  }
}
