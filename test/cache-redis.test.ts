/**
 * What only the Redis adapter does: share loads across processes, and keep answering (uncached)
 * when Redis is stopped or hangs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { CacheUnavailableError } from '../src/clients/cache/cache-types.ts';
import { createRedisCache, type RedisCacheOptions } from '../src/clients/cache/redis-cache.ts';
import { recordingLogger, startRedis, type TestRedis, uniquePrefix } from './helpers/redis.ts';
import { timed, waitUntil } from './helpers/wait.ts';

let server: TestRedis;
let admin: Redis;

before(async () => {
  server = await startRedis();
  admin = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // tests stop this server: the reconnect errors are expected, not unhandled events
  admin.on('error', () => {});
  await admin.connect();
});

after(async () => {
  admin.disconnect();
  await server.stop();
});

function cacheFor(keyPrefix: string, extra: Partial<RedisCacheOptions> = {}) {
  const logger = recordingLogger();
  const cache = createRedisCache({ redis: { url: server.url }, keyPrefix, logger, ...extra });
  return { cache, logger };
}

describe('cross-process single-flight', () => {
  it('two cache instances on separate connections make one load for 100 + 100 concurrent calls', async () => {
    const prefix = uniquePrefix('xproc');
    const a = cacheFor(prefix);
    const b = cacheFor(prefix);
    try {
      await Promise.all([a.cache.ping(), b.cache.ping()]);
      let loads = 0;
      let lockPttl = 0;
      const load = async () => {
        loads++;
        lockPttl = await admin.pttl(`${prefix}l:cold`);
        await sleep(100);
        return { rows: 3 };
      };
      const calls = [a.cache, b.cache].flatMap((c) =>
        Array.from({ length: 100 }, () => c.getOrLoad('cold', load, { ttlMs: 60_000 })),
      );
      const results = await Promise.all(calls);
      assert.equal(loads, 1);
      for (const r of results) assert.deepEqual(r.value, { rows: 3 });
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(new Set(statuses), new Set(['hit', 'miss']));
      assert.ok(lockPttl > 0 && lockPttl <= 10_000, `the lock is held while loading, PTTL ${lockPttl}`);
      assert.equal(await admin.exists(`${prefix}l:cold`), 0, 'the lock is released');
    } finally {
      await Promise.all([a.cache.close(), b.cache.close()]);
    }
  });

  it('a waiter loads itself when the lock holder fails, and all waiters see the error or a value', async () => {
    const prefix = uniquePrefix('xfail');
    const a = cacheFor(prefix);
    const b = cacheFor(prefix);
    try {
      await Promise.all([a.cache.ping(), b.cache.ping()]);
      const loads: string[] = [];
      const failing = async () => {
        loads.push('a');
        await sleep(50);
        throw new Error('upstream 503');
      };
      const succeeding = async () => {
        loads.push('b');
        return 'fine';
      };
      const first = a.cache.getOrLoad('k', failing, { ttlMs: 60_000 });
      await sleep(10);
      const second = b.cache.getOrLoad('k', succeeding, { ttlMs: 60_000 });
      await assert.rejects(first, /upstream 503/);
      // b waited while a held the lock, then took it over once a gave up.
      assert.deepEqual((await second).value, 'fine');
      assert.deepEqual(loads, ['a', 'b']);
    } finally {
      await Promise.all([a.cache.close(), b.cache.close()]);
    }
  });

  it('a waiter loads itself once the lock TTL has passed (holder hung or died)', async () => {
    const prefix = uniquePrefix('xttl');
    const { cache } = cacheFor(prefix, { lockTtlMs: 300 });
    try {
      // A lock nobody will release, as left by a crashed process.
      await admin.set(`${prefix}l:k`, 'someone-else', 'PX', 300);
      const { value, ms } = await timed(cache.getOrLoad('k', async () => 'loaded', { ttlMs: 60_000 }));
      assert.equal(value.value, 'loaded');
      assert.ok(ms >= 250 && ms < 1_000, `waited ${ms} ms`);
    } finally {
      await cache.close();
    }
  });

  it('a separate node process shares the load with this one', async () => {
    const prefix = uniquePrefix('child');
    const counterKey = `${prefix}loads`;
    await admin.set(counterKey, 0, 'PX', 60_000);
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD_SCRIPT], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env,
        CACHE_MODULE: new URL('../src/clients/cache/redis-cache.ts', import.meta.url).href,
        CACHE_REDIS_URL: server.url,
        CACHE_PREFIX: prefix,
        CACHE_COUNTER: counterKey,
      },
    });
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => {
      out += s;
    });
    const exit = once(child, 'exit');
    try {
      await waitUntil(
        'the child is ready',
        async () => out.includes('ready\n') || child.exitCode !== null,
        15_000,
      );
      assert.ok(out.includes('ready\n'), `child said: ${out}`);
      const { cache } = cacheFor(prefix);
      try {
        await cache.ping();
        const load = async () => {
          await admin.incr(counterKey);
          await sleep(200);
          return { from: 'parent' };
        };
        child.stdin?.end('go\n');
        const results = await Promise.all(
          Array.from({ length: 100 }, () => cache.getOrLoad('shared', load, { ttlMs: 60_000 })),
        );
        const [code] = await exit;
        assert.equal(code, 0, `child output: ${out}`);
        const childSummary = JSON.parse(out.slice(out.indexOf('{'))) as { count: number; values: string[] };
        assert.equal(childSummary.count, 100);
        assert.equal(await admin.get(counterKey), '1', 'one load across both processes');
        const values = new Set([
          ...results.map((r) => (r.value as { from: string }).from),
          ...childSummary.values,
        ]);
        assert.equal(values.size, 1);
      } finally {
        await cache.close();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

/** The other process: same cache module, same key, its own connection and its own loader. */
const CHILD_SCRIPT = `
const { createRedisCache } = await import(process.env.CACHE_MODULE);
const { Redis } = await import('ioredis');
const counter = new Redis(process.env.CACHE_REDIS_URL);
const logger = { error() {}, warn() {} };
const cache = createRedisCache({ redis: { url: process.env.CACHE_REDIS_URL }, keyPrefix: process.env.CACHE_PREFIX, logger });
await cache.ping();
process.stdout.write('ready\\n');
process.stdin.setEncoding('utf8');
let input = '';
for await (const chunk of process.stdin) { input += chunk; if (input.includes('go')) break; }
const load = async () => {
  await counter.incr(process.env.CACHE_COUNTER);
  await new Promise((r) => setTimeout(r, 200));
  return { from: 'child' };
};
const results = await Promise.all(Array.from({ length: 100 }, () => cache.getOrLoad('shared', load, { ttlMs: 60000 })));
process.stdout.write(JSON.stringify({ count: results.length, values: [...new Set(results.map((r) => r.value.from))] }) + '\\n');
await cache.close();
await counter.quit();
`;

