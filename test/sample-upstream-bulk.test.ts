/**
 * The bulk writes of the sample system of record (POST /products|stock|sales/bulk): what they
 * apply, what they refuse, idempotency per route, and the faults that let the service in front
 * prove a retried chunk is applied once.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REFUSED_MESSAGE } from '../sample-upstream/faults.ts';
import { type GeneratorOptions, generateDataset } from '../sample-upstream/generator.ts';
import { createSampleUpstream, type SampleUpstreamOptions } from '../sample-upstream/server.ts';
import { parseDay } from '../src/lib/calendar.ts';
import {
  UpstreamBulkResult,
  UpstreamSaleLine,
  type UpstreamSaleLineInput,
  UpstreamSalesPage,
  UpstreamStock,
} from '../src/models/upstream.ts';
import { type Answer, call, linesOf, post, pullWindow, type RawLine } from './helpers/sample-upstream.ts';
import { testClient } from './helpers/upstream-client.ts';

const EXAMPLE_DATA = fileURLToPath(new URL('../sample-upstream/example-data/', import.meta.url));

/** Ten days of a few dozen lines: every test gets a server of its own, the data changes. */
const SHAPE: GeneratorOptions = {
  seed: 7,
  stores: 3,
  products: 20,
  days: 10,
  linesPerDay: 60,
  endDate: '2026-04-15',
};

async function start(t: TestContext, options: SampleUpstreamOptions = SHAPE) {
  const up = await createSampleUpstream({ ...options, port: 0 });
  t.after(() => up.close());
  return up;
}

function bulkResult(answer: Answer) {
  assert.equal(answer.status, 200, answer.text);
  return UpstreamBulkResult.parse(answer.json);
}

function sale(id: string | number, overrides: Partial<UpstreamSaleLineInput> = {}): UpstreamSaleLineInput {
  return {
    id,
    orderId: `R-${id}`,
    soldAt: '2026-04-12T10:00:00+02:00',
    storeId: 1,
    productId: 'P00001',
    quantity: 2,
    unitPrice: 3.5,
    amount: 7,
    unitCost: 1.2,
    ...overrides,
  };
}

async function totalOn(base: string, day: string): Promise<number> {
  return UpstreamSalesPage.parse((await call(base, `/sales?from=${day}&to=${day}&size=1`)).json)
    .totalElements;
}

async function idsOn(base: string, day: string): Promise<unknown[]> {
  return (await pullWindow(base, day, day, 10_000)).lines.map((l) => l.id);
}

async function rawStock(base: string): Promise<RawLine[]> {
  const answer = await call(base, '/stock');
  UpstreamStock.parse(answer.json);
  return answer.json as RawLine[];
}

function stockItem(stock: RawLine[], storeId: string | number, productId: string) {
  return stock.find((s) => String(s.storeId) === String(storeId) && s.productId === productId);
}

async function stats(base: string) {
  return (await call(base, '/__admin/stats')).json as {
    requests: Record<string, number>;
    injected: { errors: number };
  };
}

const newProduct = (sku: string) => ({
  sku,
  name: `New ${sku}`,
  category: 'Grocery',
  brand: 'Tempo',
  price: 2,
});

