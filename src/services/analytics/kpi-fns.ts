/**
 * The KPI formulas: the one implementation used by the API, the reports and the alerts.
 *
 * Money is summed as integers of 1/10 000 of the currency unit (exact in a double up to about
 * 9 × 10^11 units), so a sum of a million lines is exact and rounding to cents happens once, on the
 * exact decimal total, in the answer only.
 */

export const MONEY_SCALE = 10_000;

/** An amount as scaled integer (1/10 000 of a unit): exact for amounts with up to 4 decimals. */
export function toScaled(amount: number): number {
  return Math.round(amount * MONEY_SCALE);
}

/** A scaled integer sum rounded to cents, half away from zero, on the exact decimal value. */
export function scaledToCents(scaled: number): number {
  const cents = Math.sign(scaled) * Math.round(Math.abs(scaled) / (MONEY_SCALE / 100));
  return cents / 100 + 0; // + 0 turns -0 into 0
}

/** A money value already in units (e.g. a ratio of sums) rounded to cents, half away from zero. */
export function roundMoney(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return (Math.sign(value) * Math.round(Math.abs(value) * 100 + 1e-9)) / 100 + 0;
}

export function roundPct(value: number | null): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  return (Math.sign(value) * Math.round(Math.abs(value) * 100 + 1e-9)) / 100 + 0;
}

export function roundUnits(value: number): number {
  return Math.round(value * 1000) / 1000 + 0;
}

/** (current − previous) / previous × 100; null when there is no previous figure to compare with. */
export function growthPct(current: number, previous: number | null | undefined): number | null {
  if (previous === null || previous === undefined || previous === 0) return null;
  return ((current - previous) / Math.abs(previous)) * 100;
}

/** revenue / orders, in units; 0 without orders. Inputs: scaled revenue. */
export function avgOrderValue(revenueScaled: number, orders: number): number {
  return orders > 0 ? revenueScaled / MONEY_SCALE / orders : 0;
}

/** profit / revenue × 100; null without revenue. Inputs: scaled. */
export function marginPct(revenueScaled: number, costScaled: number): number | null {
  return revenueScaled !== 0 ? ((revenueScaled - costScaled) / revenueScaled) * 100 : null;
}

/** row revenue / total revenue (0..1); 0 when the total is 0. */
export function share(rowRevenueScaled: number, totalRevenueScaled: number): number {
  return totalRevenueScaled !== 0 ? rowRevenueScaled / totalRevenueScaled : 0;
}

export function revenuePerEmployee(revenueScaled: number, employees: number): number | null {
  return employees > 0 ? revenueScaled / MONEY_SCALE / employees : null;
}

export type StockStatus = 'negative' | 'out' | 'low' | 'ok';

/**
 * negative: below zero, which no shelf can hold (sold before it was booked in, or a data error):
 * flagged on its own so it is checked, never hidden among the out-of-stock items.
 */
export function stockStatus(quantity: number, reorderLevel: number): StockStatus {
  if (quantity < 0) return 'negative';
  if (quantity === 0) return 'out';
  if (quantity <= reorderLevel) return 'low';
  return 'ok';
}

/** quantity / average daily units; null without sales, and for negative stock (see stockStatus). */
export function daysOfCover(quantity: number, avgDailyUnits: number): number | null {
  if (avgDailyUnits <= 0 || quantity < 0) return null;
  return quantity / avgDailyUnits;
}

/** Σ max(quantity, 0) × price, for one item; scaled. */
export function stockValueScaled(quantity: number, price: number): number {
  return Math.round(Math.max(quantity, 0) * price * MONEY_SCALE);
}

/**
 * Reorder now: the item sells, and what is on the shelf (negative counts as none) lasts less than
 * the lead time of a new delivery.
 */
export function needsReorder(quantity: number, avgDailyUnits: number, leadTimeDays: number): boolean {
  return avgDailyUnits > 0 && Math.max(quantity, 0) < avgDailyUnits * leadTimeDays;
}

/**
 * Revenue at stake until a delivery ordered now arrives: the units the lead time's sales need beyond
 * the stock on hand, at the product's price; scaled. What ranks the reorder list: it weighs how soon
 * the shelf is empty (cover against lead time) by what the item sells for.
 */
export function revenueAtStakeScaled(
  quantity: number,
  avgDailyUnits: number,
  price: number,
  leadTimeDays: number,
): number {
  const short = avgDailyUnits * leadTimeDays - Math.max(quantity, 0);
  return short > 0 ? Math.round(short * price * MONEY_SCALE) : 0;
}

/** The days-of-cover buckets of the cover distribution, in order (null cover has buckets of its own). */
export const COVER_BUCKETS = [
  { key: 'negative', label: 'Negative' },
  { key: 'out', label: 'Out of stock' },
  { key: 'lt7', label: '< 7 days', max: 7 },
  { key: '7to14', label: '7–14 days', max: 14 },
  { key: '14to28', label: '14–28 days', max: 28 },
  { key: '28to56', label: '28–56 days', max: 56 },
  { key: 'ge56', label: '≥ 56 days', max: Number.POSITIVE_INFINITY },
  { key: 'noSales', label: 'No sales' },
] as const;
export type CoverBucket = (typeof COVER_BUCKETS)[number]['key'];

/** The cover bucket of an item. */
export function coverBucket(quantity: number, cover: number | null): CoverBucket {
  if (quantity < 0) return 'negative';
  if (quantity === 0) return 'out';
  if (cover === null) return 'noSales';
  for (const b of COVER_BUCKETS) if ('max' in b && cover < b.max) return b.key;
  return 'ge56';
}
