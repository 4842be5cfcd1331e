import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CsvDataError, loadCsvDataset } from '../sample-upstream/csv-dataset.ts';
import { buildSalesPage } from '../sample-upstream/dataset.ts';
import { type GeneratorOptions, generateDataset } from '../sample-upstream/generator.ts';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { formatDay, parseDay, weekday } from '../src/lib/calendar.ts';
import {
  UpstreamBulkResult,
  UpstreamProducts,
  UpstreamSaleLine,
  UpstreamSalesPage,
  UpstreamStock,
  UpstreamStores,
} from '../src/models/upstream.ts';
import { call, linesOf, post, pullWindow, type RawLine } from './helpers/sample-upstream.ts';

const EXAMPLE_DATA = fileURLToPath(new URL('../sample-upstream/example-data/', import.meta.url));

/** Small enough to be quick, long enough to cover the 2026-03-29 DST switch of Europe/Paris. */
const SHAPE: GeneratorOptions = {
  seed: 7,
  stores: 4,
  products: 60,
  days: 120,
  linesPerDay: 400,
  endDate: '2026-04-15',
};

describe('sample upstream: generated data', () => {
  let up: RunningSampleUpstream;
  before(async () => {
    up = await createSampleUpstream({ ...SHAPE, port: 0 });
  });
  after(() => up.close());

  it('is deterministic: same seed, same page; a date does not depend on `days`', async () => {
    const again = await createSampleUpstream({ ...SHAPE, port: 0 });
    try {
      const path = '/sales?from=2026-03-20&to=2026-04-02&page=1&size=500';
      const [a, b] = await Promise.all([call(up.url, path), call(again.url, path)]);
      assert.equal(a.status, 200);
      assert.equal(a.text, b.text);
      assert.equal((await call(up.url, '/stock')).text, (await call(again.url, '/stock')).text);
    } finally {
      await again.close();
    }

    const short = generateDataset({ ...SHAPE, days: 10 });
    const long = generateDataset({ ...SHAPE, days: 400 });
    const day = parseDay('2026-04-10')!;
    assert.ok(short.sales.count(day) > 0);
    assert.equal(short.sales.block(day).bytes.toString(), long.sales.block(day).bytes.toString());
    // Generation order must not matter either (the block cache is per dataset).
    const fresh = generateDataset({ ...SHAPE, days: 400 });
    fresh.sales.block(day - 3);
    assert.equal(fresh.sales.block(day).bytes.toString(), long.sales.block(day).bytes.toString());

    const other = generateDataset({ ...SHAPE, seed: 8 });
    assert.notEqual(other.sales.block(day).bytes.toString(), long.sales.block(day).bytes.toString());
  });

  it('answers in the shapes of the client zod models', async () => {
    const stores = await call(up.url, '/stores');
    assert.equal(stores.status, 200);
    assert.match(stores.headers.get('content-type') ?? '', /application\/json/);
    const parsedStores = UpstreamStores.parse(stores.json);
    assert.equal(parsedStores.length, 4);
    // Store ids travel as integers, to exercise the client's id normalisation.
    assert.equal(typeof (stores.json as { id: unknown }[])[0]!.id, 'number');
    for (const s of parsedStores) assert.ok(s.employees >= 5 && s.employees <= 60);

    const products = UpstreamProducts.parse((await call(up.url, '/products')).json);
    assert.equal(products.length, 60);
    for (const p of products) {
      assert.ok(p.price >= 1.49 && p.price <= 299, `price ${p.price}`);
      assert.ok(
        p.cost !== null && p.cost !== undefined && p.cost >= p.price * 0.39 && p.cost <= p.price * 0.76,
      );
    }
    assert.ok(new Set(products.map((p) => p.category)).size >= 6);

    const stock = UpstreamStock.parse((await call(up.url, '/stock')).json);
    assert.equal(stock.length, 4 * 60);

    const page = await call(up.url, '/sales?from=2026-04-01&to=2026-04-03');
    const parsedPage = UpstreamSalesPage.parse(page.json);
    assert.equal(parsedPage.size, 1000, 'default page size');
    assert.equal(parsedPage.number, 0, 'default page');
    assert.ok(parsedPage.content.length > 0);
  });

  it('pages consistently: sum of pages = totalElements, unique ids, `last` on the last page only', async () => {
    const { lines, totalElements } = await pullWindow(up.url, '2026-03-25', '2026-04-05', 700);
    assert.ok(totalElements > 3000, `totalElements ${totalElements}`);
    assert.equal(lines.length, totalElements);
    assert.equal(new Set(lines.map((l) => l.id)).size, lines.length, 'line ids are unique');

    // The same lines in one big page, in the same order.
    const whole = await call(up.url, `/sales?from=2026-03-25&to=2026-04-05&size=10000`);
    assert.deepEqual(
      linesOf(whole.json).map((l) => l.id),
      lines.map((l) => l.id),
    );

    // Lines of a receipt are consecutive and share store and time.
    const receipts = new Map<unknown, RawLine>();
    let previousOrder: unknown;
    for (const l of lines) {
      const first = receipts.get(l.orderId);
      if (first) {
        assert.equal(previousOrder, l.orderId, 'receipt lines are consecutive');
        assert.equal(l.storeId, first.storeId);
        assert.equal(l.soldAt, first.soldAt);
      } else receipts.set(l.orderId, l);
      previousOrder = l.orderId;
    }
    assert.ok(receipts.size < lines.length * 0.8, 'some receipts have several lines');

    const beyond = await call(up.url, '/sales?from=2026-03-25&to=2026-04-05&page=999&size=700');
    const parsedBeyond = UpstreamSalesPage.parse(beyond.json);
    assert.equal(parsedBeyond.content.length, 0);
    assert.equal(parsedBeyond.last, true);
    assert.equal(parsedBeyond.totalElements, totalElements);

    for (const [from, to] of [
      ['2020-01-01', '2020-12-31'],
      ['2026-04-16', '2026-05-01'],
    ]) {
      const empty = UpstreamSalesPage.parse((await call(up.url, `/sales?from=${from}&to=${to}`)).json);
      assert.deepEqual(
        { n: empty.content.length, total: empty.totalElements, pages: empty.totalPages, last: empty.last },
        { n: 0, total: 0, pages: 0, last: true },
      );
    }
  });

  it('filters by business day in the server time zone, with the local offset (DST edge)', async () => {
    for (const day of ['2026-03-28', '2026-03-29', '2026-03-30']) {
      const { lines } = await pullWindow(up.url, day, day, 10_000);
      assert.ok(lines.length > 0);
      let previous = '';
      for (const l of lines) {
        const soldAt = l.soldAt as string;
        assert.equal(soldAt.slice(0, 10), day, `${soldAt} belongs to ${day}`);
        assert.ok(soldAt.endsWith(day === '2026-03-28' ? '+01:00' : '+02:00'), soldAt);
        assert.ok(soldAt >= previous, 'lines come out in time order');
        previous = soldAt;
      }
    }

    const ny = generateDataset({ ...SHAPE, tz: 'America/New_York', days: 5 });
    const text = ny.sales.block(parseDay('2026-04-14')!).bytes.toString();
    for (const l of JSON.parse(`[${text}]`) as RawLine[]) {
      assert.match(l.soldAt as string, /^2026-04-14T\d{2}:\d{2}:\d{2}-04:00$/);
    }
  });

  it('amounts, promotions and the lines without unitCost', async () => {
    const products = new Map(
      UpstreamProducts.parse((await call(up.url, '/products')).json).map((p) => [p.id, p]),
    );
    const { lines } = await pullWindow(up.url, '2026-03-01', '2026-04-15', 10_000);
    let withoutCost = 0;
    let promo = 0;
    for (const raw of lines) {
      const l = UpstreamSaleLine.parse(raw);
      assert.equal(l.amount, Math.round(l.quantity * l.unitPrice * 100) / 100);
      assert.ok(Number.isInteger(l.quantity) && l.quantity >= 1 && l.quantity <= 6);
      const product = products.get(l.productId)!;
      assert.ok(product, `known product ${l.productId}`);
      if (!('unitCost' in raw)) {
        withoutCost++;
        assert.equal(product.brand, 'Petit Pont');
      } else assert.notEqual(l.unitCost, null);
      if (l.unitPrice < product.price) {
        promo++;
        assert.equal(l.unitPrice, Math.round(product.price * 80) / 100);
      } else assert.equal(l.unitPrice, product.price);
    }
    assert.ok(withoutCost > 0, 'some lines omit unitCost');
    assert.ok(withoutCost < lines.length * 0.15, 'most lines carry unitCost');
    assert.ok(promo > 0 && promo < lines.length * 0.3, `promo lines ${promo}`);
    const quantities = lines.map((l) => l.quantity as number);
    assert.ok(quantities.filter((q) => q === 1).length > quantities.length * 0.6, 'quantities are mostly 1');
  });

  it('has weekly seasonality, a trend and the injected anomalies', () => {
    const ds = generateDataset({ ...SHAPE, days: 730 });
    const end = parseDay('2026-04-15')!;
    let weekend = 0;
    let weekdays = 0;
    for (let d = end - 55; d <= end; d++) {
      const wd = weekday(d);
      if (wd === 0 || wd === 6) weekend += ds.sales.count(d) / 16;
      else weekdays += ds.sales.count(d) / 40;
    }
    assert.ok(weekend > weekdays * 1.1, `weekend ${weekend} vs weekdays ${weekdays}`);

    const yearTotal = (last: number) => {
      let t = 0;
      for (let d = last - 364; d <= last; d++) t += ds.sales.count(d);
      return t;
    };
    const growth = yearTotal(end) / yearTotal(end - 365);
    assert.ok(growth > 1.04 && growth < 1.16, `growth ${growth}`);

    const linesBetween = (from: string, to: string) => {
      const out: RawLine[] = [];
      for (let d = parseDay(from)!; d <= parseDay(to)!; d++) {
        out.push(...(JSON.parse(`[${ds.sales.block(d).bytes.toString()}]`) as RawLine[]));
      }
      return out;
    };
    const { storeDrop, productSpike } = ds.anomalies;
    assert.ok(parseDay(storeDrop.from)! > end - 60, 'the drop is in the last 60 days');
    const dropFrom = parseDay(storeDrop.from)!;
    const during = linesBetween(storeDrop.from, storeDrop.to).filter((l) => l.storeId === storeDrop.storeId);
    const before = linesBetween(formatDay(dropFrom - 7), formatDay(dropFrom - 1)).filter(
      (l) => l.storeId === storeDrop.storeId,
    );
    assert.ok(during.length < before.length * 0.5, `drop: ${during.length} vs ${before.length}`);

    const spikeFrom = parseDay(productSpike.from)!;
    const spiking = linesBetween(productSpike.from, productSpike.to).filter(
      (l) => l.productId === productSpike.productId,
    );
    const usual = linesBetween(formatDay(spikeFrom - 14), formatDay(spikeFrom - 1)).filter(
      (l) => l.productId === productSpike.productId,
    );
    assert.ok(
      spiking.length / 4 > (usual.length / 14) * 2.5,
      `spike: ${spiking.length}/4 d vs ${usual.length}/14 d`,
    );
  });

  it('has stock for every pair, some low, some out, a couple negative', async () => {
    const stock = UpstreamStock.parse((await call(up.url, '/stock')).json);
    assert.equal(new Set(stock.map((s) => `${s.storeId}/${s.productId}`)).size, 4 * 60);
    const low = stock.filter((s) => s.quantity > 0 && s.quantity <= s.reorderLevel);
    const out = stock.filter((s) => s.quantity === 0);
    const negative = stock.filter((s) => s.quantity < 0);
    assert.ok(low.length > 5, `low ${low.length}`);
    assert.ok(out.length > 0, `out ${out.length}`);
    assert.ok(negative.length >= 1 && negative.length <= 3, `negative ${negative.length}`);
    assert.ok(stock.filter((s) => s.quantity > s.reorderLevel).length > stock.length * 0.7);
  });

  it('rejects bad parameters with a Spring-like JSON error', async () => {
    for (const query of [
      'from=2026-02-30&to=2026-03-01',
      'to=2026-03-01',
      'from=2026-03-01&to=yesterday',
      'from=2026-03-02&to=2026-03-01',
      'from=2026-03-01&to=2026-03-01&size=10001',
      'from=2026-03-01&to=2026-03-01&size=0',
      'from=2026-03-01&to=2026-03-01&page=-1',
      'from=2026-03-01&to=2026-03-01&page=1.5',
    ]) {
      const res = await call(up.url, `/sales?${query}`);
      assert.equal(res.status, 400, query);
      const body = res.json as { status: number; error: string; message: string };
      assert.equal(body.status, 400);
      assert.equal(body.error, 'Bad Request');
      assert.ok(body.message.length > 5, body.message);
    }
    const ok = await call(up.url, '/sales?from=2026-03-01&to=2026-03-01&size=10000');
    assert.equal(ok.status, 200);
    const missing = await call(up.url, '/nowhere');
    assert.equal(missing.status, 404);
    assert.equal((missing.json as { status: number }).status, 404);
  });

  it('upserts products in bulk, reports failed items and honours Idempotency-Key', async () => {
    // A server of its own: the catalogue changes.
    const up = await createSampleUpstream({ ...SHAPE, days: 2, port: 0 });
    try {
      const original = UpstreamProducts.parse((await call(up.url, '/products')).json);
      const existing = original[0]!;
      const res = await post(up.url, '/products/bulk', [
        { sku: 'NEW-1', name: 'Brand New Thing', category: 'Grocery', brand: 'Tempo', price: 4.5, cost: 2 },
        { ...existing, price: 99.5 },
        { sku: 'NEW-2', category: 'Grocery', brand: 'Tempo', price: 1 },
        { ...existing, id: 'P99999' },
        { sku: 'NEW-3', name: 'Priced in words', category: 'Grocery', brand: 'Tempo', price: 'cheap' },
        'not an object',
      ]);
      assert.equal(res.status, 200);
      const result = UpstreamBulkResult.parse(res.json);
      assert.equal(result.created, 1);
      assert.equal(result.updated, 1);
      assert.deepEqual(
        result.failed.map((f) => f.index),
        [2, 3, 4, 5],
      );
      assert.match(result.failed[0]!.message, /name/);
      assert.match(result.failed[2]!.message, /price/);

      const updated = UpstreamProducts.parse((await call(up.url, '/products')).json);
      assert.equal(updated.length, original.length + 1);
      const created = updated.find((p) => p.sku === 'NEW-1')!;
      assert.match(created.id, /^P\d{5}$/);
      assert.ok(!original.some((p) => p.id === created.id));
      assert.equal(updated.find((p) => p.sku === existing.sku)!.price, 99.5);

      // A replayed key answers the first result and applies nothing.
      const key = { 'idempotency-key': 'chunk-0001' };
      const first = await post(up.url, '/products/bulk', [{ ...existing, price: 10 }, { sku: 'NEW-4' }], key);
      const second = await post(up.url, '/products/bulk', [{ ...existing, price: 20 }], key);
      const firstResult = UpstreamBulkResult.parse(first.json);
      assert.deepEqual(
        [firstResult.created, firstResult.updated, firstResult.failed.map((f) => f.index)],
        [0, 1, [1]],
      );
      assert.deepEqual(second.json, first.json);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      const now = UpstreamProducts.parse((await call(up.url, '/products')).json);
      assert.equal(now.find((p) => p.sku === existing.sku)!.price, 10);

      const notArray = await post(up.url, '/products/bulk', { sku: 'X' });
      assert.equal(notArray.status, 400);
      const notJson = await call(up.url, '/products/bulk', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[{',
      });
      assert.equal(notJson.status, 400);
      assert.equal((notJson.json as { status: number }).status, 400);
    } finally {
      await up.close();
    }
  });
});

describe('sample upstream: faults, stats and admin', () => {
  let up: RunningSampleUpstream;
  before(async () => {
    up = await createSampleUpstream({ ...SHAPE, days: 20, port: 0 });
  });
  afterEach(async () => {
    await post(up.url, '/__admin/reset', {});
  });
  after(() => up.close());

  it('counts data requests per route, not admin ones, and resets', async () => {
    await call(up.url, '/stores');
    await call(up.url, '/stores');
    await call(up.url, '/sales?from=2026-04-01&to=2026-04-01');
    await call(up.url, '/sales?from=bad&to=2026-04-01');
    await call(up.url, '/__admin/faults');
    const stats = (await call(up.url, '/__admin/stats')).json as {
      requests: Record<string, number>;
      total: number;
    };
    assert.deepEqual(stats.requests, { 'GET /stores': 2, 'GET /sales': 2 });
    assert.equal(stats.total, 4);
    await post(up.url, '/__admin/reset', {});
    assert.deepEqual((await call(up.url, '/__admin/stats')).json, {
      requests: {},
      total: 0,
      injected: { errors: 0, hangs: 0, malformed: 0, unauthorized: 0 },
    });
  });

  it('latencyMs delays data responses, not admin ones', async () => {
    const set = await post(up.url, '/__admin/faults', { latencyMs: 250 });
    assert.equal(set.status, 200);
    assert.equal((set.json as { latencyMs: number }).latencyMs, 250);
    let t = performance.now();
    assert.equal((await call(up.url, '/stores')).status, 200);
    assert.ok(performance.now() - t >= 240, 'delayed');
    t = performance.now();
    await call(up.url, '/__admin/stats');
    assert.ok(performance.now() - t < 150, 'admin is not delayed');
  });

  it('failFirst fails the next N data requests, then succeeds', async () => {
    await post(up.url, '/__admin/faults', { failFirst: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(up.url, '/stores')).status);
    assert.deepEqual(statuses, [503, 503, 200]);
    const stats = (await call(up.url, '/__admin/stats')).json as {
      requests: Record<string, number>;
      injected: { errors: number };
    };
    assert.equal(stats.requests['GET /stores'], 3);
    assert.equal(stats.injected.errors, 2);
    assert.equal(((await call(up.url, '/__admin/faults')).json as { failFirst: number }).failFirst, 0);
  });

  it('errorRate answers errorStatus with Retry-After, deterministically', async () => {
    await post(up.url, '/__admin/faults', { errorRate: 1, errorStatus: 429, retryAfterSeconds: 2 });
    const res = await call(up.url, '/products');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '2');
    assert.deepEqual(
      { ...(res.json as object), timestamp: undefined, path: undefined },
      {
        status: 429,
        error: 'Too Many Requests',
        message: 'injected fault',
        timestamp: undefined,
        path: undefined,
      },
    );

    const sequence = async () => {
      await post(up.url, '/__admin/reset', {});
      await post(up.url, '/__admin/faults', { errorRate: 0.5 });
      const out: number[] = [];
      for (let i = 0; i < 24; i++) out.push((await call(up.url, '/stores')).status);
      return out;
    };
    const a = await sequence();
    assert.deepEqual(await sequence(), a);
    assert.ok(a.includes(200) && a.includes(503), a.join(','));
    const fails = a.filter((s) => s === 503).length;
    assert.ok(fails >= 5 && fails <= 19, `fails ${fails}`);
    // Without retryAfterSeconds there is no Retry-After.
    const plain = await call(up.url, '/stores?x=1');
    if (plain.status === 503) assert.equal(plain.headers.get('retry-after'), null);
  });

  it('malformedPage breaks one page of /sales; malformed breaks a list', async () => {
    await post(up.url, '/__admin/faults', { malformedPage: 1 });
    const base = '/sales?from=2026-04-01&to=2026-04-15&size=100';
    assert.ok(UpstreamSalesPage.safeParse((await call(up.url, `${base}&page=0`)).json).success);
    const broken = await call(up.url, `${base}&page=1`);
    assert.equal(broken.status, 200);
    assert.equal(linesOf(broken.json)[0]!.amount, '12.5x');
    const parsed = UpstreamSalesPage.safeParse(broken.json);
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error!.issues[0]!.path, ['content', 0, 'amount']);
    assert.ok(UpstreamSalesPage.safeParse((await call(up.url, `${base}&page=2`)).json).success);

    await post(up.url, '/__admin/faults', { malformed: 'products' });
    assert.equal(UpstreamProducts.safeParse((await call(up.url, '/products')).json).success, false);
    assert.ok(UpstreamStores.safeParse((await call(up.url, '/stores')).json).success);
    await post(up.url, '/__admin/faults', { malformed: 'stock' });
    assert.equal(UpstreamStock.safeParse((await call(up.url, '/stock')).json).success, false);
    await post(up.url, '/__admin/faults', { malformed: 'stores' });
    assert.equal(UpstreamStores.safeParse((await call(up.url, '/stores')).json).success, false);
    await post(up.url, '/__admin/faults', { malformed: null });
    assert.ok(UpstreamStores.safeParse((await call(up.url, '/stores')).json).success);

    const bad = await post(up.url, '/__admin/faults', { malformed: 'sales', typo: 1 });
    assert.equal(bad.status, 400);
  });

  it('hang accepts requests and never answers, until reset', async () => {
    await post(up.url, '/__admin/faults', { hang: true });
    await assert.rejects(fetch(`${up.url}/stores`, { signal: AbortSignal.timeout(300) }), {
      name: 'TimeoutError',
    });
    // Admin routes keep answering, and a held request is let through by the reset.
    assert.equal((await call(up.url, '/__admin/health')).status, 200);
    const held = fetch(`${up.url}/stores`);
    await new Promise((r) => setTimeout(r, 100));
    const stats = (await call(up.url, '/__admin/stats')).json as { injected: { hangs: number } };
    assert.equal(stats.injected.hangs, 2);
    await post(up.url, '/__admin/reset', {});
    assert.equal((await held).status, 200);
    assert.equal((await call(up.url, '/stores')).status, 200);
  });

  it('closes promptly even with a hung request', async () => {
    const other = await createSampleUpstream({ ...SHAPE, days: 2, port: 0, faults: { hang: true } });
    const pending = fetch(`${other.url}/stores`).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    const t = performance.now();
    await other.close();
    assert.ok(performance.now() - t < 1000);
    assert.ok((await pending) instanceof Error);
  });
});