describe('sample upstream: POST /stock/bulk', () => {
  it('upserts by (store, product), reports unknown ids and bad items, and GET /stock serves the change', async (t) => {
    const up = await start(t);
    const before = await rawStock(up.url);
    assert.equal(before.length, 3 * 20);
    // A product created now can be stocked at once: references follow the current catalogue.
    assert.equal(bulkResult(await post(up.url, '/products/bulk', [newProduct('NEW-1')])).created, 1);

    const result = bulkResult(
      await post(up.url, '/stock/bulk', [
        { storeId: 1, productId: 'P00001', quantity: -4, reorderLevel: 3 },
        { storeId: '2', productId: 'P00002', quantity: 7.5, reorderLevel: 0 },
        { storeId: 3, productId: 'P00021', quantity: 12, reorderLevel: 2 },
        { storeId: 99, productId: 'P00001', quantity: 1, reorderLevel: 1 },
        { storeId: 1, productId: 'P99999', quantity: 1, reorderLevel: 1 },
        { storeId: 1, productId: 'P00003', quantity: 1, reorderLevel: -1 },
        { storeId: 1, productId: 'P00003', quantity: 'many', reorderLevel: 1 },
        null,
      ]),
    );
    assert.deepEqual([result.created, result.updated], [1, 2]);
    assert.deepEqual(
      result.failed.map((f) => f.index),
      [3, 4, 5, 6, 7],
    );
    assert.equal(result.failed[0]!.message, 'storeId: unknown store 99');
    assert.equal(result.failed[1]!.message, 'productId: unknown product P99999');
    assert.match(result.failed[2]!.message, /^reorderLevel: /);
    assert.match(result.failed[3]!.message, /^quantity: /);

    const after = await rawStock(up.url);
    assert.equal(after.length, before.length + 1);
    assert.deepEqual(stockItem(after, 1, 'P00001'), {
      storeId: 1,
      productId: 'P00001',
      quantity: -4,
      reorderLevel: 3,
    });
    // Ids compare as strings, and keep the typing of /stores (integers) whatever the writer sent.
    assert.deepEqual(stockItem(after, 2, 'P00002'), {
      storeId: 2,
      productId: 'P00002',
      quantity: 7.5,
      reorderLevel: 0,
    });
    assert.deepEqual(after.at(-1), { storeId: 3, productId: 'P00021', quantity: 12, reorderLevel: 2 });
    assert.deepEqual(
      stockItem(after, 1, 'P00003'),
      stockItem(before, 1, 'P00003'),
      'failed items change nothing',
    );

    const again = bulkResult(
      await post(up.url, '/stock/bulk', [
        { storeId: '3', productId: 'P00021', quantity: 11, reorderLevel: 2 },
      ]),
    );
    assert.deepEqual([again.created, again.updated], [0, 1]);
    const last = await rawStock(up.url);
    assert.equal(last.length, after.length);
    assert.equal(stockItem(last, 3, 'P00021')!.quantity, 11);
  });
});

