/**
 * Precision and recall of fired alerts against a list of known events (the sample upstream's
 * injected anomalies): how the default rules are held to "find what happened, don't cry wolf".
 *
 * Counting:
 * - an event is found when at least one alert relates to it (a multi-day event counts once);
 * - an alert relates to an event when their days overlap and the alert is on the event's store or
 *   product, on the region of that store, on the category or brand of that product, or names the
 *   store or product among its contributors;
 * - events marked `expected` (promotions) are business as usual: an alert related only to them is
 *   a false alert, and they are not counted in the recall;
 * - every other alert is false.
 */
import type { FiredAlert } from '../../models/alerts.ts';

export interface KnownEvent {
  kind: string;
  storeId?: string;
  productId?: string;
  from: string;
  to: string;
  /** expected business (a promotion): should not alert */
  expected: boolean;
}

export interface Hierarchy {
  regionOfStore(storeId: string): string | undefined;
  categoryOfProduct(productId: string): string | undefined;
  brandOfProduct(productId: string): string | undefined;
}

export function relates(alert: FiredAlert, event: KnownEvent, h: Hierarchy): boolean {
  if (alert.lastOn < event.from || alert.startedOn > event.to) return false;
  const e = alert.entity;
  const named = new Set(alert.candidate.explanation.contributors.map((c) => c.id));
  if (event.storeId !== undefined) {
    if (e.storeId === event.storeId && (event.productId === undefined || e.productId === undefined))
      return true;
    if (e.level === 'region' && h.regionOfStore(event.storeId) === e.id) return true;
    if (named.has(event.storeId)) return true;
  }
  if (event.productId !== undefined) {
    if (e.productId === event.productId) return true;
    if (e.level === 'category' && h.categoryOfProduct(event.productId) === e.id) return true;
    if (e.level === 'brand' && h.brandOfProduct(event.productId) === e.id) return true;
    if (named.has(event.productId)) return true;
  }
  return false;
}

export interface Accuracy {
  events: number;
  found: number;
  recall: number;
  alerts: number;
  trueAlerts: number;
  falseAlerts: number;
  precision: number;
  /** false alerts per store per month (30.44 days) */
  falsePerStoreMonth: number;
  missed: KnownEvent[];
  falseExamples: FiredAlert[];
}

export function accuracy(
  alerts: readonly FiredAlert[],
  events: readonly KnownEvent[],
  h: Hierarchy,
  scope: { stores: number; days: number },
): Accuracy {
  const anomalies = events.filter((e) => !e.expected);
  const found = new Set<KnownEvent>();
  let trueAlerts = 0;
  const falseList: FiredAlert[] = [];
  for (const a of alerts) {
    const hits = anomalies.filter((e) => relates(a, e, h));
    for (const e of hits) found.add(e);
    if (hits.length > 0) trueAlerts++;
    else falseList.push(a);
  }
  const months = scope.days / 30.44;
  return {
    events: anomalies.length,
    found: found.size,
    recall: anomalies.length ? found.size / anomalies.length : 1,
    alerts: alerts.length,
    trueAlerts,
    falseAlerts: falseList.length,
    precision: alerts.length ? trueAlerts / alerts.length : 1,
    falsePerStoreMonth: months > 0 && scope.stores > 0 ? falseList.length / scope.stores / months : 0,
    missed: anomalies.filter((e) => !found.has(e)),
    falseExamples: falseList.slice(0, 20),
  };
}
