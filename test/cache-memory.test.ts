/** What only the memory adapter does: bound its size, and hand out the stored object itself. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createMemoryCache } from '../src/clients/cache/memory-cache.ts';

it('evicts the least recently used entry beyond maxEntries', async () => {
  const cache = createMemoryCache({ maxEntries: 3 });
  for (const k of ['a', 'b', 'c']) await cache.set(k, k, { ttlMs: 60_000 });
  await cache.get('a');
  await cache.set('d', 'd', { ttlMs: 60_000 });
  assert.equal(await cache.get('b'), undefined);
  for (const k of ['a', 'c', 'd']) assert.equal((await cache.get(k))?.value, k);
  await cache.close();
});

it('evicts by approximate size beyond maxBytes', async () => {
  const cache = createMemoryCache({ maxBytes: 1_000 });
  for (const k of ['a', 'b', 'c']) await cache.set(k, Buffer.alloc(400), { ttlMs: 60_000 });
  assert.equal(await cache.get('a'), undefined);
  assert.ok(await cache.get('b'));
  assert.ok(await cache.get('c'));
  await cache.set('json', { text: 'x'.repeat(2_000) }, { ttlMs: 60_000 });
  assert.equal(await cache.get('json'), undefined, 'an entry larger than the whole cache is not kept');
  await cache.close();
});

it('stores values as they are, without serialising them', async () => {
  const cache = createMemoryCache();
  const value = { when: new Date(0), rows: [1, 2] };
  const loaded = await cache.getOrLoad('k', async () => value, { ttlMs: 60_000 });
  assert.equal(loaded.value, value);
  assert.equal((await cache.getOrLoad('k', async () => ({}), { ttlMs: 60_000 })).value, value);
  await cache.close();
});
