/**
 * Anomaly detection for one series on one day: a seasonal baseline (the same weekday over the
 * previous N weeks), a robust spread (median and MAD), a score, a direction and a severity.
 * Pure functions over plain numbers; the detector feeds them from day partitions.
 */
import type { Direction, Severity } from '../../models/alerts.ts';

/** MAD × 1.4826 estimates the standard deviation of normal data, and ignores outliers. */
export const MAD_SCALE = 1.4826;
/** The spread never goes below this part of the expected value (six quiet weeks are no promise). */
export const RELATIVE_SPREAD_FLOOR = 0.1;
/** …nor below one unit of the metric (one unit, one order, one currency unit). */
export const ABSOLUTE_SPREAD_FLOOR = 1;
/** Unit price this much under its baseline: the day's lift comes from a price cut. */
export const PROMOTION_PRICE_CUT = 0.1;

/** Median of the first `n` values of `v` (sorted in place: pass a scratch array). */
export function medianInPlace(v: Float64Array | number[], n: number): number {
  for (let i = 1; i < n; i++) {
    const x = v[i]!;
    let j = i - 1;
    while (j >= 0 && v[j]! > x) {
      v[j + 1] = v[j]!;
      j--;
    }
    v[j + 1] = x;
  }
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export function median(values: readonly number[]): number {
  return medianInPlace([...values], values.length);
}

/** Median absolute deviation from `center` (scratch is overwritten). */
export function madInPlace(v: Float64Array | number[], n: number, center: number): number {
  for (let i = 0; i < n; i++) v[i] = Math.abs(v[i]! - center);
  return medianInPlace(v, n);
}

export interface Baseline {
  expected: number;
  /** MAD × 1.4826, before the floor */
  rawSpread: number;
  /** what the score divides by: never zero */
  spread: number;
}

/** Median, scaled MAD and the floored spread of baseline values. */
export function robustBaseline(values: readonly number[], counts = false): Baseline {
  const scratch = [...values];
  const expected = medianInPlace(scratch, scratch.length);
  const rawSpread = madInPlace(scratch, scratch.length, expected) * MAD_SCALE;
  return { expected, rawSpread, spread: flooredSpread(rawSpread, expected, counts) };
}

/**
 * The spread the score divides by: the scaled MAD, but at least 10 % of the expected value and at
 * least 1; for counts (units, orders) at least √expected too, the Poisson noise of a count: six
 * same-weekday values of a product selling 6 a day can agree by luck, and 12 is then no anomaly.
 */
export function flooredSpread(rawSpread: number, expected: number, counts = false): number {
  const e = Math.abs(expected);
  return Math.max(rawSpread, RELATIVE_SPREAD_FLOOR * e, ABSOLUTE_SPREAD_FLOOR, counts ? Math.sqrt(e) : 0);
}

export function robustScore(actual: number, baseline: Pick<Baseline, 'expected' | 'spread'>): number {
  return (actual - baseline.expected) / baseline.spread;
}

export function directionOf(score: number): Direction {
  return score < 0 ? 'drop' : 'spike';
}

export function wantsDirection(rule: 'drop' | 'spike' | 'both', score: number): boolean {
  return rule === 'both' || rule === directionOf(score);
}

export interface SeverityMap {
  warning: { minScore: number; minMoney: number };
  critical: { minScore: number; minMoney: number };
}

/** Critical needs a big score and a lot of money; a wild swing on a few euros stays info. */
export function severityOf(score: number | null, money: number, map: SeverityMap): Severity {
  const s = score === null ? Number.POSITIVE_INFINITY : Math.abs(score);
  const m = Math.abs(money);
  if (s >= map.critical.minScore && m >= map.critical.minMoney) return 'critical';
  if (s >= map.warning.minScore && m >= map.warning.minMoney) return 'warning';
  return 'info';
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}
export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s];
}

/** Baseline days needed for a verdict: two thirds of the weeks asked for, at least 3. */
export function minHistory(baselineWeeks: number): number {
  return Math.max(3, Math.ceil((baselineWeeks * 2) / 3));
}

/** How far back the baseline may reach for its N weeks when holidays or closed days are skipped. */
export function maxLookbackWeeks(baselineWeeks: number): number {
  return baselineWeeks + 4;
}

/**
 * The baseline days of `day`: the same weekday in earlier weeks, most recent first, skipping days
 * that are not usable (holidays, closed days), until `baselineWeeks` are found or the lookback ends.
 */
export function baselineDays(
  day: number,
  baselineWeeks: number,
  usable: (day: number) => boolean,
  firstDay = Number.NEGATIVE_INFINITY,
): number[] {
  const out: number[] = [];
  for (let k = 1; k <= maxLookbackWeeks(baselineWeeks) && out.length < baselineWeeks; k++) {
    const d = day - 7 * k;
    if (d < firstDay) break;
    if (usable(d)) out.push(d);
  }
  return out;
}

/** A spike whose unit price sits well under its usual one is a promotion (expected business). */
export function isPriceCut(actualPrice: number, baselinePrice: number): boolean {
  return baselinePrice > 0 && actualPrice > 0 && actualPrice <= baselinePrice * (1 - PROMOTION_PRICE_CUT);
}