describe('sample upstream: POST /sales/bulk', () => {
  it('serves added lines on their business day in the dataset zone, after the day’s own lines', async (t) => {
    const up = await start(t);
    const days = ['2026-04-10', '2026-04-11', '2026-04-12'] as const;
    const [ids10, ids11, ids12] = await Promise.all(days.map((d) => idsOn(up.url, d)));
    assert.ok(ids10!.length > 0 && ids11!.length > 0 && ids12!.length > 0);

    const result = bulkResult(
      await post(up.url, '/sales/bulk', [
        // 22:30 UTC on the 10th is 00:30 on the 11th in Paris (UTC+2 in April).
        sale('NEW-1', { soldAt: '2026-04-10T22:30:00Z' }),
        sale('NEW-2', { soldAt: '2026-04-11T23:59:30+02:00', storeId: '2', unitCost: undefined }),
        // 23:30 at UTC−1 on the 11th is 02:30 on the 12th in Paris.
        sale('NEW-3', { soldAt: '2026-04-11T23:30:00-01:00' }),
        // After the last generated day: the data range grows to hold it.
        sale(4242, { soldAt: '2026-04-20T10:00:00+02:00', unitCost: null }),
      ]),
    );
    assert.deepEqual(result, { created: 4, updated: 0, failed: [] });

    // Pages of 7 straddle the days: order and totals must hold across them.
    const { lines, totalElements } = await pullWindow(up.url, days[0], days[2], 7);
    const expected = [...ids10!, ...ids11!, 'NEW-1', 'NEW-2', ...ids12!, 'NEW-3'];
    assert.equal(totalElements, expected.length);
    assert.deepEqual(
      lines.map((l) => l.id),
      expected,
    );
    for (const l of lines) UpstreamSaleLine.parse(l);
    assert.equal(await totalOn(up.url, days[1]), ids11!.length + 2);
    const byId = new Map(lines.map((l) => [l.id, l]));
    assert.deepEqual(byId.get('NEW-1'), {
      id: 'NEW-1',
      orderId: 'R-NEW-1',
      soldAt: '2026-04-11T00:30:00+02:00',
      storeId: 1,
      productId: 'P00001',
      quantity: 2,
      unitPrice: 3.5,
      amount: 7,
      unitCost: 1.2,
    });
    const new2 = byId.get('NEW-2')!;
    assert.equal(new2.soldAt, '2026-04-11T23:59:30+02:00');
    assert.equal(new2.storeId, 2, 'the store id keeps the typing of /stores');
    assert.ok(!('unitCost' in new2));
    assert.equal(byId.get('NEW-3')!.soldAt, '2026-04-12T02:30:00+02:00');

    const late = await pullWindow(up.url, '2026-04-16', '2026-04-30', 7);
    assert.deepEqual(late.lines, [
      {
        id: 4242,
        orderId: 'R-4242',
        soldAt: '2026-04-20T10:00:00+02:00',
        storeId: 1,
        productId: 'P00001',
        quantity: 2,
        unitPrice: 3.5,
        amount: 7,
        unitCost: null,
      },
    ]);
  });

  it('refuses duplicate ids: generated, added earlier, or twice in one request; and unknown ids', async (t) => {
    const up = await start(t);
    const day = '2026-04-12';
    const n = await totalOn(up.url, day);
    assert.equal(
      linesOf((await call(up.url, `/sales?from=${day}&to=${day}&size=1`)).json)[0]!.id,
      '20260412-1',
    );

    const result = bulkResult(
      await post(up.url, '/sales/bulk', [
        sale('20260412-1'),
        sale(`20260412-${n}`),
        // Shaped like a generated id, but the day has no such line.
        sale(`20260412-${n + 1}`),
        sale('20260101-1'),
        sale('DUP-1'),
        sale('DUP-1', { quantity: 5, amount: 17.5 }),
        sale('X-1', { storeId: 99 }),
        sale('X-2', { productId: 'P99999' }),
        sale('X-3', { soldAt: '2026-04-12T10:00:00' }),
        { ...sale('X-4'), orderId: undefined },
      ]),
    );
    assert.deepEqual([result.created, result.updated], [3, 0]);
    assert.deepEqual(
      result.failed.map((f) => f.index),
      [0, 1, 5, 6, 7, 8, 9],
    );
    const messages = result.failed.map((f) => f.message);
    assert.equal(messages[0], 'duplicate: sale line 20260412-1 already exists');
    assert.equal(messages[1], `duplicate: sale line 20260412-${n} already exists`);
    assert.equal(messages[2], 'duplicate: sale line DUP-1 already exists');
    assert.equal(messages[3], 'storeId: unknown store 99');
    assert.equal(messages[4], 'productId: unknown product P99999');
    assert.match(messages[5]!, /^soldAt: /);
    assert.match(messages[6]!, /^orderId: /);

    const again = bulkResult(await post(up.url, '/sales/bulk', [sale(`20260412-${n + 1}`), sale('DUP-1')]));
    assert.equal(again.created, 0);
    assert.deepEqual(
      again.failed.map((f) => f.message.split(' already')[0]),
      [`duplicate: sale line 20260412-${n + 1}`, 'duplicate: sale line DUP-1'],
    );

    const { lines } = await pullWindow(up.url, day, day, 10_000);
    assert.equal(lines.length, n + 3);
    assert.deepEqual(
      lines.slice(n).map((l) => [l.id, l.quantity]),
      [
        [`20260412-${n + 1}`, 2],
        ['20260101-1', 2],
        ['DUP-1', 2],
      ],
    );
  });

  it('knows a generated line id from the day counts alone', () => {
    const ds = generateDataset(SHAPE);
    const day = parseDay('2026-04-12')!;
    const n = ds.sales.count(day);
    assert.ok(n > 0);
    assert.equal(ds.sales.hasLine('20260412-1'), true);
    assert.equal(ds.sales.hasLine(`20260412-${n}`), true);
    for (const id of [
      `20260412-${n + 1}`,
      '20260412-0',
      '20260412-01',
      '20260230-1',
      '20250412-1',
      '2026041-1',
      'x',
    ]) {
      assert.equal(ds.sales.hasLine(id), false, id);
    }
  });

  it('CSV data: duplicates against the file; lines and stock refer to the loaded ids', async (t) => {
    const up = await start(t, { dataDir: EXAMPLE_DATA });
    const before = await totalOn(up.url, '2026-03-29');
    const result = bulkResult(
      await post(up.url, '/sales/bulk', [
        sale('L0001', { soldAt: '2026-03-29T10:00:00+02:00' }),
        sale('L9001', { soldAt: '2026-03-28T23:30:00Z', storeId: '3' }),
      ]),
    );
    assert.equal(result.created, 1);
    assert.deepEqual(result.failed, [{ index: 0, message: 'duplicate: sale line L0001 already exists' }]);
    const day = linesOf((await call(up.url, '/sales?from=2026-03-29&to=2026-03-29&size=100')).json);
    assert.equal(day.length, before + 1);
    assert.deepEqual(
      [day.at(-1)!.id, day.at(-1)!.soldAt, day.at(-1)!.storeId],
      ['L9001', '2026-03-29T00:30:00+01:00', 3],
    );

    const stock = bulkResult(
      await post(up.url, '/stock/bulk', [
        { storeId: '1', productId: 'P00001', quantity: 40, reorderLevel: 4 },
      ]),
    );
    assert.deepEqual([stock.created, stock.updated], [0, 1]);
    const after = await rawStock(up.url);
    assert.equal(after.length, 18);
    assert.equal(stockItem(after, 1, 'P00001')!.quantity, 40);
  });
});

