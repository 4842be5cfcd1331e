/**
 * One day, one rule, every entity: the tight loop over dense arrays, then the full candidate (names,
 * money at stake, promotion, stock-out, explanation) for the few entities that cross the threshold.
 */
import type { AlertCandidate, SalesMetric, SkipCounts } from '../../models/alerts.ts';
import { roundMoney, roundUnits } from '../analytics/kpi-fns.ts';
import { type DayContext, entityOf, type PreparedRule, storeOfEntity } from './day-context.ts';
import {
  baselineDays,
  directionOf,
  flooredSpread,
  MAD_SCALE,
  madInPlace,
  medianInPlace,
  severityOf,
  wantsDirection,
} from './detection-fns.ts';
import { explain, priceCut } from './explain.ts';
import { promotionShare, summarize } from './explain-fns.ts';
import { type DenseDay, entityCount, type SeriesKey } from './series-fns.ts';
import { stockVerdict } from './stock-rule-fns.ts';

/** Promotions making at least this part of an aggregate's spike make it a promotion spike. */
const PROMOTION_SHARE = 0.5;

interface Raw {
  e: number;
  actual: number;
  expected: number;
  score: number;
  days: DenseDay[];
}

/** The usable baseline days of the checked day: open, not a holiday, held. */
export function usableBaseline(ctx: DayContext, weeks: number): DenseDay[] {
  return baselineDays(ctx.day, weeks, (d) => {
    const dense = ctx.dense(d);
    return dense !== undefined && !dense.closed && ctx.holiday(d) === undefined;
  }).map((d) => ctx.dense(d)!);
}

function roundFor(metric: SalesMetric): (v: number) => number {
  return metric === 'revenue' ? roundMoney : roundUnits;
}

export function detectSales(ctx: DayContext, prepared: PreparedRule, skips: SkipCounts): AlertCandidate[] {
  const { rule, key, mask } = prepared;
  const metric = rule.metric as SalesMetric;
  const today = ctx.dense(ctx.day);
  if (!today || today.closed) return [];
  const base = usableBaseline(ctx, rule.thresholds.baselineWeeks);
  const values = today.series[key][metric];
  const baseValues = base.map((b) => b.series[key][metric]);
  const n0 = base.length;
  const scratch = new Float64Array(n0);
  const { minScore, minExpected } = rule.thresholds;
  const storeSide = key === 'store' || key === 'storeProduct';
  const counts = metric !== 'revenue';
  const raws: Raw[] = [];
  const E = entityCount(ctx.layout, key);
  for (let e = 0; e < E; e++) {
    if (mask && mask[e] === 0) continue;
    const actual = values[e]!;
    const s = storeSide ? storeOfEntity(key, e, ctx.layout) : -1;
    let n = 0;
    let any = actual !== 0;
    for (let k = 0; k < n0; k++) {
      if (s >= 0 && base[k]!.storeOpen[s] === 0) continue;
      const v = baseValues[k]![e]!;
      scratch[n++] = v;
      if (v !== 0) any = true;
    }
    if (!any) continue; // never sold here: not a series
    if (s >= 0 && today.storeOpen[s] === 0) {
      skips.closed++; // the store sold nothing at all: closed (or not reporting), not a drop
      continue;
    }
    if (n < prepared.minHistory) {
      skips.tooLittleHistory++;
      continue;
    }
    const expected = medianInPlace(scratch, n);
    if (expected < minExpected || expected <= 0) {
      skips.belowMinVolume++;
      continue;
    }
    const spread = flooredSpread(madInPlace(scratch, n, expected) * MAD_SCALE, expected, counts);
    const score = (actual - expected) / spread;
    if (Math.abs(score) < minScore || !wantsDirection(rule.direction, score)) continue;
    raws.push({
      e,
      actual,
      expected,
      score,
      days: s >= 0 ? base.filter((b) => b.storeOpen[s] === 1) : base,
    });
  }
  const out: AlertCandidate[] = [];
  for (const r of raws) {
    const c = candidate(ctx, prepared, key, metric, r, today);
    if (c === 'promotion') skips.promotion++;
    else out.push(c);
  }
  return out;
}

function medianOver(days: readonly DenseDay[], key: SeriesKey, metric: SalesMetric, e: number): number {
  const v = days.map((d) => d.series[key][metric][e]!);
  return v.length ? medianInPlace(v, v.length) : 0;
}

