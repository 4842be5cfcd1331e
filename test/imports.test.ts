/**
 * Spreadsheet imports end to end: real multipart uploads over HTTP to the real app, real files made
 * with exceljs, the sample upstream as the system of record. Dry run vs commit, both error
 * policies, chunk retries without double-apply, an interrupted commit, the error workbook round
 * trip, templates, large files as jobs, and every bad file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import ExcelJS from 'exceljs';
import { Client, FormData as UndiciFormData, request as undiciRequest } from 'undici';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { auth, build, KEYS } from './helpers/app.ts';
import { startServer } from './helpers/http-server.ts';
import { type Cell, readWorkbook, workbook, workbookSkeleton, zip } from './helpers/spreadsheets.ts';

interface Env {
  upstream: RunningSampleUpstream;
  base: string;
  exportsDir: string;
  app: Awaited<ReturnType<typeof build>>;
}

async function setup(
  t: TestContext,
  env: Record<string, string> = {},
  upstreamUrl?: (u: string) => Promise<string>,
) {
  const upstream = await createSampleUpstream({
    port: 0,
    seed: 5,
    stores: 3,
    products: 20,
    days: 20,
    linesPerDay: 60,
    endDate: '2026-06-14',
    logger: false,
  });
  t.after(() => upstream.close());
  const exportsDir = await mkdtemp(join(tmpdir(), 'salesflow-imports-'));
  t.after(() => rm(exportsDir, { recursive: true, force: true }));
  const app = await build(t, {
    UPSTREAM_URL: upstreamUrl ? await upstreamUrl(upstream.url) : upstream.url,
    EXPORTS_DIR: exportsDir,
    ANALYTICS_TODAY: '2026-06-15',
    ...env,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { upstream, base: `http://127.0.0.1:${port}`, exportsDir, app } satisfies Env;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** A real multipart request, as a browser's FormData sends it. */