describe('sample upstream: token and prefix', () => {
  it('requires the bearer token on data routes only', async () => {
    const up = await createSampleUpstream({ ...SHAPE, days: 2, port: 0, token: 's3cret' });
    try {
      const anonymous = await call(up.url, '/stores');
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
      assert.equal((anonymous.json as { status: number }).status, 401);
      const wrong = await call(up.url, '/stores', { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      const ok = await call(up.url, '/stores', { headers: { authorization: 'Bearer s3cret' } });
      assert.equal(ok.status, 200);
      assert.equal((await call(up.url, '/__admin/stats')).status, 200);
    } finally {
      await up.close();
    }
  });

  it('serves every route under the prefix', async () => {
    const up = await createSampleUpstream({ ...SHAPE, days: 2, port: 0, prefix: 'api/v1/' });
    try {
      assert.ok(up.url.endsWith('/api/v1'));
      assert.equal((await call(up.url, '/stores')).status, 200);
      assert.equal((await call(up.url, '/__admin/stats')).status, 200);
      assert.equal((await call(up.origin, '/stores')).status, 404);
    } finally {
      await up.close();
    }
  });
});

describe('sample upstream: CSV data', () => {
  it('serves the example dataset', async () => {
    const up = await createSampleUpstream({ dataDir: EXAMPLE_DATA, port: 0 });
    try {
      const stores = UpstreamStores.parse((await call(up.url, '/stores')).json);
      assert.deepEqual(
        stores.map((s) => s.id),
        ['1', '2', '3'],
      );
      const products = UpstreamProducts.parse((await call(up.url, '/products')).json);
      assert.equal(products.length, 6);
      assert.equal(products.find((p) => p.id === 'P00003')!.name, 'Azur Home Dish Soap, lemon');
      const stock = UpstreamStock.parse((await call(up.url, '/stock')).json);
      assert.equal(stock.length, 18);
      assert.ok(stock.some((s) => s.quantity === 0));
      assert.ok(stock.some((s) => s.quantity < 0));
      assert.ok(stock.some((s) => s.quantity > 0 && s.quantity <= s.reorderLevel));

      const { lines, totalElements } = await pullWindow(up.url, '2026-03-01', '2026-04-30', 7);
      assert.equal(totalElements, 35);
      assert.equal(new Set(lines.map((l) => l.id)).size, 35);
      assert.ok(lines.every((l) => UpstreamSaleLine.safeParse(l).success));
      assert.ok(lines.some((l) => l.productId === 'P00006' && !('unitCost' in l)));

      // Written in UTC the evening before; in Europe/Paris it belongs to the next business day.
      const dst = await call(up.url, '/sales?from=2026-03-29&to=2026-03-29');
      const late = linesOf(dst.json).find((l) => l.id === 'L0034')!;
      assert.equal(late.soldAt, '2026-03-29T00:30:00+01:00');
      assert.ok(linesOf(dst.json).every((l) => (l.soldAt as string).startsWith('2026-03-29')));
      const saturday = await call(up.url, '/sales?from=2026-03-28&to=2026-03-28');
      assert.ok(!linesOf(saturday.json).some((l) => l.id === 'L0034'));
      const lastDay = await call(up.url, '/sales?from=2026-03-31&to=2026-03-31');
      assert.ok(
        linesOf(lastDay.json).some((l) => l.id === 'L0035' && l.soldAt === '2026-03-31T00:10:00+02:00'),
      );
    } finally {
      await up.close();
    }
  });

  it('buckets by the configured time zone', async () => {
    const ds = await loadCsvDataset(EXAMPLE_DATA, 'UTC');
    const page = JSON.parse(
      buildSalesPage(ds.sales, {
        fromDay: parseDay('2026-03-28')!,
        toDay: parseDay('2026-03-28')!,
        page: 0,
        size: 100,
      }).toString(),
    ) as { content: RawLine[] };
    assert.ok(page.content.some((l) => l.id === 'L0034' && l.soldAt === '2026-03-28T23:30:00+00:00'));
  });

  it('names file, line and field of bad data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sample-upstream-'));
    try {
      for (const f of ['stores.csv', 'products.csv', 'sales.csv', 'stock.csv'])
        copyFileSync(join(EXAMPLE_DATA, f), join(dir, f));
      const sales = readFileSync(join(dir, 'sales.csv'), 'utf8').split('\n');
      const fields = sales[4]!.split(',');
      fields[5] = 'two';
      sales[4] = fields.join(',');
      writeFileSync(join(dir, 'sales.csv'), sales.join('\n'));
      await assert.rejects(loadCsvDataset(dir), (err: Error) => {
        assert.ok(err instanceof CsvDataError);
        assert.match(err.message, /^sales\.csv line 5: field "quantity" must be a number, got "two"$/);
        return true;
      });

      writeFileSync(join(dir, 'sales.csv'), `${sales[0]}\nL1,O1,2026-03-29T10:00:00+02:00,9,P00001,1,1,1,\n`);
      await assert.rejects(
        loadCsvDataset(dir),
        /sales\.csv line 2: field "storeId" refers to unknown store 9/,
      );
      writeFileSync(join(dir, 'sales.csv'), `${sales[0]}\nL1,O1,2026-03-29 10:00,1,P00001,1,1,1,\n`);
      await assert.rejects(loadCsvDataset(dir), /sales\.csv line 2: field "soldAt"/);

      writeFileSync(join(dir, 'stores.csv'), 'id,name,city,region\n1,A,B,C\n');
      await assert.rejects(loadCsvDataset(dir), /stores\.csv line 1: missing column employees/);
      rmSync(join(dir, 'stock.csv'));
      writeFileSync(join(dir, 'stores.csv'), 'id,name,city,region,employees\n1,A,B,C,-3\n');
      await assert.rejects(loadCsvDataset(dir), /stores\.csv line 2: field "employees" must be ≥ 0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