describe('Redis outages', () => {
  const outageWarnings = (records: ReturnType<typeof recordingLogger>['records']) =>
    records.filter((r) => r.level === 'warn' && r.msg.startsWith('redis unavailable')).length;

  it('redis stopped: loads directly within the command timeout, ping says why, recovers after restart', async (t) => {
    if (!server.private) return t.skip('needs a private redis-server');
    const prefix = uniquePrefix('down');
    const { cache, logger } = cacheFor(prefix, { commandTimeoutMs: 500, breakerOpenMs: 1_000 });
    try {
      await cache.ping();
      assert.equal((await cache.getOrLoad('warm', async () => 1, { ttlMs: 60_000 })).status, 'miss');
      await server.kill?.();

      for (let i = 0; i < 5; i++) {
        const { value, ms } = await timed(cache.getOrLoad(`k${i}`, async () => `v${i}`, { ttlMs: 60_000 }));
        assert.deepEqual(value, { value: `v${i}`, status: 'miss', ageMs: 0 });
        assert.ok(ms < 700, `answered in ${ms} ms`);
      }
      const pinged = await timed(
        cache.ping().then(
          () => undefined,
          (err: unknown) => err,
        ),
      );
      assert.ok(pinged.value instanceof CacheUnavailableError);
      assert.match(pinged.value.message, /^redis unavailable: \S/);
      assert.ok(pinged.ms < 700, `ping answered in ${pinged.ms} ms`);
      await assert.rejects(cache.deleteByPrefix(''), CacheUnavailableError);
      assert.equal(outageWarnings(logger.records), 1, 'one warning for the outage');

      await server.restart?.();
      await waitUntil('the cache reconnects', () =>
        cache.ping().then(
          () => true,
          () => false,
        ),
      );
      await waitUntil('the breaker lets requests through', async () => {
        await cache.set('back', 'yes', { ttlMs: 60_000 });
        return (await cache.get('back'))?.value === 'yes';
      });
      let loads = 0;
      const load = async () => ++loads;
      assert.equal((await cache.getOrLoad('after', load, { ttlMs: 60_000 })).status, 'miss');
      assert.equal((await cache.getOrLoad('after', load, { ttlMs: 60_000 })).status, 'hit');
      assert.equal(loads, 1);
      assert.ok(logger.records.some((r) => r.level === 'info' && r.msg === 'redis available again'));
    } finally {
      await cache.close();
    }
  });

  it('redis hung (SIGSTOP): answers within about the command timeout, then skips redis; recovers on SIGCONT', async (t) => {
    if (!server.private) return t.skip('needs a private redis-server');
    const prefix = uniquePrefix('hung');
    const { cache, logger } = cacheFor(prefix, { commandTimeoutMs: 500, breakerOpenMs: 1_000 });
    let paused = false;
    try {
      await cache.ping();
      await cache.set('held', 'old', { ttlMs: 60_000 });
      server.pause?.();
      paused = true;

      const first = await timed(cache.getOrLoad('a', async () => 'A', { ttlMs: 60_000 }));
      assert.deepEqual(first.value, { value: 'A', status: 'miss', ageMs: 0 });
      assert.ok(first.ms >= 400 && first.ms < 1_000, `first call waited ${first.ms} ms`);

      // The breaker is open now: nobody pays the timeout again until it probes.
      const next = await timed(
        Promise.all(
          Array.from({ length: 20 }, (_, i) => cache.getOrLoad(`b${i}`, async () => i, { ttlMs: 60_000 })),
        ),
      );
      assert.ok(next.ms < 100, `20 more calls took ${next.ms} ms`);
      assert.equal(await cache.get('held'), undefined, 'reads are skipped, not waited for');

      const pinged = await timed(
        cache.ping().then(
          () => undefined,
          (err: unknown) => err,
        ),
      );
      assert.ok(pinged.value instanceof CacheUnavailableError);
      assert.match(pinged.value.message, /^redis unavailable: no reply within 500 ms$/);
      assert.ok(pinged.ms < 1_000, `ping answered in ${pinged.ms} ms`);
      assert.equal(outageWarnings(logger.records), 1, 'one warning for the outage');

      server.resume?.();
      paused = false;
      await waitUntil('redis answers again', () =>
        cache.ping().then(
          () => true,
          () => false,
        ),
      );
      assert.equal((await cache.get('held'))?.value, 'old');
      assert.equal((await cache.getOrLoad('c', async () => 'C', { ttlMs: 60_000 })).status, 'miss');
      assert.equal((await cache.getOrLoad('c', async () => 'C2', { ttlMs: 60_000 })).status, 'hit');
    } finally {
      if (paused) server.resume?.();
      await cache.close();
    }
  });

  it('a cache given an ioredis instance leaves it open; one that connected itself closes it', async () => {
    const shared = new Redis(server.url, { enableOfflineQueue: false, lazyConnect: true });
    await shared.connect();
    try {
      const given = createRedisCache({
        redis: shared,
        keyPrefix: uniquePrefix('given'),
        logger: recordingLogger(),
      });
      await given.set('k', 1, { ttlMs: 1000 });
      await given.close();
      assert.equal(await shared.ping(), 'PONG');
      assert.equal(shared.listenerCount('error'), 0, 'its listeners are removed');
      const queueing = new Redis(server.url, { lazyConnect: true });
      const logger = recordingLogger();
      await createRedisCache({ redis: queueing, keyPrefix: 'q:', logger }).close();
      assert.match(logger.records[0]?.msg ?? '', /enableOfflineQueue/);
    } finally {
      shared.disconnect();
    }
    assert.throws(
      () =>
        createRedisCache({
          redis: new Redis({ lazyConnect: true, keyPrefix: 'x:' }),
          keyPrefix: 'y:',
          logger: recordingLogger(),
        }),
      /keyPrefix/,
    );
  });
});
