/**
 * The Cache contract, run against both adapters: whatever passes here may replace the other.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Cache, CacheLogger } from '../src/clients/cache/cache-types.ts';
import { createMemoryCache } from '../src/clients/cache/memory-cache.ts';
import { createRedisCache } from '../src/clients/cache/redis-cache.ts';
import { recordingLogger, startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';

interface Clock {
  now(): number;
  advance(ms: number): void;
}

function fakeClock(): Clock {
  let t = Date.now();
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

interface Harness {
  name: string;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  create(clock: Clock, logger: CacheLogger): Cache;
  /** Asserts that everything the cache has written will expire by itself. */
  assertEverythingExpires(cache: Cache, clock: Clock, keys: string[]): Promise<void>;
}

function contractSuite(h: Harness): void {
  describe(`Cache contract: ${h.name}`, () => {
    let clock: Clock;
    let logger: ReturnType<typeof recordingLogger>;
    let cache: Cache;

    if (h.setup) before(() => h.setup?.());
    if (h.teardown) after(() => h.teardown?.());
    beforeEach(() => {
      clock = fakeClock();
      logger = recordingLogger();
      cache = h.create(clock, logger);
    });
    afterEach(() => cache.close());

    it('sets, gets and deletes', async () => {
      assert.equal(await cache.get('absent'), undefined);
      const t = clock.now();
      await cache.set('k', { a: 1 }, { ttlMs: 1000, staleTtlMs: 500 });
      assert.deepEqual(await cache.get('k'), {
        value: { a: 1 },
        storedAt: t,
        freshUntil: t + 1000,
        expiresAt: t + 1500,
      });
      await cache.set('k', { a: 2 }, { ttlMs: 1000 });
      assert.deepEqual((await cache.get('k'))?.value, { a: 2 });
      await cache.delete('k');
      assert.equal(await cache.get('k'), undefined);
      await cache.delete('never-set');
      assert.equal(cache.kind, h.name);
    });

    it('serves hits while fresh and reloads once stale; drops the entry after ttl + staleTtl', async () => {
      let loads = 0;
      const load = async () => ++loads;
      const options = { ttlMs: 1000, staleTtlMs: 2000 };
      assert.deepEqual(await cache.getOrLoad('f', load, options), { value: 1, status: 'miss', ageMs: 0 });
      clock.advance(400);
      assert.deepEqual(await cache.getOrLoad('f', load, options), { value: 1, status: 'hit', ageMs: 400 });
      clock.advance(600);
      // At freshUntil the entry is stale: still held, but a request loads anew.
      const held = await cache.get<number>('f');
      assert.equal(held?.value, 1);
      assert.ok(held && held.freshUntil <= clock.now());
      assert.deepEqual(await cache.getOrLoad('f', load, options), { value: 2, status: 'miss', ageMs: 0 });
      assert.equal(loads, 2);

      await cache.set('g', 'x', { ttlMs: 1000 });
      clock.advance(999);
      assert.equal((await cache.get('g'))?.value, 'x');
      clock.advance(1);
      assert.equal(await cache.get('g'), undefined);

      await cache.set('h', 'y', { ttlMs: 1000, staleTtlMs: 1000 });
      clock.advance(1999);
      assert.equal((await cache.get('h'))?.value, 'y');
      clock.advance(1);
      assert.equal(await cache.get('h'), undefined);
    });

    it('round-trips JSON values', async () => {
      const values: unknown[] = [
        { nested: { list: [1, 2.5, -3e-7, { deep: [null, true, false] }], text: 'façade – 東京 🚀' } },
        [],
        [{ id: '1', amount: 12.34 }],
        'plain string',
        '',
        0,
        -1.5,
        Number.MAX_SAFE_INTEGER,
        true,
        false,
        null,
      ];
      for (const [i, value] of values.entries()) {
        await cache.set(`json:${i}`, value, { ttlMs: 10_000 });
        assert.deepEqual((await cache.get(`json:${i}`))?.value, value, `value ${i}`);
        const loaded = await cache.getOrLoad(`json-load:${i}`, async () => value, { ttlMs: 10_000 });
        assert.deepEqual(loaded.value, value);
        const again = await cache.getOrLoad(`json-load:${i}`, async () => 'reloaded', { ttlMs: 10_000 });
        assert.deepEqual(again, { value, status: 'hit', ageMs: 0 });
      }
    });

    it('round-trips binary values byte for byte', async () => {
      const all = Buffer.alloc(1024);
      for (let i = 0; i < all.length; i++) all[i] = i % 256;
      const backing = new Uint8Array([9, 9, 0, 255, 1, 128, 9]);
      const cases: [string, Uint8Array, Buffer][] = [
        ['buffer', all, all],
        ['view with offset', backing.subarray(2, 6), Buffer.from([0, 255, 1, 128])],
        ['empty', Buffer.alloc(0), Buffer.alloc(0)],
        ['json-looking bytes', Buffer.from('{"a":1}'), Buffer.from('{"a":1}')],
      ];
      for (const [name, value, expected] of cases) {
        await cache.set(`bin:${name}`, value, { ttlMs: 10_000 });
        const got = (await cache.get<Uint8Array>(`bin:${name}`))?.value;
        assert.ok(got instanceof Uint8Array, `${name}: a Uint8Array comes back`);
        assert.ok(Buffer.from(got).equals(expected), `${name}: same bytes`);

        await cache.getOrLoad(`bin-load:${name}`, async () => value, { ttlMs: 10_000 });
        const hit = await cache.getOrLoad<Uint8Array>(`bin-load:${name}`, async () => Buffer.from('x'), {
          ttlMs: 10_000,
        });
        assert.equal(hit.status, 'hit');
        assert.ok(Buffer.from(hit.value).equals(expected), `${name}: same bytes through getOrLoad`);
      }
    });

    it('deletes by prefix across SCAN pages, treating glob characters literally', async () => {
      const prefix = 'del:*?[x]:';
      const keys = Array.from({ length: 1500 }, (_, i) => `${prefix}${i}`);
      // Each of these would match had the prefix been used as a glob pattern.
      const decoys = ['del:zzzqx:1', 'del:ab?x:2', 'del:*?x:', 'del:*?[x]', 'other:*?[x]:1'];
      for (let i = 0; i < keys.length; i += 250) {
        await Promise.all(keys.slice(i, i + 250).map((k) => cache.set(k, 1, { ttlMs: 60_000 })));
      }
      for (const k of decoys) await cache.set(k, 'keep', { ttlMs: 60_000 });

      assert.equal(await cache.deleteByPrefix(prefix), keys.length);
      for (const k of [keys[0], keys[777], keys[1499]]) assert.equal(await cache.get(k as string), undefined);
      for (const k of decoys) assert.equal((await cache.get(k))?.value, 'keep', k);
      assert.equal(await cache.deleteByPrefix(prefix), 0);
      assert.equal(await cache.deleteByPrefix('nothing-here:'), 0);
    });

    it('gives every key it writes an expiry', async () => {
      const keys = ['ttl:a', 'ttl:b', 'ttl:c', 'ttl:d'];
      await cache.set('ttl:a', 'a', { ttlMs: 1000 });
      await cache.set('ttl:b', Buffer.from('b'), { ttlMs: 1000, staleTtlMs: 60_000 });
      await cache.getOrLoad('ttl:c', async () => 'c', { ttlMs: 5000 });
      await Promise.all(
        Array.from({ length: 10 }, () => cache.getOrLoad('ttl:d', async () => 'd', { ttlMs: 5000 })),
      );
      await h.assertEverythingExpires(cache, clock, keys);
    });

    it('single-flight: 200 concurrent getOrLoad of a cold key make one load', async () => {
      let loads = 0;
      const load = async () => {
        loads++;
        await sleep(50);
        return { report: 'daily', rows: [1, 2, 3] };
      };
      const results = await Promise.all(
        Array.from({ length: 200 }, () => cache.getOrLoad('cold', load, { ttlMs: 60_000 })),
      );
      assert.equal(loads, 1);
      for (const r of results) {
        assert.deepEqual(r.value, { report: 'daily', rows: [1, 2, 3] });
        assert.equal(r.status, 'miss');
      }
      assert.equal((await cache.getOrLoad('cold', load, { ttlMs: 60_000 })).status, 'hit');
      assert.equal(loads, 1);
    });

    it('a load error reaches every waiter and is not cached', async () => {
      let loads = 0;
      const failure = new Error('upstream answered 503');
      const failing = async () => {
        loads++;
        await sleep(20);
        throw failure;
      };
      const outcomes = await Promise.allSettled(
        Array.from({ length: 200 }, () => cache.getOrLoad('flaky', failing, { ttlMs: 60_000 })),
      );
      assert.equal(loads, 1);
      for (const o of outcomes) {
        assert.equal(o.status, 'rejected');
        assert.equal(o.status === 'rejected' && o.reason, failure);
      }
      assert.equal(await cache.get('flaky'), undefined);
      const ok = await cache.getOrLoad('flaky', async () => ++loads, { ttlMs: 60_000 });
      assert.deepEqual(ok, { value: 2, status: 'miss', ageMs: 0 });
    });

    it('stale-if-error: serves the stale value with its reason when loading fails', async () => {
      const options = { ttlMs: 1000, staleTtlMs: 5000 };
      await cache.getOrLoad('s', async () => ({ total: 10 }), options);
      clock.advance(3000);
      let loads = 0;
      const failing = async () => {
        loads++;
        await sleep(10);
        throw new Error('connect ECONNREFUSED upstream');
      };
      const results = await Promise.all(
        Array.from({ length: 20 }, () => cache.getOrLoad('s', failing, options)),
      );
      assert.equal(loads, 1);
      for (const r of results) {
        assert.deepEqual(r, {
          value: { total: 10 },
          status: 'stale',
          ageMs: 3000,
          staleReason: 'connect ECONNREFUSED upstream',
        });
      }
      const logged = logger.records.filter((r) => r.level === 'warn' || r.level === 'error');
      assert.equal(logged.length, 1);
      const loggedErr = (logged[0]?.obj as { err?: Error } | undefined)?.err;
      assert.equal(loggedErr?.message, 'connect ECONNREFUSED upstream');

      // The stale value is not refreshed by serving it: a later success replaces it.
      const fresh = await cache.getOrLoad('s', async () => ({ total: 11 }), options);
      assert.deepEqual(fresh, { value: { total: 11 }, status: 'miss', ageMs: 0 });
    });

    it('no stale value once staleTtl has passed: the load error propagates unchanged', async () => {
      const options = { ttlMs: 1000, staleTtlMs: 1000 };
      await cache.getOrLoad('gone', async () => 'old', options);
      clock.advance(2000);
      const failure = new Error('upstream timed out');
      await assert.rejects(
        cache.getOrLoad('gone', async () => Promise.reject(failure), options),
        (err) => err === failure,
      );
      // Without staleTtl, nothing is held past freshness either.
      await cache.getOrLoad('no-stale', async () => 'old', { ttlMs: 1000 });
      clock.advance(1000);
      await assert.rejects(
        cache.getOrLoad('no-stale', async () => Promise.reject(failure), { ttlMs: 1000 }),
        (err) => err === failure,
      );
    });

    it('does not cache undefined and rejects invalid ttls', async () => {
      let loads = 0;
      const load = async () => {
        loads++;
        return undefined;
      };
      assert.equal((await cache.getOrLoad('u', load, { ttlMs: 1000 })).status, 'miss');
      assert.equal((await cache.getOrLoad('u', load, { ttlMs: 1000 })).status, 'miss');
      assert.equal(loads, 2);
      await assert.rejects(cache.getOrLoad('bad', load, { ttlMs: -1 }), RangeError);
      await assert.rejects(cache.getOrLoad('bad', load, { ttlMs: 1, staleTtlMs: Number.NaN }), RangeError);
      assert.equal(loads, 2);
    });

    it('ping succeeds while the store is reachable', async () => {
      await cache.ping();
    });
  });
}

