/**
 * The detector: for a checked day, every rule over every entity, from the warm day partitions.
 * Keeps no state and sends nothing; the alert lifecycle and notifications are built on top.
 *
 * The backtest walks each weekday's chain of days in order (a day's baseline is the same weekday
 * in earlier weeks), so every partition is scattered into dense arrays once and kept only while a
 * later day of its chain still needs it.
 */
import type { Config } from '../../config.ts';
import { ValidationError } from '../../errors.ts';
import { formatDay, parseDay, weekday } from '../../lib/calendar.ts';
import { holidayLookup } from '../../lib/holidays.ts';
import {
  type AlertCandidate,
  type AlertRule,
  type BacktestAnswer,
  type BacktestQuery,
  DEFAULT_RULES,
  type SkipCounts,
  STOCK_METRICS,
} from '../../models/alerts.ts';
import type { CatalogSnapshotService } from '../analytics/catalog-snapshot.ts';
import type { PartitionStore } from '../analytics/partition-store.ts';
import type { StockAnalyticsService } from '../analytics/stock-analytics-service.ts';
import { type DayContext, emptySkips, type PreparedRule, prepareRule } from './day-context.ts';
import { detectSales, detectStock } from './detect-day.ts';
import { maxLookbackWeeks, severityRank } from './detection-fns.ts';
import { type DayFinding, episodes } from './episode-fns.ts';
import { loadRun, type Run, type StockCache, stockIndex } from './run-data.ts';
import { buildDenseDay, createDenseDayPool, type DenseDay } from './series-fns.ts';

export interface DetectorDeps {
  partitions: PartitionStore;
  catalog: CatalogSnapshotService;
  stock: Pick<StockAnalyticsService, 'currentStock'>;
  config: Pick<Config, 'alerts'>;
}

export interface DayDetection {
  day: string;
  closed: boolean;
  holiday: string | null;
  candidates: AlertCandidate[];
  skipped: SkipCounts;
  complete: boolean;
}

const isStock = (r: AlertRule) => (STOCK_METRICS as readonly string[]).includes(r.metric);

export function rulesFor(ruleId: string | undefined): AlertRule[] {
  if (ruleId === undefined) return DEFAULT_RULES.filter((r) => r.enabled);
  const rule = DEFAULT_RULES.find((r) => r.id === ruleId);
  if (!rule)
    throw new ValidationError(`Unknown rule '${ruleId}'.`, [
      { path: 'rule', message: `one of ${DEFAULT_RULES.map((r) => r.id).join(', ')}` },
    ]);
  return [rule];
}