async function upload(
  env: Env,
  file: Buffer | string,
  name: string,
  query: Record<string, string> = {},
  fields: Record<string, string> = {},
): Promise<Answer> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([typeof file === 'string' ? file : new Uint8Array(file)]), name);
  const res = await fetch(`${env.base}/api/v1/excel/upload?${new URLSearchParams(query)}`, {
    method: 'POST',
    headers: { 'x-api-key': KEYS.admin },
    body: form,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function getJson(env: Env, path: string) {
  const res = await fetch(env.base + path, { headers: { 'x-api-key': KEYS.admin } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function getBytes(env: Env, path: string) {
  const res = await fetch(env.base + path, { headers: { 'x-api-key': KEYS.admin } });
  assert.equal(res.status, 200, await res.clone().text());
  return { headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** Polls a queued import until it has finished (10 s at most). */
async function waitForImport(env: Env, statusUrl: string): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  for (let i = 0; i < 400; i++) {
    body = (await getJson(env, statusUrl)).body;
    if (!['queued', 'running'].includes(String(body.status))) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return body;
}

async function bulkCalls(env: Env, route: string): Promise<number> {
  const stats = (await (await fetch(`${env.upstream.origin}/__admin/stats`)).json()) as {
    requests: Record<string, number>;
  };
  return stats.requests[route] ?? 0;
}

const HEADER: Cell[] = ['SKU', 'Product Name', 'category', 'BRAND', 'Unit Price', 'cost price'];

function issues(body: Record<string, unknown>) {
  return (body.errors as { row: number; column: string | null; value: string | null; message: string }[]).map(
    (e) => [e.row, e.column, e.value, e.message],
  );
}

describe('products: dry run, policies, commit', () => {
  test('a dry run reports every row against the catalogue and changes nothing', async (t) => {
    const env = await setup(t);
    const [p1, p2] = env.upstream.dataset.catalogue.list();
    const file = await workbook({
      name: 'Products',
      rows: [
        HEADER,
        [p1!.sku, p1!.name, p1!.category, p1!.brand, p1!.price, p1!.cost ?? null],
        [p2!.sku, p2!.name, p2!.category, p2!.brand, 1234.5, null],
        ['NEW-1', '  New tea ', ' Drinks ', 'Acme', '1,234.50', 2000],
        ['NEW-2', 'Bad price', 'Drinks', 'Acme', 12.345, null],
        [null, 'No SKU', 'Drinks', 'Acme', 3, null],
        ['NEW-1', 'Again', 'Drinks', 'Acme', 3, null],
        [null, null, null, null, null, null],
        ['NEW-3', 'Text price', 'Drinks', null, '€ 7,50', null],
      ],
    });
    const res = await upload(env, file, 'products.xlsx');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const b = res.body;
    assert.equal(b.status, 'validated');
    assert.deepEqual(
      [b.rows, b.valid, b.invalid, b.toCreate, b.toUpdate, b.unchanged],
      [7, 4, 3, 2, 1, 1],
      JSON.stringify(b),
    );
    assert.deepEqual(issues(b), [
      [5, 'Unit Price', '12.345', 'Unit Price has more than 2 decimals'],
      [6, 'SKU', null, 'SKU is required'],
      [7, 'SKU', 'NEW-1', 'SKU NEW-1 is also on row 4: each SKU once'],
    ]);
    const warnings = b.warnings as { row: number; message: string }[];
    assert.ok(warnings.some((w) => w.row === 4 && /cost 2000 is above the price 1234.5/.test(w.message)));
    const changes = b.changes as { row: number; action: string; key: string; changes?: unknown }[];
    assert.deepEqual(
      changes.map((c) => [c.row, c.action, c.key]),
      [
        [3, 'update', p2!.sku],
        [4, 'create', 'NEW-1'],
        [9, 'create', 'NEW-3'],
      ],
    );
    assert.deepEqual(changes[0]!.changes, { price: [p2!.price, 1234.5] });
    assert.equal((b.file as { sheet: string }).sheet, 'Products');
    assert.equal(await bulkCalls(env, 'POST /products/bulk'), 0);
    // The result is kept.
    const again = await getJson(env, `/api/v1/excel/imports/${b.importId}`);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.errors, b.errors);
  });

  test('reject_all: a commit with an invalid row pushes nothing and answers 422 with the rows to fix', async (t) => {
    const env = await setup(t);
    const file = await workbook({
      rows: [HEADER, ['NEW-1', 'Tea', 'Drinks', 'Acme', 3, 1], ['NEW-2', 'Tea', 'Drinks', 'Acme', -3, 1]],
    });
    const res = await upload(env, file, 'p.xlsx', { mode: 'commit' });
    assert.equal(res.status, 422);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(res.body.type, 'urn:salesflow:problem:import-rejected');
    assert.match(
      String(res.body.detail),
      /1 of 2 rows are invalid \(first: row 3: Unit Price must be at least 0\)/,
    );
    assert.deepEqual((res.body.rowErrors as unknown[]).length, 1);
    assert.equal(await bulkCalls(env, 'POST /products/bulk'), 0);
    assert.equal(
      env.upstream.dataset.catalogue.list().some((p) => p.sku === 'NEW-1'),
      false,
    );
    const stored = await getJson(env, `/api/v1/excel/imports/${res.body.importId}`);
    assert.equal(stored.body.status, 'rejected');
  });

  test('skip_invalid commits the valid rows, and the next catalogue answer has them', async (t) => {
    const env = await setup(t);
    // Warm the catalogue cache first: the commit must invalidate it.
    const before = await env.app.inject({
      url: '/api/v1/catalog/products?limit=5000',
      headers: auth('viewer'),
    });
    assert.equal(before.statusCode, 200);
    const total = (before.json() as { total: number }).total;
    const [p1] = env.upstream.dataset.catalogue.list();
    const file = await workbook({
      rows: [
        HEADER,
        [p1!.sku, 'Renamed', p1!.category, null, 9.99, null],
        ['NEW-1', 'Tea', 'Drinks', 'Acme', 3, 1],
        ['NEW-2', 'Tea', 'Drinks', 'Acme', 'abc', 1],
      ],
    });
    const res = await upload(env, file, 'p.xlsx', { mode: 'commit', onError: 'skip_invalid' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'committed');
    const commit = res.body.commit as Record<string, unknown>;
    assert.deepEqual(
      [commit.created, commit.updated, commit.failed, commit.notSent, commit.chunks],
      [1, 1, 0, 0, 1],
    );
    assert.deepEqual(commit.reachedUpstream, [{ fromRow: 2, toRow: 3 }]);
    const renamed = env.upstream.dataset.catalogue.list().find((p) => p.sku === p1!.sku)!;
    // Blank brand and cost kept what the system of record had.
    assert.deepEqual(
      [renamed.name, renamed.price, renamed.brand, renamed.cost],
      ['Renamed', 9.99, p1!.brand, p1!.cost],
    );
    const after = await env.app.inject({
      url: '/api/v1/catalog/products?limit=5000',
      headers: auth('viewer'),
    });
    assert.equal((after.json() as { total: number }).total, total + 1);
  });

  test('a chunk whose answer is lost is retried with its key and applied once', async (t) => {
    const env = await setup(t, { IMPORT_CHUNK_SIZE: '2' });
    const rows: Cell[][] = [HEADER];
    for (let i = 1; i <= 5; i++) rows.push([`RETRY-${i}`, `Item ${i}`, 'Drinks', 'Acme', i, null]);
    const sizeBefore = env.upstream.dataset.catalogue.size;
    // The second chunk is applied, then its answer is replaced by a 503.
    await fetch(`${env.upstream.origin}/__admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failAfterApply: 1 }),
    });
    const first = await upload(env, await workbook({ rows: rows.slice(0, 3) }), 'a.xlsx', { mode: 'commit' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const res = await upload(env, await workbook({ rows: [HEADER, ...rows.slice(3)] }), 'b.xlsx', {
      mode: 'commit',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const commit = res.body.commit as Record<string, number>;
    assert.deepEqual([commit.chunks, commit.created, commit.updated], [2, 3, 0]);
    assert.equal(env.upstream.dataset.catalogue.size, sizeBefore + 5);
    // 1 chunk for the first file, 2 for the second, plus the one retry.
    assert.equal(await bulkCalls(env, 'POST /products/bulk'), 4);
  });

  test('rows the system of record refuses are reported per row; the rest land', async (t) => {
    const env = await setup(t);
    await fetch(`${env.upstream.origin}/__admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refuseMatching: 'REFUSE-ME' }),
    });
    const file = await workbook({
      rows: [HEADER, ['OK-1', 'Tea', 'Drinks', 'Acme', 3, 1], ['REFUSE-ME', 'Tea', 'Drinks', 'Acme', 3, 1]],
    });
    const res = await upload(env, file, 'p.xlsx', { mode: 'commit' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'partial');
    const commit = res.body.commit as { failures: { row: number; message: string }[]; created: number };
    assert.equal(commit.created, 1);
    assert.deepEqual(
      commit.failures.map((f) => f.row),
      [3],
    );
    assert.match(commit.failures[0]!.message, /refused by the system of record/);
  });

  test('beyond the 1,000 refusals listed in the answer, the error workbook still says why each row failed', async (t) => {
    const env = await setup(t);
    await fetch(`${env.upstream.origin}/__admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refuseMatching: 'NO-' }),
    });
    const rows: Cell[][] = [HEADER];
    for (let i = 1; i <= 1_100; i++) rows.push([`NO-${i}`, `Item ${i}`, 'Drinks', 'Acme', 1, null]);
    const res = await upload(env, await workbook({ rows }), 'p.xlsx', { mode: 'commit' });
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
    const commit = res.body.commit as { failed: number; failures: unknown[] };
    assert.deepEqual([res.body.status, commit.failed, commit.failures.length], ['failed', 1_100, 1_000]);
    const { bytes } = await getBytes(env, `/api/v1/excel/imports/${res.body.importId}/errors.xlsx`);
    const back = (await readWorkbook(bytes)).slice(1);
    assert.equal(back.length, 1_100);
    assert.ok(
      back.every((r) => /refused by the system of record/.test(String(r[6]))),
      String(back.find((r) => !/refused/.test(String(r[6])))?.[6]),
    );
  });
});

describe('an interrupted commit', () => {
  test('says which rows reached the system of record, and the same file finishes the job', async (t) => {
    let posts = 0;
    let target = '';
    // In front of the sample upstream: the third bulk request onwards fails for good.
    const proxy = await startServer(t, async (req, res) => {
      if (req.method === 'POST' && ++posts >= 3) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"status":500,"error":"Internal Server Error"}');
        return;
      }
      const answer = await undiciRequest(target + req.url, {
        method: req.method as 'GET' | 'POST',
        headers: {
          'content-type': 'application/json',
          ...(req.headers['idempotency-key']
            ? { 'idempotency-key': String(req.headers['idempotency-key']) }
            : {}),
        },
        ...(req.method === 'POST' ? { body: req.body } : {}),
      });
      res.writeHead(answer.statusCode, { 'content-type': 'application/json' });
      res.end(await answer.body.text());
    });
    const env = await setup(t, { IMPORT_CHUNK_SIZE: '2', UPSTREAM_RETRIES: '1' }, async (u) => {
      target = u;
      return proxy.url;
    });
    const rows: Cell[][] = [HEADER];
    for (let i = 1; i <= 6; i++) rows.push([`CUT-${i}`, `Item ${i}`, 'Drinks', 'Acme', i, null]);
    const file = await workbook({ rows });
    const res = await upload(env, file, 'cut.xlsx', { mode: 'commit' });
    assert.equal(res.status, 502, JSON.stringify(res.body));
    assert.equal(res.body.type, 'urn:salesflow:problem:import-interrupted');
    assert.deepEqual(res.body.reachedUpstream, [{ fromRow: 2, toRow: 5 }]);
    assert.equal(res.body.notSent, 2);
    assert.match(String(res.body.detail), /Rows 2–5 reached the system of record; 2 rows were not sent/);
    assert.deepEqual(
      env.upstream.dataset.catalogue
        .list()
        .filter((p) => p.sku.startsWith('CUT-'))
        .map((p) => p.sku),
      ['CUT-1', 'CUT-2', 'CUT-3', 'CUT-4'],
    );
    const stored = await getJson(env, `/api/v1/excel/imports/${res.body.importId}`);
    assert.equal(stored.body.status, 'partial');
    // The error workbook holds the two rows that did not land.
    const { bytes } = await getBytes(env, `/api/v1/excel/imports/${res.body.importId}/errors.xlsx`);
    const back = await readWorkbook(bytes);
    assert.deepEqual(
      back.slice(1).map((r) => r[0]),
      ['CUT-5', 'CUT-6'],
    );
    assert.match(String(back[1]![6]), /not sent: the commit stopped/);
    // The upstream recovers; the same file again: 4 rows unchanged, 2 created.
    posts = -100;
    const again = await upload(env, file, 'cut.xlsx', { mode: 'commit' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual([again.body.unchanged, again.body.toCreate], [4, 2]);
  });
});

describe('the error workbook round trip', () => {
  test('download the rows with their errors, fix them, upload again: all valid', async (t) => {
    const env = await setup(t);
    const file = await workbook({
      rows: [
        ['Products export, 21 Nov 2026'],
        HEADER,
        ['RT-1', 'Tea', 'Drinks', 'Acme', 3, 1],
        ['RT-2', 'Coffee', 'Drinks', 'Acme', -4, 1],
        ['RT-3', null, 'Drinks', 'Acme', 5, 1],
      ],
    });
    const dry = await upload(env, file, 'catalogue.xlsx');
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.equal(dry.body.invalid, 2);
    assert.ok(
      (dry.body.warnings as { message: string }[]).some((w) => /rows 1–1 above the header/.test(w.message)),
    );
    const { headers, bytes } = await getBytes(env, `/api/v1/excel/imports/${dry.body.importId}/errors.xlsx`);
    assert.equal(headers.get('content-disposition'), 'attachment; filename="catalogue-errors.xlsx"');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    assert.deepEqual((ws.getRow(1).values as unknown[]).slice(1), [...HEADER, 'Import errors']);
    assert.equal(ws.getCell('G2').value, null);
    assert.equal(ws.getCell('G3').value, 'Unit Price must be at least 0');
    assert.equal(ws.getCell('G4').value, 'Product Name is required');
    // The cell at fault is shaded.
    assert.equal((ws.getCell('E3').fill as ExcelJS.FillPattern).fgColor?.argb, 'FFFDE2E2');
    ws.getCell('E3').value = 4;
    ws.getCell('B4').value = 'Cocoa';
    const fixed = Buffer.from(await wb.xlsx.writeBuffer());
    const again = await upload(env, fixed, 'catalogue-errors.xlsx', { mode: 'commit' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(
      [again.body.rows, again.body.valid, again.body.invalid, again.body.status],
      [3, 3, 0, 'committed'],
    );
  });
});

describe('stock and sales', () => {
  test('stock: by SKU or product id, created and updated, unknown store refused', async (t) => {
    const env = await setup(t);
    const [p1, p2] = env.upstream.dataset.catalogue.list();
    const existing = env.upstream.dataset.stock.list().find((s) => String(s.productId) === String(p2!.id))!;
    const csv =
      '\ufeffStore ID;SKU;Product ID;Qty;Reorder level\r\n' +
      `${existing.storeId};;${p2!.id};7,5;\n` +
      `1;${p1!.sku};;12;3\r\n` +
      `99;${p1!.sku};;1;0\n`;
    const res = await upload(env, csv, 'stock.csv', {
      kind: 'stock',
      mode: 'commit',
      onError: 'skip_invalid',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((res.body.file as { delimiter: string }).delimiter, ';');
    assert.deepEqual(issues(res.body), [[4, 'Store ID', '99', 'store 99 does not exist']]);
    const stock = (await (await fetch(`${env.upstream.url}/stock`)).json()) as {
      storeId: unknown;
      productId: unknown;
      quantity: number;
      reorderLevel: number;
    }[];
    const updated = stock.find(
      (s) => String(s.storeId) === String(existing.storeId) && String(s.productId) === String(p2!.id),
    )!;
    // A blank reorder level kept the current one.
    assert.deepEqual([updated.quantity, updated.reorderLevel], [7.5, existing.reorderLevel]);
    assert.ok(
      stock.some(
        (s) => String(s.storeId) === '1' && String(s.productId) === String(p1!.id) && s.quantity === 12,
      ),
    );
  });

  test('sales: checked against the catalogue, recorded lines not added twice, new ones visible', async (t) => {
    const env = await setup(t);
    const page = (await (
      await fetch(`${env.upstream.url}/sales?from=2026-06-10&to=2026-06-10&size=1`)
    ).json()) as {
      content: Record<string, unknown>[];
    };
    const recorded = page.content[0]!;
    const [p1] = env.upstream.dataset.catalogue.list();
    const header: Cell[] = [
      'Line ID',
      'Order',
      'Date',
      'Store',
      'SKU',
      'Product ID',
      'Qty',
      'Unit price',
      'Amount',
    ];
    const rows: Cell[][] = [
      header,
      [
        String(recorded.id),
        String(recorded.orderId),
        String(recorded.soldAt),
        String(recorded.storeId),
        null,
        String(recorded.productId),
        recorded.quantity as number,
        recorded.unitPrice as number,
        recorded.amount as number,
      ],
      ['IMP-1', 'IMP-O1', new Date(Date.UTC(2026, 5, 12, 23, 30)), '1', p1!.sku, null, 2, 2.5, 5],
      ['IMP-2', 'IMP-O1', '2026-06-12 23:45', '1', p1!.sku, null, 1, 2.5, 3],
      ['IMP-3', 'IMP-O2', '2026-06-12 10:00', '1', 'NOPE', null, 1, 2.5, 2.5],
    ];
    const dry = await upload(env, await workbook({ rows }), 'sales.xlsx', { kind: 'sales' });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual([dry.body.unchanged, dry.body.toCreate, dry.body.invalid], [1, 1, 2]);
    assert.deepEqual(
      issues(dry.body).map((i) => [i[0], i[3]]),
      [
        [4, 'Amount is more than quantity × unit price = 2.50'],
        [5, 'no product has SKU NOPE'],
      ],
    );
    const commit = await upload(env, await workbook({ rows: rows.slice(0, 3) }), 'sales.xlsx', {
      kind: 'sales',
      mode: 'commit',
    });
    assert.equal(commit.status, 200, JSON.stringify(commit.body));
    assert.deepEqual((commit.body.commit as { created: number }).created, 1);
    // 23:30 in Paris on 12 June is a sale of 12 June.
    const day = (await (
      await fetch(`${env.upstream.url}/sales?from=2026-06-12&to=2026-06-12&size=10000`)
    ).json()) as {
      content: Record<string, unknown>[];
    };
    const line = day.content.find((l) => l.id === 'IMP-1');
    assert.equal(line?.soldAt, '2026-06-12T23:30:00+02:00');
    // The same file again: nothing new.
    const again = await upload(env, await workbook({ rows: rows.slice(0, 3) }), 'sales.xlsx', {
      kind: 'sales',
      mode: 'commit',
    });
    assert.deepEqual([again.body.unchanged, (again.body.commit as { created: number }).created], [2, 0]);
  });
});

describe('templates', () => {
  test('each kind: headers, validation, example row skipped on upload', async (t) => {
    const env = await setup(t);
    for (const kind of ['products', 'stock', 'sales']) {
      const { headers, bytes } = await getBytes(env, `/api/v1/excel/template?kind=${kind}`);
      assert.equal(
        headers.get('content-disposition'),
        `attachment; filename="salesflow-${kind}-template.xlsx"`,
      );
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(bytes as unknown as ArrayBuffer);
      assert.deepEqual(
        wb.worksheets.map((w) => w.name),
        [kind.charAt(0).toUpperCase() + kind.slice(1), 'Instructions'],
      );
      const ws = wb.worksheets[0]!;
      assert.match(String(ws.getCell('A2').value), /^EXAMPLE-/);
      const validations = (ws as unknown as { dataValidations: { model: Record<string, unknown> } })
        .dataValidations.model;
      assert.ok(Object.keys(validations).length >= 3, `${kind}: ${Object.keys(validations)}`);
      const empty = await upload(env, bytes, `${kind}.xlsx`, { kind });
      assert.equal(empty.status, 400);
      assert.equal(empty.body.reason, 'empty-sheet');
    }
    const { bytes } = await getBytes(env, '/api/v1/excel/template?kind=products');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    wb.worksheets[0]!.addRow(['T-1', 'Tea', 'Drinks', 'Acme', 3, 1]);
    const filled = await upload(env, Buffer.from(await wb.xlsx.writeBuffer()), 'filled.xlsx');
    assert.equal(filled.status, 200, JSON.stringify(filled.body));
    assert.deepEqual([filled.body.rows, filled.body.valid], [1, 1]);
    assert.ok(
      (filled.body.warnings as { message: string }[]).some((w) => /example row: skipped/.test(w.message)),
    );
  });
});

describe('large files run as jobs', () => {
  test('202, then progress, then the same result a small file gets', async (t) => {
    const env = await setup(t, { IMPORT_INLINE_MAX_KB: '0' });
    const rows: Cell[][] = [HEADER];
    for (let i = 1; i <= 300; i++) rows.push([`JOB-${i}`, `Item ${i}`, 'Drinks', 'Acme', i, null]);
    const res = await upload(env, await workbook({ rows }), 'big.xlsx', { mode: 'commit' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.headers.get('location'), res.body.statusUrl);
    const body = await waitForImport(env, String(res.body.statusUrl));
    assert.equal(body.status, 'committed', JSON.stringify(body));
    assert.equal((body.commit as { created: number }).created, 300);
  });
});

describe('bad input', () => {
  test('each gets a problem that says what to fix, and leaves nothing behind', async (t) => {
    const env = await setup(t, { IMPORT_MAX_FILE_MB: '1', IMPORT_MAX_ROWS: '5' });
    const expect = async (answer: Promise<Answer>, status: number, pattern: RegExp, reason?: string) => {
      const res = await answer;
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(String(res.body.detail), pattern);
      if (reason) assert.equal(res.body.reason, reason);
      assert.match(String(res.body.type), /^urn:salesflow:problem:/);
    };
    const many = (n: number) => [
      HEADER,
      ...Array.from({ length: n }, (_, i) => [`S${i}`, 'x', 'y', 'z', 1, null]),
    ];

    await expect(
      upload(env, Buffer.alloc(1_200_000, 'a'), 'big.csv'),
      413,
      /larger than 1 MB \(IMPORT_MAX_FILE_MB\)/,
    );
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(100),
    ]);
    await expect(upload(env, png, 'products.xlsx'), 415, /./);
    const ole = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(600)]);
    await expect(upload(env, ole, 'old.xls'), 415, /\.xlsx/);
    const bomb = zip([
      ...workbookSkeleton(),
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(80_000_000) },
    ]);
    assert.ok(bomb.length < 200_000);
    await expect(upload(env, bomb, 'bomb.xlsx'), 400, /./, 'zip-bomb');
    await expect(
      upload(env, await workbook({ rows: many(6) }), 'p.xlsx'),
      400,
      /more than 5 data rows/,
      'too-many-rows',
    );
    await expect(upload(env, await workbook({ rows: [] }), 'p.xlsx'), 400, /empty/, 'empty-sheet');
    await expect(
      upload(env, await workbook({ rows: [HEADER] }), 'p.xlsx'),
      400,
      /no data rows/,
      'empty-sheet',
    );
    await expect(
      upload(
        env,
        await workbook({
          rows: [
            [1, 2, 3],
            [4, 5, 6],
          ],
        }),
        'p.xlsx',
      ),
      400,
      /add a header row/,
      'no-header',
    );
    await expect(
      upload(
        env,
        await workbook({
          rows: [
            ['SKU', 'Name', 'Name', 'Category', 'Price'],
            ['a', 'b', 'c', 'd', 1],
          ],
        }),
        'p.xlsx',
      ),
      400,
      /columns B and C are both headed "Name"/,
      'duplicate-headers',
    );
    await expect(
      upload(
        env,
        await workbook({
          rows: [
            ['SKU', 'Name', 'Colour'],
            ['a', 'b', 'c'],
          ],
        }),
        'p.xlsx',
      ),
      400,
      /no column for Category, Price/,
      'missing-columns',
    );
    await expect(
      upload(
        env,
        await workbook({ rows: [...many(2), ['m', null, 'y', 'z', 1, null]], merges: ['A3:A4'] }),
        'p.xlsx',
      ),
      400,
      /A3:A4/,
      'merged-cells',
    );
    await expect(
      upload(env, await workbook({ rows: many(2) }), 'p.xlsx', { sheet: 'Nope' }),
      400,
      /Sheet1/,
      'sheet-not-found',
    );
    await expect(
      upload(env, await workbook({ rows: many(2) }), 'p.xlsx', { kind: 'customers' }),
      400,
      /query.kind/,
    );
    const noFile = await fetch(`${env.base}/api/v1/excel/upload`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.admin },
      body: (() => {
        const f = new FormData();
        f.append('kind', 'products');
        return f;
      })(),
    });
    assert.equal(noFile.status, 400);
    const json = await fetch(`${env.base}/api/v1/excel/upload`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(json.status, 415);
    const viewer = await fetch(`${env.base}/api/v1/excel/upload`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.viewer },
    });
    assert.equal(viewer.status, 403);
    // Nothing of the refused uploads stays on disk.
    const left = await readdir(join(env.exportsDir, 'imports')).catch(() => []);
    assert.deepEqual(left, []);
  });

  test('a refused upload does not break its keep-alive connection for the next request', async (t) => {
    const env = await setup(t, { IMPORT_MAX_FILE_MB: '1' });
    // One connection: each request must find it clean (or closed) after the one before was refused.
    const client = new Client(env.base, { pipelining: 1 });
    t.after(() => client.close());
    const send = async (file: Buffer, name: string) => {
      const form = new UndiciFormData();
      form.append('file', new Blob([new Uint8Array(file)]), name);
      const res = await client.request({
        method: 'POST',
        path: '/api/v1/excel/upload',
        headers: { 'x-api-key': KEYS.admin },
        body: form,
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      await res.body.text();
      return res.statusCode;
    };
    const ole = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(600)]);
    const ok = await workbook({ rows: [HEADER, ['K-1', 'x', 'y', 'z', 1, null]] });
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(100)]);
    for (let i = 0; i < 10; i++) {
      assert.equal(await send(Buffer.alloc(1_200_000, 'a'), 'big.csv'), 413);
      assert.equal(await send(png, 'products.xlsx'), 415);
      assert.equal(await send(ole, 'old.xls'), 415);
      assert.equal(await send(ok, 'p.xlsx'), 200);
    }
  });

  test('hidden sheets are passed over; sheet= picks one; CSV BOM, delimiter and mixed line endings', async (t) => {
    const env = await setup(t);
    const file = await workbook(
      { name: 'Old', state: 'hidden', rows: [HEADER, ['H-1', 'x', 'y', 'z', 1, null]] },
      { name: 'Current', rows: [HEADER, ['C-1', 'x', 'y', 'z', 1, null], ['C-2', 'x', 'y', 'z', 2, null]] },
    );
    const first = await upload(env, file, 'p.xlsx');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((first.body.file as { sheet: string }).sheet, 'Current');
    assert.ok((first.body.warnings as { message: string }[]).some((w) => /hidden/.test(w.message)));
    const named = await upload(env, file, 'p.xlsx', { sheet: 'old' });
    assert.deepEqual([(named.body.file as { sheet: string }).sheet, named.body.rows], ['Old', 1]);
    const csv =
      '\ufeffsku\tname\tcategory\tprice\r\nA\tTea, green\tDrinks\t3.50\nB\t"Two\nlines"\tDrinks\t4\r\n';
    const res = await upload(env, csv, 'p.csv', {}, { kind: 'products' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      [res.body.rows, res.body.valid, (res.body.file as { delimiter: string }).delimiter],
      [2, 2, '\t'],
    );
  });
});

describe('shared mode', () => {
  test('the API stores and enqueues, a worker imports, both read the same result', async (t) => {
    const { startRedis, uniquePrefix } = await import('./helpers/redis.ts');
    const { startInProcessWorker } = await import('./helpers/worker.ts');
    const { testDatabaseUrl } = await import('./helpers/postgres.ts');
    const redis = await startRedis();
    t.after(() => redis.stop());
    const shared = {
      DATABASE_URL: await testDatabaseUrl(t, 'imports'),
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix('imports'),
      IMPORT_INLINE_MAX_KB: '0',
    };
    const env = await setup(t, shared);
    // The worker: its own container, as src/worker.ts builds it, over the same EXPORTS_DIR.
    startInProcessWorker(t, { ...shared, UPSTREAM_URL: env.upstream.url, EXPORTS_DIR: env.exportsDir });
    const rows: Cell[][] = [HEADER];
    for (let i = 1; i <= 50; i++) rows.push([`SH-${i}`, `Item ${i}`, 'Drinks', 'Acme', i, null]);
    rows.push(['SH-BAD', 'Bad', 'Drinks', 'Acme', -1, null]);
    const res = await upload(env, await workbook({ rows }), 'shared.xlsx', {
      mode: 'commit',
      onError: 'skip_invalid',
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const body = await waitForImport(env, String(res.body.statusUrl));
    assert.equal(body.status, 'committed', JSON.stringify(body));
    assert.deepEqual([body.invalid, (body.commit as { created: number }).created], [1, 50]);
    const { bytes } = await getBytes(env, `${String(res.body.statusUrl)}/errors.xlsx`);
    assert.deepEqual(
      (await readWorkbook(bytes)).slice(1).map((r) => r[0]),
      ['SH-BAD'],
    );
  });
});
