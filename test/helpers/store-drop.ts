/**
 * The alert tests' sample upstream: with seed 5, store 3 (Marseille Centre) sells at 30 % from
 * 2026-05-17 to 2026-05-23 (`dataset.anomalies.storeDrop`), in 110 days of 5 stores × 40 products
 * up to 2026-06-30.
 */
import { createSampleUpstream, type RunningSampleUpstream } from '../../sample-upstream/server.ts';

export function storeDropUpstream(): Promise<RunningSampleUpstream> {
  return createSampleUpstream({
    port: 0,
    seed: 5,
    stores: 5,
    products: 40,
    days: 110,
    linesPerDay: 800,
    endDate: '2026-06-30',
    logger: false,
  });
}