export function alertDetectorFactory({ partitions, catalog, stock, config }: DetectorDeps) {
  const holiday = holidayLookup(config.alerts.holidaysCountry);
  // A check keeps about one weekday chain of dense days: recycle their arrays between runs.
  const pool = createDenseDayPool(12);
  const stockCache: StockCache = {};

  function lookbackDays(rules: readonly AlertRule[]): number {
    return 7 * Math.max(0, ...rules.map((r) => maxLookbackWeeks(r.thresholds.baselineWeeks)));
  }

  /**
   * Runs the rules on each checked day, chain by chain. `onDay` receives each day's candidates.
   * Stock rules run only on `stockDay` (the latest closed day), the one day whose stock is known.
   */
  function replay(
    run: Run,
    rules: readonly AlertRule[],
    from: number,
    to: number,
    onDay: (day: number, closed: boolean, found: AlertCandidate[]) => void,
    skips: SkipCounts,
  ): void {
    const prepared: PreparedRule[] = rules.map((r) => prepareRule(r, run.layout, run.labels));
    const withOrders = rules.some((r) => r.metric === 'orders');
    const back = lookbackDays(rules);
    for (let w = 0; w < 7; w++) {
      const ring = new Map<number, DenseDay>();
      let first = from - back;
      while (weekday(first) !== w) first++;
      for (let d = first; d <= to; d += 7) {
        const view = run.views.get(d);
        if (view) ring.set(d, buildDenseDay(view, run.layout, withOrders, pool));
        for (const [held, dense] of ring)
          if (held < d - back) {
            ring.delete(held);
            pool.release(dense);
          }
        if (d < from) continue;
        const ctx: DayContext = {
          day: d,
          dense: (x) => ring.get(x),
          holiday,
          layout: run.layout,
          labels: run.labels,
          stock: d === run.stockDay ? run.stock : undefined,
          format: formatDay,
        };
        const today = ring.get(d);
        const closed = !today || today.closed;
        const found: AlertCandidate[] = [];
        for (const p of prepared) {
          if (isStock(p.rule)) {
            // Stock rules run on the last day; earlier days have no stock to look at.
            if (d === to) found.push(...detectStock(ctx, p, skips));
            else skips.stockUnknown++;
          } else if (!closed) found.push(...detectSales(ctx, p, skips));
        }
        onDay(d, closed, found);
      }
      for (const dense of ring.values()) pool.release(dense);
    }
  }

  /** Every rule over every entity on one day (default: yesterday). */
  async function detectDay(
    date?: string,
    rules: readonly AlertRule[] = rulesFor(undefined),
  ): Promise<DayDetection> {
    const today = partitions.today();
    const day = date === undefined ? today - 1 : parseDay(date)!;
    const active = rules.filter((r) => r.enabled);
    const run = await loadRun({ partitions, catalog }, day - lookbackDays(active), day);
    if (active.some(isStock) && day >= today - 1)
      await stockIndex(run, { partitions, stock }, day, stockCache);
    const skipped = emptySkips();
    const candidates: AlertCandidate[] = [];
    let closed = false;
    replay(
      run,
      active,
      day,
      day,
      (_d, c, found) => {
        closed = c;
        candidates.push(...found);
      },
      skipped,
    );
    return {
      day: formatDay(day),
      closed,
      holiday: holiday(day) ?? null,
      candidates: rank(candidates),
      skipped,
      complete: run.complete,
    };
  }

  /** What would have fired from `from` to `to`, honouring pending periods; notifies nobody. */
  async function backtest(
    query: BacktestQuery,
    rules: readonly AlertRule[] = rulesFor(query.rule),
  ): Promise<BacktestAnswer> {
    const started = performance.now();
    const from = parseDay(query.from)!;
    const to = parseDay(query.to)!;
    const today = partitions.today();
    if (to >= today)
      throw new ValidationError('The backtest ends on a closed day.', [
        { path: 'to', message: `must be before today (${formatDay(today)})` },
      ]);
    const run = await loadRun({ partitions, catalog }, from - lookbackDays(rules), to);
    if (rules.some(isStock) && to === today - 1) await stockIndex(run, { partitions, stock }, to, stockCache);
    const skipped = emptySkips();
    const findings = new Map<string, DayFinding[]>();
    const closedDays: number[] = [];
    const checked: number[] = [];
    replay(
      run,
      rules,
      from,
      to,
      (day, closed, found) => {
        if (closed) closedDays.push(day);
        else checked.push(day);
        for (const c of found) {
          const k = `${c.ruleId}\u0000${c.entity.id}`;
          let list = findings.get(k);
          if (!list) {
            list = [];
            findings.set(k, list);
          }
          list.push({ day, candidate: c });
        }
      },
      skipped,
    );
    checked.sort((x, y) => x - y);
    closedDays.sort((x, y) => x - y);
    const byId = new Map(rules.map((r) => [r.id, r]));
    const alerts: BacktestAnswer['alerts'] = [];
    for (const list of findings.values()) {
      list.sort((x, y) => x.day - y.day);
      const rule = byId.get(list[0]!.candidate.ruleId)!;
      // Stock rules are known on the last day only: that day is their whole history.
      const days = isStock(rule) ? [to] : checked;
      alerts.push(...episodes(list, days, rule, formatDay));
    }
    alerts.sort(
      (x, y) =>
        x.firedOn.localeCompare(y.firedOn) ||
        severityRank(y.severity) - severityRank(x.severity) ||
        y.moneyAtStake - x.moneyAtStake ||
        x.ruleId.localeCompare(y.ruleId) ||
        x.entity.id.localeCompare(y.entity.id),
    );
    const holidays: { day: string; name: string }[] = [];
    for (let d = from; d <= to; d++) {
      const name = holiday(d);
      if (name) holidays.push({ day: formatDay(d), name });
    }
    return {
      from: query.from,
      to: query.to,
      rules: rules.map((r) => r.id),
      alerts,
      days: { checked: checked.length, closed: closedDays.map(formatDay), holidays },
      skipped,
      meta: { computeMs: Math.round(performance.now() - started), complete: run.complete },
    };
  }

  return { detectDay, backtest };
}

/** Most severe first, then the most money at stake. */
function rank(list: AlertCandidate[]): AlertCandidate[] {
  return list.sort(
    (x, y) =>
      severityRank(y.severity) - severityRank(x.severity) ||
      y.moneyAtStake - x.moneyAtStake ||
      x.ruleId.localeCompare(y.ruleId) ||
      x.entity.id.localeCompare(y.entity.id),
  );
}

export type AlertDetector = ReturnType<typeof alertDetectorFactory>;