describe('sample upstream: idempotency and faults of the bulk routes', () => {
  it('keeps Idempotency-Key per route: a replay answers the first result and applies nothing', async (t) => {
    const up = await start(t);
    const key = { 'idempotency-key': 'chunk-1' };
    const stock1 = await post(
      up.url,
      '/stock/bulk',
      [{ storeId: 1, productId: 'P00005', quantity: 5, reorderLevel: 1 }],
      key,
    );
    const sales1 = await post(up.url, '/sales/bulk', [sale('IDEM-1')], key);
    const products1 = await post(up.url, '/products/bulk', [newProduct('IDEM')], key);
    // The same key on another route is another key.
    assert.equal(bulkResult(stock1).updated, 1);
    assert.equal(bulkResult(sales1).created, 1);
    assert.equal(bulkResult(products1).created, 1);
    for (const a of [stock1, sales1, products1]) assert.equal(a.headers.get('idempotent-replayed'), null);
    const total = await totalOn(up.url, '2026-04-12');

    const stock2 = await post(
      up.url,
      '/stock/bulk',
      [{ storeId: 1, productId: 'P00005', quantity: 99, reorderLevel: 1 }],
      key,
    );
    const sales2 = await post(up.url, '/sales/bulk', [sale('IDEM-1'), sale('IDEM-2')], key);
    for (const [replay, first] of [
      [stock2, stock1],
      [sales2, sales1],
    ] as const) {
      assert.equal(replay.status, 200);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.text, first.text);
    }
    assert.equal(stockItem(await rawStock(up.url), 1, 'P00005')!.quantity, 5);
    assert.equal(await totalOn(up.url, '2026-04-12'), total);
    assert.equal(bulkResult(await post(up.url, '/sales/bulk', [sale('IDEM-2')])).created, 1);
  });

  it('failAfterApply: applied, answer lost; the client retries with its key and the chunk lands once', async (t) => {
    const up = await start(t);
    const c = testClient(up.url, { retries: 2 });
    t.after(() => c.close());
    const day = '2026-04-12';
    const before = await totalOn(up.url, day);

    await post(up.url, '/__admin/faults', { failAfterApply: 1 });
    const result = await c.bulkInsertSales([sale('LOST-1'), sale('LOST-2')], {
      idempotencyKey: 'lost-chunk',
    });
    assert.deepEqual(result, { created: 2, updated: 0, failed: [] });
    assert.equal(await totalOn(up.url, day), before + 2);
    let s = await stats(up.url);
    assert.equal(s.requests['POST /sales/bulk'], 2);
    assert.equal(s.injected.errors, 1);
    assert.equal(
      ((await call(up.url, '/__admin/faults')).json as { failAfterApply: number }).failAfterApply,
      0,
    );

    // Only the first application can answer "created" for a new pair: the retry was a replay.
    await c.bulkUpsertProducts([newProduct('LOST')]);
    await post(up.url, '/__admin/faults', { failAfterApply: 1 });
    const stock = await c.bulkUpsertStock(
      [{ storeId: 2, productId: 'P00021', quantity: 3, reorderLevel: 1 }],
      {
        idempotencyKey: 'lost-stock',
      },
    );
    assert.deepEqual(stock, { created: 1, updated: 0, failed: [] });

    // Without a key a retry could apply the chunk twice, so the client does not retry.
    await post(up.url, '/__admin/faults', { failAfterApply: 1 });
    await assert.rejects(
      c.bulkInsertSales([sale('LOST-3')]),
      /POST \/sales\/bulk failed after 1 attempt: answered HTTP 503/,
    );
    assert.equal(await totalOn(up.url, day), before + 3, 'applied all the same');
    s = await stats(up.url);
    assert.equal(s.requests['POST /sales/bulk'], 3);
    assert.equal(s.requests['POST /stock/bulk'], 2);
  });

  it('failAfterApply answers a Spring-like 503 and honours retryAfterSeconds', async (t) => {
    const up = await start(t);
    await post(up.url, '/__admin/faults', { failAfterApply: 1, retryAfterSeconds: 1 });
    const lost = await post(up.url, '/stock/bulk', [
      { storeId: 1, productId: 'P00002', quantity: 0, reorderLevel: 9 },
    ]);
    assert.equal(lost.status, 503);
    assert.equal(lost.headers.get('retry-after'), '1');
    const body = lost.json as { status: number; error: string; message: string; path: string };
    assert.deepEqual([body.status, body.error, body.path], [503, 'Service Unavailable', '/stock/bulk']);
    assert.match(body.message, /answer was lost/);
    assert.equal(stockItem(await rawStock(up.url), 1, 'P00002')!.reorderLevel, 9);
    // A body that is not an array is answered 400 and does not use the fault up.
    await post(up.url, '/__admin/faults', { failAfterApply: 1 });
    assert.equal((await post(up.url, '/sales/bulk', { id: 1 })).status, 400);
    assert.equal((await post(up.url, '/sales/bulk', [])).status, 503);
  });

  it('refuseMatching refuses the items whose JSON contains it, on every bulk route', async (t) => {
    const up = await start(t);
    await post(up.url, '/__admin/faults', { refuseMatching: 'REFUSE-ME' });
    const refused = { index: 1, message: REFUSED_MESSAGE };
    assert.equal(REFUSED_MESSAGE, 'refused by the system of record (fault injection)');

    const sales = bulkResult(
      await post(up.url, '/sales/bulk', [sale('OK-1'), sale('NO-1', { orderId: 'REFUSE-ME-7' })]),
    );
    assert.deepEqual(sales, { created: 1, updated: 0, failed: [refused] });
    const stock = bulkResult(
      await post(up.url, '/stock/bulk', [
        { storeId: 1, productId: 'P00007', quantity: 1, reorderLevel: 0 },
        { storeId: 1, productId: 'P00008', quantity: 1, reorderLevel: 0, note: 'REFUSE-ME' },
      ]),
    );
    assert.deepEqual(stock, { created: 0, updated: 1, failed: [refused] });
    const products = bulkResult(
      await post(up.url, '/products/bulk', [newProduct('OK'), newProduct('REFUSE-ME')]),
    );
    assert.deepEqual(products, { created: 1, updated: 0, failed: [refused] });

    const ids = await idsOn(up.url, '2026-04-12');
    assert.ok(ids.includes('OK-1') && !ids.includes('NO-1'));
    assert.notEqual(stockItem(await rawStock(up.url), 1, 'P00008')!.quantity, 1);

    // A refused line took no id: once the fault is cleared it goes in.
    await post(up.url, '/__admin/faults', { refuseMatching: null });
    assert.equal(
      bulkResult(await post(up.url, '/sales/bulk', [sale('NO-1', { orderId: 'REFUSE-ME-7' })])).created,
      1,
    );
  });

  it('counts the bulk routes as data requests; validates the new faults and the body', async (t) => {
    const up = await start(t);
    const faults = (await call(up.url, '/__admin/faults')).json as Record<string, unknown>;
    assert.equal(faults.failAfterApply, 0);
    assert.equal(faults.refuseMatching, null);
    for (const patch of [{ refuseMatching: '' }, { failAfterApply: -1 }, { failAfterApply: 1.5 }]) {
      assert.equal((await post(up.url, '/__admin/faults', patch)).status, 400, JSON.stringify(patch));
    }

    const notArray = await post(up.url, '/stock/bulk', { storeId: 1 });
    assert.equal(notArray.status, 400);
    assert.match((notArray.json as { message: string }).message, /JSON array of stock items/);
    assert.equal((await post(up.url, '/sales/bulk', [])).status, 200);
    assert.deepEqual((await stats(up.url)).requests, { 'POST /stock/bulk': 1, 'POST /sales/bulk': 1 });
  });
});
