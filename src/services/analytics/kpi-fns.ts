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

export type StockStatus = 'out' | 'low' | 'ok';

export function stockStatus(quantity: number, reorderLevel: number): StockStatus {
  if (quantity <= 0) return 'out';
  if (quantity <= reorderLevel) return 'low';
  return 'ok';
}

/** quantity / average daily units; null without sales (negative when the books are behind). */
export function daysOfCover(quantity: number, avgDailyUnits: number): number | null {
  if (avgDailyUnits <= 0) return null;
  return quantity / avgDailyUnits;
}

/** Σ max(quantity, 0) × price, for one item; scaled. */
export function stockValueScaled(quantity: number, price: number): number {
  return Math.round(Math.max(quantity, 0) * price * MONEY_SCALE);
}
