import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { z } from 'zod';
import { buildApp } from '../src/app.ts';
import { loadConfig, sha256Hex } from '../src/config.ts';
import { auth, build, KEYS, testEnv } from './helpers/app.ts';
import { json, startServer } from './helpers/http-server.ts';

const stores = [
  { id: 1, name: 'Paris Rivoli', city: 'Paris', region: 'Île-de-France', employees: 20 },
  { id: 'L2', name: 'Lyon Part-Dieu', city: 'Lyon', region: 'Auvergne-Rhône-Alpes', employees: 12 },
];
const products = [
  {
    id: 'P1',
    sku: 'SKU-1',
    name: 'Espresso beans',
    category: 'Coffee',
    brand: 'Lavazza',
    price: 12.5,
    cost: 7,
  },
  { id: 2, sku: 'SKU-2', name: 'Green tea', category: 'Tea', brand: 'Kusmi', price: 8 },
];

async function upstream(t: Parameters<typeof startServer>[0]) {
  return startServer(t, (req, res) => {
    if (req.url.startsWith('/stores')) return json(res, 200, stores);
    if (req.url.startsWith('/products')) return json(res, 200, products);
    return json(res, 404, { error: 'not found' });
  });
}

function assertProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
) {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  assert.equal(body.status, status);
  assert.match(String(body.type), /^urn:salesflow:problem:/);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.requestId, 'string');
  assert.equal(body.requestId, res.headers['x-request-id']);
  return body;
}

test('liveness needs no key', async (t) => {
  const app = await build(t);
  const res = await app.inject('/health');
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().status, 'ok');
});

test('a viewer key gets real catalog data; ids become strings; cost null when unknown', async (t) => {
  const up = await upstream(t);
  const app = await build(t, { UPSTREAM_URL: up.url });
  const res = await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.deepEqual(
    body.items.map((s: { id: string }) => s.id),
    ['1', 'L2'],
  );
  assert.equal(body.total, 2);
  assert.equal(body.meta.cache, 'miss');
  assert.equal(res.headers['x-cache'], 'MISS');

  const again = await app.inject({
    url: '/api/v1/catalog/stores?region=auvergne-rhône-alpes',
    headers: auth('viewer'),
  });
  assert.equal(again.headers['x-cache'], 'HIT');
  assert.deepEqual(
    again.json().items.map((s: { id: string }) => s.id),
    ['L2'],
  );
  assert.equal(up.requests.filter((r) => r.url === '/stores').length, 1, 'second answer came from the cache');

  const prods = await app.inject({
    url: '/api/v1/catalog/products?q=tea',
    headers: { authorization: `Bearer ${KEYS.viewer}` },
  });
  assert.equal(prods.statusCode, 200);
  assert.deepEqual(prods.json().items, [
    { id: '2', sku: 'SKU-2', name: 'Green tea', category: 'Tea', brand: 'Kusmi', price: 8, cost: null },
  ]);
});

test('401 without a key or with a wrong one, as problem+json', async (t) => {
  const app = await build(t);
  const none = assertProblem(await app.inject('/api/v1/catalog/stores'), 401);
  assert.equal(none.type, 'urn:salesflow:problem:unauthorized');
  assert.equal(none.instance, '/api/v1/catalog/stores');
  assert.match(String(none.detail), /X-API-Key/);
  const wrong = assertProblem(
    await app.inject({ url: '/api/v1/catalog/stores', headers: { 'x-api-key': 'not-a-real-key' } }),
    401,
  );
  assert.match(String(wrong.detail), /not valid/);
});

test('403 when the role is too low; hashed keys work', async (t) => {
  const hashedAdmin = 'an-admin-key-given-hashed';
  const app = await buildApp(
    loadConfig(testEnv({ API_KEYS: `${KEYS.viewer}:viewer,sha256=${sha256Hex(hashedAdmin)}:admin` })),
    { logger: false },
  );
  t.after(() => app.close());
  app.get('/api/v1/test/admin-only', { config: { role: 'admin' } }, async () => ({ ok: true }));
  await app.ready();
  const body = assertProblem(
    await app.inject({ url: '/api/v1/test/admin-only', headers: auth('viewer') }),
    403,
  );
  assert.match(String(body.detail), /needs the admin role; the key has viewer/);
  const ok = await app.inject({ url: '/api/v1/test/admin-only', headers: { 'x-api-key': hashedAdmin } });
  assert.equal(ok.statusCode, 200);
});

