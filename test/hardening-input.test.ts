/**
 * Bad input that used to get a 500 (or a job that failed three times): dates outside the supported
 * range on every endpoint that takes one, malformed multipart uploads, oversized request heads.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import { SUPPORTED_DAYS } from '../src/lib/calendar.ts';
import { auth, build } from './helpers/app.ts';
import { tinyUpstream } from './helpers/small-upstream.ts';

type Injected = Awaited<ReturnType<Awaited<ReturnType<typeof build>>['inject']>>;

function problem(res: Injected, status: number): Record<string, unknown> {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  return res.json() as Record<string, unknown>;
}

function assertNamesField(res: Injected, path: string) {
  const body = problem(res, 400);
  assert.equal(body.type, 'urn:salesflow:problem:validation-failed');
  const errors = body.errors as { path: string; message: string }[];
  const hit = errors.find((e) => e.path === path);
  assert.ok(hit, `${path} named in ${JSON.stringify(errors)}`);
  assert.match(hit.message, new RegExp(`${SUPPORTED_DAYS.from} and ${SUPPORTED_DAYS.to}`));
}

describe('dates outside the supported range are a 400 naming the field', () => {
  const outside = ['0000-01-01', '0099-12-31', '1899-12-31', '2200-01-01'];

  test('analytics queries and sync bodies', async (t) => {
    const app = await build(t);
    for (const d of outside) {
      assertNamesField(
        await app.inject({
          url: `/api/v1/analytics/sales?groupBy=store&from=${d}&to=2026-01-02`,
          headers: auth('viewer'),
        }),
        'query.from',
      );
      assertNamesField(
        await app.inject({ url: `/api/v1/analytics/sales?to=${d}`, headers: auth('viewer') }),
        'query.to',
      );
      assertNamesField(
        await app.inject({
          method: 'POST',
          url: '/api/v1/sync',
          headers: auth('admin'),
          payload: { from: d },
        }),
        'body.from',
      );
    }
  });

  test('report and forecast bodies', async (t) => {
    const app = await build(t);
    for (const d of outside) {
      assertNamesField(
        await app.inject({
          method: 'POST',
          url: '/api/v1/reports/generate',
          headers: auth('analyst'),
          payload: { type: 'daily', format: 'pdf', date: d },
        }),
        'body.date',
      );
      assertNamesField(
        await app.inject({
          method: 'POST',
          url: '/api/v1/reports/generate',
          headers: auth('analyst'),
          payload: { type: 'sales_lines', format: 'csv', from: d, to: '2026-01-01' },
        }),
        'body.from',
      );
      assertNamesField(
        await app.inject({
          method: 'POST',
          url: '/api/v1/ml/forecast',
          headers: auth('viewer'),
          payload: { history: { to: d } },
        }),
        'body.history.to',
      );
    }
  });

  test('the bounds themselves are accepted by validation', async (t) => {
    const app = await build(t);
    for (const d of [SUPPORTED_DAYS.from, SUPPORTED_DAYS.to]) {
      const res = await app.inject({
        url: `/api/v1/analytics/sales?from=${d}&to=${d}`,
        headers: auth('viewer'),
      });
      // The upstream of this test app is unreachable: anything but a 400 passed validation.
      assert.notEqual(res.statusCode, 400, res.body);
      assert.notEqual(res.statusCode, 500, res.body);
    }
  });
});

describe('malformed multipart uploads are a 400', () => {
  const boundary = 'XbOuNdArYx';
  const part = (name: string, file: string, body: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file}"\r\n` +
    `Content-Type: text/csv\r\n\r\n${body}\r\n`;
  const csv = 'SKU,Product Name,Category,Price\nA-1,Thing,Misc,1.50\n';

  async function send(app: Awaited<ReturnType<typeof build>>, contentType: string, payload: string) {
    return app.inject({
      method: 'POST',
      url: '/api/v1/excel/upload?kind=products',
      headers: { ...auth('admin'), 'content-type': contentType },
      payload,
    });
  }

  test('no boundary, a body cut before its closing boundary, two files', async (t) => {
    // A reachable system of record, so that the first of two files is read to its end (a dry run).
    const upstream = await tinyUpstream(t);
    const app = await build(t, { UPSTREAM_URL: upstream.url });
    const noBoundary = problem(await send(app, 'multipart/form-data', part('file', 'a.csv', csv)), 400);
    assert.match(String(noBoundary.detail), /boundary/i);

    const cut = problem(
      await send(app, `multipart/form-data; boundary=${boundary}`, part('file', 'a.csv', csv).slice(0, -10)),
      400,
    );
    assert.match(String(cut.detail), /ended|truncated|incomplete/i);

    const twoFiles = problem(
      await send(
        app,
        `multipart/form-data; boundary=${boundary}`,
        `${part('file', 'a.csv', csv)}${part('file', 'b.csv', csv)}--${boundary}--\r\n`,
      ),
      400,
    );
    assert.match(String(twoFiles.detail), /one file/i);

    // The well-formed version of the same request is imported (a dry run).
    const fine = await send(
      app,
      `multipart/form-data; boundary=${boundary}`,
      `${part('file', 'a.csv', csv)}--${boundary}--\r\n`,
    );
    assert.equal(fine.statusCode, 200, fine.body);
  });
});

test('oversized request heads get a 431 problem+json', async (t) => {
  const app = await build(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const answer = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  for (const [path, headers] of [
    ['/health', { 'x-filler': 'x'.repeat(20_000) }],
    [`/health?q=${'y'.repeat(20_000)}`, {}],
  ] as const) {
    const res = await answer(path, headers);
    assert.equal(res.status, 431);
    assert.match(res.type, /^application\/problem\+json/);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(body.status, 431);
    assert.equal(body.type, 'urn:salesflow:problem:request-header-fields-too-large');
  }
});

test('import: a cell over 32,767 characters is a row error, echoed in 200 characters', async (t) => {
  const upstream = await tinyUpstream(t);
  const app = await build(t, { UPSTREAM_URL: upstream.url });
  const long = 'x'.repeat(40_000);
  const csv =
    'SKU,Product Name,Category,Price,Notes\n' +
    `A-1,${long},Misc,1.50,\n` + // a read column
    `A-2,Thing,Misc,2.50,${long}\n` + // a column the import does not read
    'A-3,Fine,Misc,3.50,short\n';
  const boundary = 'LoNgCeLlS';
  const payload =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\n` +
    `Content-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`;
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/excel/upload?kind=products&onError=skip_invalid',
    headers: { ...auth('admin'), 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload,
  });
  assert.equal(res.statusCode, 200, res.body.slice(0, 500));
  assert.ok(res.body.length < 10_000, `the answer is ${res.body.length} bytes`);
  const body = res.json() as {
    importId: string;
    errors: { row: number; column: string; value: string; message: string }[];
  };
  const byRow = new Map(body.errors.map((e) => [e.row, e]));
  assert.equal(byRow.get(2)?.column, 'Product Name');
  assert.match(byRow.get(2)!.message, /40000 characters, more than the 32767/);
  assert.equal(byRow.get(2)!.value.length, 201); // 200 characters and an ellipsis
  assert.equal(byRow.get(3)?.column, 'Notes');
  assert.equal(byRow.has(4), false);

  const again = await app.inject({ url: `/api/v1/excel/imports/${body.importId}`, headers: auth('admin') });
  assert.equal(again.statusCode, 200);
  assert.ok(again.body.length < 10_000, `the stored result is ${again.body.length} bytes`);
});
