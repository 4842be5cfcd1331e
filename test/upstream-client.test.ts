import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseRetryAfter,
  type UpstreamBulkOptions,
  type UpstreamClient,
} from '../src/clients/upstream-client.ts';
import { UpstreamInvalidResponseError, UpstreamUnavailableError } from '../src/errors.ts';
import { json, startServer } from './helpers/http-server.ts';
import { testClient } from './helpers/upstream-client.ts';

const store = (id: number | string) => ({ id, name: `S${id}`, city: 'Lyon', region: 'ARA', employees: 10 });

function line(i: number, overrides: Record<string, unknown> = {}) {
  return {
    id: i,
    orderId: `o${Math.floor(i / 2)}`,
    soldAt: '2026-03-01T10:00:00+01:00',
    storeId: 1,
    productId: 'P1',
    quantity: 1,
    unitPrice: 2.5,
    amount: 2.5,
    unitCost: 1,
    ...overrides,
  };
}

test('sends the bearer token, keeps the base path prefix and treats ids as strings', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 200, [store(7), store('A-1')]));
  const c = testClient(`${up.url}/api/v1/`, { token: 's3cret' });
  t.after(() => c.close());
  const stores = await c.getStores();
  assert.deepEqual(
    stores.map((s) => s.id),
    ['7', 'A-1'],
  );
  assert.equal(up.requests[0]?.url, '/api/v1/stores');
  assert.equal(up.requests[0]?.headers.authorization, 'Bearer s3cret');
});

test('retries transient failures with backoff and then succeeds', async (t) => {
  const up = await startServer(t, (_req, res, n) =>
    n <= 2 ? json(res, 503, { error: 'busy' }) : json(res, 200, [store(1)]),
  );
  const c = testClient(up.url);
  t.after(() => c.close());
  assert.equal((await c.getStores()).length, 1);
  assert.equal(up.requests.length, 3);
});

test('honours Retry-After (seconds) between attempts', async (t) => {
  const up = await startServer(t, (_req, res, n) =>
    n === 1 ? json(res, 429, { error: 'slow down' }, { 'retry-after': '1' }) : json(res, 200, [store(1)]),
  );
  const c = testClient(up.url);
  t.after(() => c.close());
  const started = Date.now();
  await c.getStores();
  const waited = Date.now() - started;
  assert.ok(waited >= 950, `waited ${waited} ms, expected about 1000`);
  assert.ok(waited < 1_900, `waited ${waited} ms`);
});

test('parses Retry-After as seconds or an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

test('gives up after the retry budget with a 502 that says what failed', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 500, { error: 'boom' }));
  const c = testClient(up.url, { retries: 2 });
  t.after(() => c.close());
  const err = await c.getStores().then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof UpstreamUnavailableError);
  assert.equal(err.status, 502);
  assert.match(err.message, /GET \/stores failed after 3 attempts: answered HTTP 500/);
  assert.equal(up.requests.length, 3);
});

test('does not retry a client error such as 404', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 404, { error: 'nope' }));
  const c = testClient(up.url);
  t.after(() => c.close());
  await assert.rejects(c.getStores(), /answered HTTP 404/);
  assert.equal(up.requests.length, 1);
});

test('says when the upstream refuses our credentials', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 401, { error: 'unauthorized' }));
  const c = testClient(up.url);
  t.after(() => c.close());
  await assert.rejects(c.getStores(), /refused our credentials \(check UPSTREAM_TOKEN\)/);
  assert.equal(up.requests.length, 1);
});

test('a hanging upstream times out (504) instead of hanging the caller', async (t) => {
  const up = await startServer(t, () => {
    /* never answers */
  });
  const c = testClient(up.url, { headersTimeoutMs: 200, retries: 1 });
  t.after(() => c.close());
  const started = Date.now();
  const err = await c.getStores().then(
    () => assert.fail('should time out'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof UpstreamUnavailableError);
  assert.equal(err.status, 504);
  assert.equal(err.code, 'upstream-timeout');
  assert.ok(Date.now() - started < 2_000);
  assert.equal(up.requests.length, 2, 'the idempotent GET is retried once');
});

test('an unreachable upstream fails fast with a 502', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 200, []));
  const deadUrl = up.url.replace(/:\d+$/, ':9');
  const c = testClient(deadUrl, { retries: 1 });
  t.after(() => c.close());
  await assert.rejects(
    c.getStores(),
    (e: unknown) => e instanceof UpstreamUnavailableError && e.status === 502,
  );
});

