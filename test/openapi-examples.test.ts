/**
 * "Try it out" works: every operation of the OpenAPI document, sent with the document's own examples
 * to the running API over the sample upstream, answers 2xx (scripts/openapi-examples.ts says how the
 * ids of things made earlier are filled in, as a user of Swagger UI would).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendExamples } from '../scripts/openapi-examples.ts';
import { startExampleStack } from '../scripts/try-examples.ts';

test('every operation answers 2xx to its OpenAPI example', async (t) => {
  const stack = await startExampleStack();
  t.after(() => stack.close());
  const results = await sendExamples(stack.base, stack.apiKey);
  const doc = (await (await fetch(`${stack.base}/openapi.json`)).json()) as { paths: Record<string, object> };
  const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
  assert.equal(results.length, operations, 'every operation was tried');
  const failed = results.filter((r) => r.status < 200 || r.status > 299);
  assert.deepEqual(failed, [], 'operations whose example did not answer 2xx');
});