test('an authorised request logs its key id; other requests do not inherit it', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = await build(t, {}, { loggerInstance: pino({ level: 'info' }, stream) });
  const admin = await app.inject({ url: '/api/v1/sync/status', headers: auth('admin') });
  assert.equal(admin.statusCode, 200, admin.body);
  const viewer = await app.inject({ url: '/api/v1/sync/status', headers: auth('viewer') });
  assert.equal(viewer.statusCode, 403);
  const anonymous = await app.inject({ url: '/health' });
  assert.equal(anonymous.statusCode, 200);
  const completed = (res: { headers: Record<string, unknown> }) =>
    lines.find((l) => l.reqId === res.headers['x-request-id'] && l.msg === 'request completed');
  assert.equal(completed(admin)?.keyId, sha256Hex(KEYS.admin).slice(0, 12));
  assert.equal(completed(viewer)?.keyId, undefined, 'refused before its key was bound');
  assert.ok(completed(anonymous), 'the health request was logged');
  assert.equal(completed(anonymous)?.keyId, undefined);
});

test('bad query parameters are a 400 problem naming each field', async (t) => {
  const app = await build(t);
  const res = await app.inject({
    url: '/api/v1/catalog/products?limit=0&offset=-3',
    headers: auth('viewer'),
  });
  const body = assertProblem(res, 400);
  assert.equal(body.type, 'urn:salesflow:problem:validation-failed');
  const paths = (body.errors as { path: string }[]).map((e) => e.path).sort();
  assert.deepEqual(paths, ['query.limit', 'query.offset']);
});

test('unknown routes are a 404 problem', async (t) => {
  const app = await build(t);
  const body = assertProblem(await app.inject('/api/v1/nope'), 404);
  assert.match(String(body.detail), /No route GET \/api\/v1\/nope/);
});

test('a malformed upstream answer is a 502 problem that names what was wrong', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 200, [{ ...stores[0], employees: 'twenty' }]));
  const app = await build(t, { UPSTREAM_URL: up.url });
  const body = assertProblem(
    await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') }),
    502,
  );
  assert.equal(body.type, 'urn:salesflow:problem:upstream-invalid-response');
  assert.match(String(body.detail), /GET \/stores .*\[0\]\.employees/);
  assert.deepEqual((body.upstreamErrors as { path: string }[])[0]?.path, '[0].employees');
});

test('an unavailable upstream is a 502 problem with the reason; nothing leaks', async (t) => {
  const up = await startServer(t, (_req, res) => json(res, 503, { error: 'maintenance' }));
  const app = await build(t, { UPSTREAM_URL: up.url, UPSTREAM_RETRIES: '1' });
  const body = assertProblem(
    await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') }),
    502,
  );
  assert.equal(body.type, 'urn:salesflow:problem:upstream-unavailable');
  assert.match(String(body.detail), /GET \/stores failed after 2 attempts: answered HTTP 503/);
});

test('stale-if-error: when the upstream fails after the TTL, the last value is served and flagged', async (t) => {
  let healthy = true;
  const up = await startServer(t, (_req, res) =>
    healthy ? json(res, 200, stores) : json(res, 503, { error: 'down' }),
  );
  const app = await build(t, { UPSTREAM_URL: up.url, CACHE_TTL_SECONDS: '1', UPSTREAM_RETRIES: '0' });
  const first = await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') });
  assert.equal(first.statusCode, 200);
  healthy = false;
  await new Promise((r) => setTimeout(r, 1_100));
  const stale = await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') });
  assert.equal(stale.statusCode, 200);
  assert.equal(stale.headers['x-cache'], 'STALE');
  assert.equal(stale.headers.warning, '110 - "Response is Stale"');
  assert.match(String(stale.headers['x-stale-reason']), /HTTP 503/);
  const body = stale.json();
  assert.equal(body.meta.stale, true);
  assert.equal(body.total, 2);
});

test('request ids: a sane incoming X-Request-Id is kept, anything else replaced', async (t) => {
  const app = await build(t);
  const kept = await app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
  assert.equal(kept.headers['x-request-id'], 'abc-123');
  const replaced = await app.inject({ url: '/health', headers: { 'x-request-id': 'bad id\twith spaces' } });
  assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
});

test('body limits, bad JSON, wrong media type and prototype poisoning are 4xx problems', async (t) => {
  const app = await buildApp(loadConfig(testEnv({ BODY_LIMIT_BYTES: '2048' })), { logger: false });
  t.after(() => app.close());
  app.post(
    '/api/v1/test/echo',
    { config: { role: 'viewer' }, schema: { body: z.object({ name: z.string() }).loose() } },
    async (req) => req.body,
  );
  await app.ready();
  const post = (payload: string, type = 'application/json') =>
    app.inject({
      method: 'POST',
      url: '/api/v1/test/echo',
      headers: { ...auth('viewer'), 'content-type': type },
      payload,
    });

  assertProblem(await post(JSON.stringify({ name: 'x'.repeat(5000) })), 413);
  assertProblem(await post('{"name": '), 400);
  assertProblem(await post('name=x', 'application/x-www-form-urlencoded'), 415);
  const poisoned = assertProblem(await post('{"name":"x","__proto__":{"admin":true}}'), 400);
  assert.match(String(poisoned.detail), /prototype/i);
  const invalid = assertProblem(await post('{"name": 5}'), 400);
  assert.deepEqual(
    (invalid.errors as { path: string }[]).map((e) => e.path),
    ['body.name'],
  );
  assert.equal((await post('{"name":"ok"}')).statusCode, 200);
});