contractSuite({
  name: 'memory',
  create: (clock, logger) => createMemoryCache({ maxEntries: 5000, logger, now: clock.now }),
  async assertEverythingExpires(cache, clock, keys) {
    for (const k of keys) assert.ok(await cache.get(k), `${k} is held`);
    clock.advance(61_000);
    for (const k of keys) assert.equal(await cache.get(k), undefined, `${k} expired`);
  },
});

let server: TestRedis | undefined;
let admin: Redis | undefined;
let prefix = '';
contractSuite({
  name: 'redis',
  async setup() {
    server = await startRedis();
    admin = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
  },
  async teardown() {
    await admin?.quit();
    await server?.stop();
  },
  create(clock, logger) {
    prefix = uniquePrefix('contract');
    return createRedisCache({
      redis: { url: server!.url },
      keyPrefix: prefix,
      logger,
      now: clock.now,
    });
  },
  async assertEverythingExpires() {
    const found: string[] = [];
    const escaped = prefix.replace(/[*?[\]\\]/g, '\\$&');
    let cursor = '0';
    do {
      const [next, keys] = await admin!.scan(cursor, 'MATCH', `${escaped}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    assert.ok(found.length >= 4, `found ${found.length} keys`);
    for (const key of found) {
      const pttl = await admin!.pttl(key);
      assert.ok(pttl > 0, `${key} has PTTL ${pttl}`);
    }
  },
});
