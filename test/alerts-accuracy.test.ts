/**
 * The default rules against the sample upstream's injected anomalies over 730 days (a real sample
 * upstream over HTTP, the real container): the floors, recall ≥ 0.9 and at most one false
 * alert per store per month, on a smaller shape than bench:alerts (which also runs more seeds).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureAccuracy } from '../bench/lib/alert-accuracy.ts';

test('default rules find the store drop and the product spike, without crying wolf', async () => {
  const [r] = await measureAccuracy({ seed: 7, stores: 8, products: 300, days: 730 });
  const result = r!;
  const summary = JSON.stringify({
    recall: result.recall,
    alerts: result.alerts,
    falsePerStoreMonth: result.falsePerStoreMonth,
    missed: result.missed,
  });
  assert.equal(result.events, 2, 'one store drop and one product spike are injected');
  assert.ok(result.recall >= 0.9, summary);
  assert.ok(result.falsePerStoreMonth <= 1, summary);
  // The drop is named on its store, and the spike on its product, explanation included.
  const drop = result.injected.find((e) => e.kind === 'store_drop')!;
  const onStore = result.alertsList.find((a) => a.entity.level === 'store' && a.entity.id === drop.storeId);
  assert.ok(onStore, summary);
  assert.equal(onStore.direction, 'drop');
  assert.ok(onStore.firedOn >= drop.from && onStore.firedOn <= drop.to);
  assert.ok(onStore.candidate.explanation.contributors.length > 0);
  const spike = result.injected.find((e) => e.kind === 'product_spike')!;
  assert.ok(
    result.alertsList.some((a) => a.entity.productId === spike.productId && a.direction === 'spike'),
    summary,
  );
  // Promotions are expected business: none of the alerts is a promotion spike on its product.
  assert.ok(result.alertsList.every((a) => a.candidate.promotion !== true));
});
