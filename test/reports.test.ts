/**
 * Report jobs end to end over the sample upstream (embedded mode: the in-process runner):
 * generate → status → download, deduplication, the figures in the files equal the API's,
 * determinism, path traversal, signed links.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import ExcelJS from 'exceljs';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { parseDay } from '../src/lib/calendar.ts';
import { downloadName } from '../src/services/reports/report-service.ts';
import { auth, build } from './helpers/app.ts';

let upstream: RunningSampleUpstream;
let exportsDir: string;
before(async () => {
  upstream = await createSampleUpstream({
    port: 0,
    seed: 11,
    stores: 5,
    products: 40,
    days: 90,
    linesPerDay: 400,
    endDate: '2026-06-14',
    logger: false,
  });
  exportsDir = await mkdtemp(join(tmpdir(), 'salesflow-reports-'));
});
after(async () => {
  await upstream?.close();
  await rm(exportsDir, { recursive: true, force: true });
});

const env = () => ({
  UPSTREAM_URL: upstream.url,
  ANALYTICS_TODAY: '2026-06-15',
  EXPORTS_DIR: exportsDir,
  REPORT_LINK_SECRET: 'a-test-secret-of-at-least-32-characters!',
});
type App = Awaited<ReturnType<typeof build>>;

async function generate(app: App, payload: Record<string, unknown>) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/reports/generate',
    headers: auth('analyst'),
    payload,
  });
  assert.equal(res.statusCode, 202, res.body);
  return res.json() as {
    jobId: string;
    status: string;
    created: boolean;
    statusUrl: string;
    downloadUrl: string;
  };
}

async function waitDone(app: App, jobId: string) {
  for (let i = 0; i < 300; i++) {
    const res = await app.inject({ url: `/api/v1/reports/status/${jobId}`, headers: auth('viewer') });
    const body = res.json();
    if (body.state === 'completed' || body.state === 'failed') return body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${jobId} did not finish`);
}

test('a daily XLSX: queued, completed, downloaded; its store rows equal the analytics API', async (t) => {
  const app = await build(t, env());
  const job = await generate(app, { type: 'daily', format: 'xlsx', date: '2026-06-10' });
  assert.match(job.jobId, /^rep-/);
  assert.equal(job.created, true);
  const done = await waitDone(app, job.jobId);
  assert.equal(done.state, 'completed', done.error);
  assert.equal(done.type, 'daily');
  assert.equal(done.progress, 100);
  assert.ok(done.file.bytes > 1000);

  const file = await app.inject({ url: job.downloadUrl, headers: auth('viewer') });
  assert.equal(file.statusCode, 200);
  assert.equal(
    file.headers['content-type'],
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  );
  assert.equal(Number(file.headers['content-length']), done.file.bytes);
  assert.match(
    String(file.headers['content-disposition']),
    /attachment; filename="salesflow-daily-2026-06-10-all-stores\.xlsx"/,
  );
  assert.equal(createHash('sha256').update(file.rawPayload).digest('hex'), done.file.sha256);

  const api = (
    await app.inject({
      url: '/api/v1/analytics/sales?from=2026-06-10&to=2026-06-10&groupBy=store&compare=rolling_7d&limit=5000',
      headers: auth('viewer'),
    })
  ).json();
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(file.rawPayload as unknown as ArrayBuffer);
  const sheet = wb.worksheets.find((w) => /store/i.test(w.name) && !/revenue/i.test(w.name));
  assert.ok(sheet, `a store sheet among ${wb.worksheets.map((w) => w.name).join(', ')}`);
  const cells: string[] = [];
  sheet.eachRow((row) => {
    cells.push(JSON.stringify(row.values));
  });
  const text = cells.join('\n');
  for (const row of api.rows as { labels: { store: string }; revenue: number; orders: number }[]) {
    assert.ok(text.includes(JSON.stringify(row.labels.store)), `store ${row.labels.store} in the sheet`);
    assert.ok(
      text.includes(String(row.revenue)),
      `revenue ${row.revenue} of ${row.labels.store} in the sheet`,
    );
  }
  assert.ok(text.includes(String(api.kpis.revenue)), 'the total revenue');

  // The same request over the same data: the same job, not a second rendering.
  const again = await generate(app, { type: 'daily', format: 'xlsx', date: '2026-06-10' });
  assert.equal(again.jobId, job.jobId);
  assert.equal(again.created, false);
  // force: a new job, produced later: the same figures, its own production time.
  const forced = await generate(app, { type: 'daily', format: 'xlsx', date: '2026-06-10', force: true });
  assert.notEqual(forced.jobId, job.jobId);
  const forcedDone = await waitDone(app, forced.jobId);
  const forcedFile = await app.inject({ url: forced.downloadUrl, headers: auth('viewer') });
  const forcedWb = new ExcelJS.Workbook();
  await forcedWb.xlsx.load(forcedFile.rawPayload as unknown as ArrayBuffer);
  const contents = (book: ExcelJS.Workbook) =>
    book.worksheets.map((ws) => {
      const rows: unknown[] = [];
      ws.eachRow((row) => {
        if (!String(row.getCell(1).value).startsWith('Produced at')) rows.push(row.values);
      });
      return [ws.name, rows];
    });
  assert.deepEqual(contents(forcedWb), contents(wb), 'same data, same figures');
  const producedAt = (book: ExcelJS.Workbook) => {
    let at: Date | undefined;
    book.getWorksheet('Summary')?.eachRow((row) => {
      if (row.getCell(1).value === 'Produced at (UTC)') at = row.getCell(2).value as Date;
    });
    return at!;
  };
  assert.ok(producedAt(forcedWb) >= producedAt(wb), 'each job says when it was produced');
  assert.ok(
    Math.abs(producedAt(wb).getTime() - Date.parse(done.createdAt)) < 2_000,
    `produced at ${producedAt(wb).toISOString()}: when the job was asked for (${done.createdAt}), not the data time`,
  );
  assert.notEqual(forcedDone.file.sha256, undefined);

  const list = await app.inject({ url: '/api/v1/reports?limit=10', headers: auth('viewer') });
  assert.equal(list.statusCode, 200);
  assert.ok(list.json().jobs.some((j: { jobId: string }) => j.jobId === job.jobId));
});

test('a weekly PDF renders, is deterministic, and holds the API figures', async (t) => {
  const app = await build(t, env());
  const job = await generate(app, { type: 'weekly', format: 'pdf', date: '2026-06-10' });
  const done = await waitDone(app, job.jobId);
  assert.equal(done.state, 'completed', done.error);
  const file = await app.inject({ url: job.downloadUrl, headers: auth('viewer') });
  assert.equal(file.headers['content-type'], 'application/pdf');
  assert.equal(file.rawPayload.subarray(0, 5).toString('latin1'), '%PDF-');
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const pdf = await getDocument({ data: new Uint8Array(file.rawPayload) }).promise;
  let text = '';
  for (let p = 1; p <= pdf.numPages; p++) {
    const content = await (await pdf.getPage(p)).getTextContent();
    text += content.items.map((i) => ('str' in i ? i.str : '')).join(' ');
  }
  text = text.replace(/\s+/g, ' ');
  const api = (
    await app.inject({
      url: '/api/v1/analytics/sales?from=2026-06-01&to=2026-06-07&groupBy=store',
      headers: auth('viewer'),
    })
  ).json();
  const money = (v: number) =>
    v.toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  assert.ok(text.includes(money(api.kpis.revenue)), `total revenue ${money(api.kpis.revenue)} in the PDF`);
  for (const row of api.rows as { labels: { store: string }; revenue: number }[]) {
    assert.ok(text.includes(row.labels.store), `store ${row.labels.store}`);
    assert.ok(text.includes(money(row.revenue)), `revenue ${money(row.revenue)} of ${row.labels.store}`);
  }
});

test('downloads serve only files this service produced', async (t) => {
  const app = await build(t, env());
  const bad = [
    '../package.json',
    '..%2fpackage.json',
    '%2e%2e%2fpackage.json',
    '%252e%252e%252fpackage.json',
    '/etc/passwd',
    '%2Fetc%2Fpasswd',
    '..\\..\\package.json',
    'rep-abcdefgh.pdf%00.txt',
    'rep-abcdefgh.pdf\u0000',
    'rep-doesnotexist12.pdf',
    '',
  ];
  for (const name of bad) {
    const res = await app.inject({ url: `/api/v1/reports/download?file=${name}`, headers: auth('viewer') });
    assert.ok(
      res.statusCode === 400 || res.statusCode === 404,
      `${JSON.stringify(name)} → ${res.statusCode}`,
    );
    assert.match(String(res.headers['content-type']), /problem\+json/);
  }
  for (const id of ['..%2F..%2Fpackage.json', 'rep-..%2f..%2fx', '%2e%2e']) {
    const res = await app.inject({ url: `/api/v1/reports/${id}/download`, headers: auth('viewer') });
    assert.ok(res.statusCode === 400 || res.statusCode === 404, `${id} → ${res.statusCode}`);
  }
  const unknown = await app.inject({
    url: '/api/v1/reports/status/rep-unknownjob123',
    headers: auth('viewer'),
  });
  assert.equal(unknown.statusCode, 404);
});

test('signed links work without a key until they expire; tampered ones are refused', async (t) => {
  const app = await build(t, env());
  const job = await generate(app, { type: 'sales_stock', format: 'xlsx' });
  const done = await waitDone(app, job.jobId);
  assert.equal(done.state, 'completed', done.error);
  const signed = await app.inject({ url: done.file.signedUrl });
  assert.equal(signed.statusCode, 200);
  const tampered = done.file.signedUrl.replace(
    /sig=(.)/,
    (_: string, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`,
  );
  assert.equal((await app.inject({ url: tampered })).statusCode, 403);
  const u = new URL(done.file.signedUrl, 'http://x');
  const otherExpiry = `${u.pathname}?expires=${Number(u.searchParams.get('expires')) + 60}&sig=${u.searchParams.get('sig')}`;
  assert.equal((await app.inject({ url: otherExpiry })).statusCode, 403);
  assert.equal((await app.inject({ url: job.downloadUrl })).statusCode, 401);
});

test('report requests are validated; a viewer may not generate', async (t) => {
  const app = await build(t, env());
  const cases: [unknown, string][] = [
    [{ type: 'daily', format: 'docx' }, 'body.format'],
    [{ type: 'hourly', format: 'pdf' }, 'body.type'],
    [{ type: 'sales_lines', format: 'pdf' }, 'body.format'],
    [{ type: 'daily', format: 'csv' }, 'body.format'],
    [{ type: 'sales_stock', format: 'pdf', from: '2026-06-10', to: '2026-06-01' }, 'body.from'],
    [{ type: 'daily', format: 'pdf', date: '2026-02-30' }, 'body.date'],
    [{ type: 'daily', format: 'pdf', filters: { storeId: [] } }, 'body.filters.storeId'],
  ];
  for (const [payload, path] of cases) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/reports/generate',
      headers: auth('analyst'),
      payload: payload as object,
    });
    assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
    assert.ok(
      (res.json().errors as { path: string }[]).some((e) => e.path === path),
      `${JSON.stringify(payload)} names ${path}: ${res.body}`,
    );
  }
  const viewer = await app.inject({
    method: 'POST',
    url: '/api/v1/reports/generate',
    headers: auth('viewer'),
    payload: { type: 'daily', format: 'pdf' },
  });
  assert.equal(viewer.statusCode, 403);
});

test('shared mode: the API enqueues to Redis, a worker renders, the API serves the file; Redis down → 503', async (t) => {
  const { startRedis, uniquePrefix } = await import('./helpers/redis.ts');
  const { startInProcessWorker } = await import('./helpers/worker.ts');
  const { testDatabaseUrl } = await import('./helpers/postgres.ts');
  const redis = await startRedis();
  t.after(() => redis.stop());
  const sharedEnv = {
    ...env(),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: uniquePrefix('reports'),
    DATABASE_URL: await testDatabaseUrl(t, 'reports'),
  };
  const app = await build(t, sharedEnv);
  // The worker process, in this test process: its own container, as src/worker.ts builds it.
  startInProcessWorker(t, { ...sharedEnv, API_KEYS: 'worker-key-0001:viewer' });

  const job = await generate(app, { type: 'monthly', format: 'xlsx', date: '2026-06-10' });
  const done = await waitDone(app, job.jobId);
  assert.equal(done.state, 'completed', done.error);
  const file = await app.inject({ url: job.downloadUrl, headers: auth('viewer') });
  assert.equal(file.statusCode, 200);
  assert.equal(createHash('sha256').update(file.rawPayload).digest('hex'), done.file.sha256);

  if (!redis.kill) return;
  await redis.kill();
  const started = Date.now();
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/reports/generate',
    headers: auth('analyst'),
    payload: { type: 'weekly', format: 'pdf', date: '2026-06-10', force: true },
  });
  assert.equal(res.statusCode, 503, res.body);
  assert.equal(res.json().type, 'urn:salesflow:problem:queue-unavailable');
  assert.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`);
  await redis.restart?.();
});

test('file names carry the type, the period (defaults resolved) and the scope, never "latest"', () => {
  const today = parseDay('2026-12-03')!;
  const name = (r: Record<string, unknown>) => downloadName(r as Parameters<typeof downloadName>[0], today);
  assert.equal(
    name({ type: 'daily', format: 'pdf', filters: { storeId: ['7'] } }),
    'salesflow-daily-2026-12-02-store-7.pdf',
  );
  assert.equal(
    name({ type: 'weekly', format: 'xlsx', date: '2026-12-02' }),
    'salesflow-weekly-2026-W48-all-stores.xlsx',
  );
  assert.equal(name({ type: 'monthly', format: 'pdf' }), 'salesflow-monthly-2026-11-all-stores.pdf');
  assert.equal(
    name({ type: 'sales_stock', format: 'pdf', filters: { region: ['Île-de-France'], category: ['Tea'] } }),
    'salesflow-sales-stock-2026-11-03_2026-12-02-region-ile-de-france-category-tea.pdf',
  );
  assert.equal(
    name({ type: 'sales_lines', format: 'csv', from: '2026-11-01', to: '2026-11-30' }),
    'salesflow-sales-lines-2026-11-01_2026-11-30-all-stores.csv',
  );
});
