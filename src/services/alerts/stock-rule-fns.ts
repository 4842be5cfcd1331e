/**
 * Stock rules on one (store, product) item, with the stock analytics' definitions (kpi-fns.ts:
 * stockStatus, daysOfCover over COVER_WINDOW_DAYS of sales): out of stock, below reorder level,
 * days of cover under the lead time. Only items that sell are checked.
 */
import type { AlertKind, AlertMetric } from '../../models/alerts.ts';
import { daysOfCover, stockStatus } from '../analytics/kpi-fns.ts';

export interface StockFacts {
  quantity: number;
  reorderLevel: number;
  /** units sold per day over the cover window (as GET /analytics/stock computes it) */
  avgDailyUnits: number;
  /** average revenue per unit over the window, in currency units (0 when nothing sold) */
  unitRevenue: number;
}

export interface StockVerdict {
  kind: AlertKind;
  daysOfCover: number | null;
  /** revenue the item would sell over the lead time (what a stock-out puts at risk) */
  moneyAtStake: number;
}

/**
 * The verdict of one stock rule, or undefined when the item is fine or does not sell enough to be
 * checked (`minDailyUnits`).
 */
export function stockVerdict(
  metric: Extract<AlertMetric, 'stock_out' | 'below_reorder' | 'low_cover'>,
  facts: StockFacts,
  leadTimeDays: number,
  minDailyUnits: number,
): StockVerdict | undefined {
  if (facts.avgDailyUnits <= 0 || facts.avgDailyUnits < minDailyUnits) return undefined;
  const status = stockStatus(facts.quantity, facts.reorderLevel);
  const cover = daysOfCover(facts.quantity, facts.avgDailyUnits);
  const dailyRevenue = facts.avgDailyUnits * facts.unitRevenue;
  const atRisk = (days: number) => Math.round(Math.max(0, days) * dailyRevenue * 100) / 100;
  switch (metric) {
    case 'stock_out':
      return status === 'out'
        ? { kind: 'out_of_stock', daysOfCover: cover, moneyAtStake: atRisk(leadTimeDays) }
        : undefined;
    case 'below_reorder':
      return status === 'low'
        ? { kind: 'below_reorder', daysOfCover: cover, moneyAtStake: atRisk(leadTimeDays - (cover ?? 0)) }
        : undefined;
    case 'low_cover':
      // Out of stock has its own rule; low cover is the warning before it.
      return status !== 'out' && cover !== null && cover < leadTimeDays
        ? { kind: 'low_cover', daysOfCover: cover, moneyAtStake: atRisk(leadTimeDays - cover) }
        : undefined;
  }
}