test('5xx answers never leak internals', async (t) => {
  const app = await buildApp(loadConfig(testEnv()), { logger: false });
  t.after(() => app.close());
  app.get('/api/v1/test/boom', async () => {
    throw new Error('password=hunter2 at db.internal:5432');
  });
  await app.ready();
  const body = assertProblem(await app.inject('/api/v1/test/boom'), 500);
  assert.doesNotMatch(JSON.stringify(body), /hunter2|db\.internal/);
});

test('rate limit per key answers 429 with Retry-After', async (t) => {
  const up = await upstream(t);
  const app = await build(t, { UPSTREAM_URL: up.url, RATE_LIMIT_MAX: '3' });
  for (let i = 0; i < 3; i++) {
    assert.equal(
      (await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') })).statusCode,
      200,
    );
  }
  const limited = await app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') });
  const body = assertProblem(limited, 429);
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  assert.match(String(body.detail), /Rate limit of 3 requests per 60 s/);
  // another key has its own budget
  assert.equal(
    (await app.inject({ url: '/api/v1/catalog/stores', headers: auth('analyst') })).statusCode,
    200,
  );
  // liveness is never limited
  for (let i = 0; i < 5; i++) assert.equal((await app.inject('/health')).statusCode, 200);
});

test('CORS: only allow-listed origins get CORS headers', async (t) => {
  const app = await build(t, { CORS_ORIGINS: 'https://dashboard.example.com' });
  const allowed = await app.inject({
    method: 'OPTIONS',
    url: '/api/v1/catalog/stores',
    headers: { origin: 'https://dashboard.example.com', 'access-control-request-method': 'GET' },
  });
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://dashboard.example.com');
  const denied = await app.inject({ url: '/health', headers: { origin: 'https://evil.example.com' } });
  assert.equal(denied.headers['access-control-allow-origin'], undefined);
});

test('security headers are set (helmet) on answers, problems and unknown routes', async (t) => {
  const app = await build(t);
  const expected = {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-site',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
  };
  for (const [url, status] of [
    ['/health', 200],
    ['/api/v1/catalog/stores', 401],
    ['/nowhere', 404],
  ] as const) {
    const res = await app.inject(url);
    assert.equal(res.statusCode, status, url);
    for (const [name, value] of Object.entries(expected))
      assert.equal(res.headers[name], value, `${url} ${name}`);
    assert.equal(res.headers['content-security-policy'], undefined, `${url}: JSON needs no CSP`);
    assert.equal(res.headers['x-powered-by'], undefined, url);
  }
});

test('/ready says which dependency is down and why', async (t) => {
  const up = await upstream(t);
  const ok = await build(t, { UPSTREAM_URL: up.url });
  const ready = await ok.inject('/ready');
  assert.equal(ready.statusCode, 200);
  assert.equal(ready.json().checks.upstream.ok, true);
  assert.equal(ready.json().mode, 'embedded');

  const down = await build(t, { UPSTREAM_URL: up.url.replace(/:\d+$/, ':9') });
  const body = assertProblem(await down.inject('/ready'), 503);
  assert.equal(body.type, 'urn:salesflow:problem:not-ready');
  assert.match(String(body.detail), /^Not ready: upstream: GET \/stores failed/);
});

test('Swagger UI and the OpenAPI document are served', async (t) => {
  const app = await build(t);
  const doc = await app.inject('/openapi.json');
  assert.equal(doc.statusCode, 200);
  const spec = doc.json();
  assert.equal(spec.openapi, '3.1.0');
  assert.ok(!JSON.stringify(spec).includes('9007199254740991'), 'no ±2^53 bounds on integers');
  const op = spec.paths['/api/v1/catalog/stores'].get;
  assert.equal(op.operationId, 'listStores');
  assert.deepEqual(op.security, [{ ApiKey: [] }, { Bearer: [] }]);
  assert.ok(op.responses['401'] && op.responses['502']);
  const ui = await app.inject('/docs/');
  assert.equal(ui.statusCode, 200);
  assert.match(ui.body, /swagger/i);
});

test('200 concurrent requests for a cold catalog make one upstream call', async (t) => {
  const up = await startServer(t, async (_req, res) => {
    await new Promise((r) => setTimeout(r, 100));
    json(res, 200, stores);
  });
  const app = await build(t, { UPSTREAM_URL: up.url, RATE_LIMIT_MAX: '1000' });
  const answers = await Promise.all(
    Array.from({ length: 200 }, () => app.inject({ url: '/api/v1/catalog/stores', headers: auth('viewer') })),
  );
  assert.ok(answers.every((r) => r.statusCode === 200 && r.json().total === 2));
  assert.equal(up.requests.length, 1);
});
