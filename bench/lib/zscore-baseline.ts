/**
 * The seed design's detector, as the accuracy baseline: a z-score of each store's daily receipts
 * against the mean and standard deviation of its whole history before that day, |z| ≥ 3 alerts.
 * It knows no weekday: every busy Saturday stands out.
 */
import { formatDay } from '../../src/lib/calendar.ts';
import type { AlertCandidate } from '../../src/models/alerts.ts';
import { type Accuracy, accuracy } from '../../src/services/alerts/accuracy-fns.ts';
import { type DayFinding, episodes } from '../../src/services/alerts/episode-fns.ts';
import type { AccuracyResult } from './alert-accuracy.ts';

export function zscoreStoreAlerts(run: AccuracyResult, minHistory = 28): Accuracy {
  const fired = [];
  const days = [...run.storeOrders.values()][0]?.length ?? 0;
  const checked = Array.from({ length: days }, (_, i) => run.firstDay + i);
  for (const [storeId, series] of run.storeOrders) {
    const findings: DayFinding[] = [];
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < series.length; i++) {
      const x = series[i]!;
      if (i >= minHistory) {
        const mean = sum / i;
        const sd = Math.sqrt(Math.max(0, sumSq / i - mean * mean));
        const z = sd > 0 ? (x - mean) / sd : 0;
        if (Math.abs(z) >= 3) {
          const candidate: AlertCandidate = {
            ruleId: 'zscore',
            day: formatDay(run.firstDay + i),
            entity: { level: 'store', id: storeId, name: storeId, storeId },
            metric: 'orders',
            kind: z < 0 ? 'drop' : 'spike',
            direction: z < 0 ? 'drop' : 'spike',
            actual: x,
            expected: mean,
            score: z,
            severity: 'info',
            moneyAtStake: 0,
            explanation: { summary: '', contributors: [] },
          };
          findings.push({ day: run.firstDay + i, candidate });
        }
      }
      sum += x;
      sumSq += x * x;
    }
    fired.push(
      ...episodes(
        findings,
        checked,
        { pendingPeriods: 1, repeatInterval: '1d', notifyOnResolve: false },
        formatDay,
      ),
    );
  }
  return accuracy(fired, run.injected, run.hierarchy, { stores: run.storeOrders.size, days });
}
