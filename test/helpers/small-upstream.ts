/**
 * A small sample upstream for delivery tests (3 stores, 10 products, 40 days of 30 lines up to
 * 2026-06-14), closed when the test ends: enough for a report per store, quick to render.
 */
import type { TestContext } from 'node:test';
import { createSampleUpstream, type RunningSampleUpstream } from '../../sample-upstream/server.ts';

export async function smallUpstream(t: TestContext, seed: number): Promise<RunningSampleUpstream> {
  const upstream = await createSampleUpstream({
    port: 0,
    seed,
    stores: 3,
    products: 10,
    days: 40,
    linesPerDay: 30,
    endDate: '2026-06-14',
    logger: false,
  });
  t.after(() => upstream.close());
  return upstream;
}

/** The smallest sample upstream (2 stores, 5 products, 2 days): a system of record that answers. */
export async function tinyUpstream(t: TestContext): Promise<RunningSampleUpstream> {
  const upstream = await createSampleUpstream({
    port: 0,
    seed: 3,
    stores: 2,
    products: 5,
    days: 2,
    linesPerDay: 5,
    logger: false,
  });
  t.after(() => upstream.close());
  return upstream;
}