function candidate(
  ctx: DayContext,
  prepared: PreparedRule,
  key: SeriesKey,
  metric: SalesMetric,
  r: Raw,
  today: DenseDay,
): AlertCandidate | 'promotion' {
  const { rule } = prepared;
  const direction = directionOf(r.score);
  const round = roundFor(metric);
  const entity = entityOf(key, r.e, ctx.layout, ctx.labels);
  const revenueActual = today.series[key].revenue[r.e]!;
  const revenueExpected = metric === 'revenue' ? r.expected : medianOver(r.days, key, 'revenue', r.e);
  const contributors = explain(ctx, key, r.e, metric, direction, r.actual - r.expected, today, r.days, round);
  let promotion = false;
  if (direction === 'spike') {
    promotion =
      key === 'product' || key === 'storeProduct'
        ? priceCut(key, r.e, today, r.days)
        : promotionShare(contributors.filter((c) => c.kind === 'product')) >= PROMOTION_SHARE;
    if (promotion && !rule.includePromotions) return 'promotion';
  }
  let kind: AlertCandidate['kind'] = direction;
  let lostRevenue: number | undefined;
  let stock: AlertCandidate['stock'];
  if (key === 'storeProduct' && direction === 'drop' && ctx.stock) {
    const item = ctx.stock.items.get(r.e);
    if (item && item.quantity <= 0) {
      kind = 'out_of_stock_lost_sales';
      lostRevenue = roundMoney(Math.max(0, revenueExpected - revenueActual));
      stock = stockFacts(ctx, r.e, item);
    }
  }
  const moneyAtStake = roundMoney(Math.abs(revenueActual - revenueExpected));
  const holiday = ctx.holiday(ctx.day);
  const actual = round(r.actual);
  const expected = round(r.expected);
  return {
    ruleId: rule.id,
    day: ctx.format(ctx.day),
    entity,
    metric,
    kind,
    direction,
    actual,
    expected,
    score: Math.round(r.score * 100) / 100,
    severity: severityOf(r.score, moneyAtStake, rule.severity),
    moneyAtStake,
    ...(lostRevenue !== undefined ? { lostRevenue } : {}),
    baselineDays: r.days.map((d) => ctx.format(d.day)),
    ...(holiday ? { holiday } : {}),
    ...(promotion ? { promotion } : {}),
    ...(stock ? { stock } : {}),
    explanation: {
      summary:
        kind === 'out_of_stock_lost_sales'
          ? `${entity.name}: out of stock, about ${lostRevenue} of sales lost against the usual ${roundMoney(revenueExpected)}.`
          : summarize(entity.name, metric, direction, actual, expected, contributors),
      contributors,
    },
  };
}

function stockFacts(ctx: DayContext, e: number, item: { quantity: number; reorderLevel: number }) {
  const s = ctx.stock!;
  const avg = s.coverUnits[e]! / s.coverDays;
  return {
    quantity: item.quantity,
    reorderLevel: item.reorderLevel,
    avgDailyUnits: roundUnits(avg),
    daysOfCover: avg > 0 ? Math.round((item.quantity / avg) * 10) / 10 : null,
  };
}

/** Stock rules: only on the latest day (the system of record has no stock history). */
export function detectStock(ctx: DayContext, prepared: PreparedRule, skips: SkipCounts): AlertCandidate[] {
  const { rule, mask } = prepared;
  if (!ctx.stock) {
    skips.stockUnknown++;
    return [];
  }
  const metric = rule.metric as 'stock_out' | 'below_reorder' | 'low_cover';
  const today = ctx.dense(ctx.day);
  const base = today && !today.closed ? usableBaseline(ctx, rule.thresholds.baselineWeeks) : [];
  const out: AlertCandidate[] = [];
  const { coverUnits, coverRevenue, coverDays } = ctx.stock;
  for (const [e, item] of ctx.stock.items) {
    if (mask && mask[e] === 0) continue;
    const units = coverUnits[e]!;
    // Most items are fine: decide that without building anything.
    if (units <= 0 || units / coverDays < rule.thresholds.minExpected) {
      if (units === 0 && stockStatusMatters(metric, item)) skips.belowMinVolume++;
      continue;
    }
    if (metric === 'stock_out' && item.quantity > 0) continue;
    if (metric === 'below_reorder' && item.quantity > item.reorderLevel) continue;
    if (metric === 'low_cover' && item.quantity > (units / coverDays) * rule.thresholds.leadTimeDays)
      continue;
    const verdict = stockVerdict(
      metric,
      {
        quantity: item.quantity,
        reorderLevel: item.reorderLevel,
        avgDailyUnits: units / coverDays,
        unitRevenue: units > 0 ? coverRevenue[e]! / units : 0,
      },
      rule.thresholds.leadTimeDays,
      rule.thresholds.minExpected,
    );
    if (!verdict) continue;
    const entity = entityOf('storeProduct', e, ctx.layout, ctx.labels);
    const facts = stockFacts(ctx, e, item);
    let kind = verdict.kind;
    let lostRevenue: number | undefined;
    let actual = 0;
    let expected = 0;
    if (today && base.length > 0) {
      actual = today.series.storeProduct.revenue[e]!;
      expected = medianOver(base, 'storeProduct', 'revenue', e);
      if (kind === 'out_of_stock' && actual < expected) {
        kind = 'out_of_stock_lost_sales';
        lostRevenue = roundMoney(expected - actual);
      }
    }
    const cover = facts.daysOfCover === null ? 'no recent sales' : `${facts.daysOfCover} days of cover`;
    const summary =
      kind === 'out_of_stock_lost_sales'
        ? `${entity.name}: out of stock, about ${lostRevenue} of sales lost today against the usual ${roundMoney(expected)}.`
        : kind === 'out_of_stock'
          ? `${entity.name}: out of stock (${facts.avgDailyUnits} units a day usually).`
          : `${entity.name}: ${item.quantity} in stock, reorder level ${item.reorderLevel}, ${cover}.`;
    out.push({
      ruleId: rule.id,
      day: ctx.format(ctx.day),
      entity,
      metric: rule.metric,
      kind,
      actual: roundMoney(actual),
      expected: roundMoney(expected),
      score: null,
      severity: severityOf(null, lostRevenue ?? verdict.moneyAtStake, rule.severity),
      moneyAtStake: verdict.moneyAtStake,
      ...(lostRevenue !== undefined ? { lostRevenue } : {}),
      stock: facts,
      explanation: { summary, contributors: [] },
    });
  }
  return out;
}

function stockStatusMatters(metric: string, item: { quantity: number; reorderLevel: number }): boolean {
  return metric === 'stock_out' ? item.quantity <= 0 : item.quantity <= item.reorderLevel;
}
