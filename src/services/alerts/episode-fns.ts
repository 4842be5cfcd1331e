/**
 * From day-by-day findings to the alerts that would have fired: a (rule, entity) fires once its
 * anomaly lasted `pendingPeriods` consecutive checked days, stays one alert while it lasts, and
 * resolves on the first checked day without it. Pure; the backtest replays history through it.
 */
import type { AlertCandidate, FiredAlert } from '../../models/alerts.ts';
import { maxSeverity } from './detection-fns.ts';

export interface DayFinding {
  day: number;
  candidate: AlertCandidate;
}

/** `12h` → 1 day (checks are daily), `2d` → 2, `1w` → 7. */
export function repeatDays(interval: string): number {
  const n = Number(interval.slice(0, -1));
  const unit = interval.at(-1);
  return Math.max(1, unit === 'w' ? n * 7 : unit === 'd' ? n : Math.ceil(n / 24));
}

export interface EpisodeOptions {
  pendingPeriods: number;
  repeatInterval: string;
  notifyOnResolve: boolean;
}

/**
 * `findings` are one (rule, entity)'s anomalous days; `checked` are the days the check ran for it
 * (closed days are not checked: they neither extend nor break a run). Returns the fired alerts.
 */
export function episodes(
  findings: readonly DayFinding[],
  checked: readonly number[],
  options: EpisodeOptions,
  format: (day: number) => string,
): FiredAlert[] {
  const byDay = new Map(findings.map((f) => [f.day, f.candidate]));
  const every = repeatDays(options.repeatInterval);
  const out: FiredAlert[] = [];
  let run: DayFinding[] = [];
  let fired: FiredAlert | undefined;
  let lastNotified = 0;

  const close = (resolvedOn: number | null) => {
    if (fired) {
      fired.resolvedOn = resolvedOn === null ? null : format(resolvedOn);
      if (resolvedOn !== null && options.notifyOnResolve) fired.notifications.push(format(resolvedOn));
      out.push(fired);
    }
    fired = undefined;
    run = [];
  };

  for (const day of checked) {
    const c = byDay.get(day);
    if (!c) {
      close(day);
      continue;
    }
    run.push({ day, candidate: c });
    if (!fired && run.length >= options.pendingPeriods) {
      fired = {
        ruleId: c.ruleId,
        entity: c.entity,
        kind: c.kind,
        ...(c.direction ? { direction: c.direction } : {}),
        startedOn: format(run[0]!.day),
        firedOn: format(day),
        lastOn: format(day),
        resolvedOn: null,
        days: 0,
        peakScore: null,
        severity: 'info',
        moneyAtStake: 0,
        notifications: [format(day)],
        candidate: c,
      };
      lastNotified = day;
      for (const r of run) absorb(fired, r.candidate, r.day, format);
    } else if (fired) {
      absorb(fired, c, day, format);
      if (day - lastNotified >= every) {
        fired.notifications.push(format(day));
        lastNotified = day;
      }
    }
  }
  if (fired) close(null);
  return out;
}

function absorb(a: FiredAlert, c: AlertCandidate, day: number, format: (day: number) => string): void {
  a.days++;
  a.lastOn = format(day);
  a.severity = maxSeverity(a.severity, c.severity);
  a.moneyAtStake = Math.round((a.moneyAtStake + c.moneyAtStake) * 100) / 100;
  if (c.score !== null && (a.peakScore === null || Math.abs(c.score) > Math.abs(a.peakScore)))
    a.peakScore = c.score;
}