test('a malformed answer is a 502 naming the bad field, not a NaN', async (t) => {
  const up = await startServer(t, (_req, res) =>
    json(res, 200, {
      content: [line(1), line(2, { amount: '12.5x' })],
      number: 0,
      size: 2,
      totalElements: 2,
      totalPages: 1,
      last: true,
    }),
  );
  const c = testClient(up.url);
  t.after(() => c.close());
  const err = await c.getSales('2026-03-01', '2026-03-01').then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof UpstreamInvalidResponseError);
  assert.equal(err.status, 502);
  assert.match(err.message, /content\[1\]\.amount/);
  assert.deepEqual(err.issues[0]?.path, 'content[1].amount');
  assert.equal(up.requests.length, 1, 'a contract violation is not retried');
});

test('a body that is not JSON is a 502 too', async (t) => {
  const up = await startServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>login</html>');
  });
  const c = testClient(up.url);
  t.after(() => c.close());
  await assert.rejects(c.getStores(), /not JSON/);
});

test('fetches every page of a window in order with bounded concurrency', async (t) => {
  const total = 11; // pages of 2 → 6 pages
  let inFlight = 0;
  let maxInFlight = 0;
  const up = await startServer(t, async (req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const u = new URL(req.url, 'http://x');
    const page = Number(u.searchParams.get('page'));
    const size = Number(u.searchParams.get('size'));
    await new Promise((r) => setTimeout(r, 20 + ((page * 7) % 3) * 15));
    const ids = Array.from({ length: total }, (_, i) => i).slice(page * size, page * size + size);
    inFlight--;
    json(res, 200, {
      content: ids.map((i) => line(i)),
      number: page,
      size,
      totalElements: total,
      totalPages: Math.ceil(total / size),
      last: page === Math.ceil(total / size) - 1,
    });
  });
  const c = testClient(up.url, { pageSize: 2, pageConcurrency: 2 });
  t.after(() => c.close());
  const lines = await c.getSales('2026-03-01', '2026-03-07');
  assert.deepEqual(
    lines.map((l) => l.id),
    Array.from({ length: total }, (_, i) => String(i)),
  );
  assert.equal(up.requests.length, 6);
  assert.ok(maxInFlight <= 2, `max in flight ${maxInFlight}`);
  const u = new URL(up.requests[0]?.url ?? '', 'http://x');
  assert.equal(u.searchParams.get('from'), '2026-03-01');
  assert.equal(u.searchParams.get('to'), '2026-03-07');
});

const bulkWrites: Record<string, (c: UpstreamClient, options?: UpstreamBulkOptions) => Promise<unknown>> = {
  '/products/bulk': (c, options) =>
    c.bulkUpsertProducts([{ sku: 'A', name: 'A', category: 'c', brand: 'b', price: 1 }], options),
  '/stock/bulk': (c, options) =>
    c.bulkUpsertStock([{ storeId: 1, productId: 'P1', quantity: -2, reorderLevel: 3 }], options),
  '/sales/bulk': (c, options) => c.bulkInsertSales([line(1)], options),
};

for (const [path, write] of Object.entries(bulkWrites)) {
  test(`POST ${path} is not retried without an idempotency key, and is with one`, async (t) => {
    const answer = { created: 1, updated: 0, failed: [{ index: 1, message: 'bad row' }] };
    const up = await startServer(t, (_req, res, n) =>
      n <= 2 ? json(res, 503, { error: 'busy' }) : json(res, 200, answer),
    );
    const c = testClient(up.url);
    t.after(() => c.close());
    await assert.rejects(write(c), /answered HTTP 503/);
    assert.equal(up.requests.length, 1);
    assert.equal(up.requests[0]?.headers['idempotency-key'], undefined);
    // An empty key is no key: retrying without the header could apply the chunk twice.
    await assert.rejects(write(c, { idempotencyKey: '' }), /answered HTTP 503/);
    assert.equal(up.requests.length, 2);
    assert.equal(up.requests[1]?.headers['idempotency-key'], undefined);

    assert.deepEqual(await write(c, { idempotencyKey: 'chunk-1' }), answer);
    assert.equal(up.requests.length, 3, 'the third request succeeds');
    for (const r of up.requests) assert.equal(`${r.method} ${r.url}`, `POST ${path}`);
    assert.equal(up.requests[2]?.headers['idempotency-key'], 'chunk-1');
    assert.equal(up.requests[2]?.headers['content-type'], 'application/json');
    assert.equal((JSON.parse(up.requests[2]?.body ?? '') as unknown[]).length, 1);
  });
}

test('a bulk answer that breaks the contract is a 502 naming the field', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 200, { created: 1, updated: -1, failed: [] }));
  const c = testClient(up.url);
  t.after(() => c.close());
  const err = await c.bulkUpsertStock([{ storeId: 1, productId: 'P1', quantity: 1, reorderLevel: 0 }]).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof UpstreamInvalidResponseError);
  assert.match(err.message, /POST \/stock\/bulk .*updated/);
});
