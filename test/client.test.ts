/**
 * The typed client: client/schema.d.ts is what `npm run client` generates now, the sample usage
 * (client/example.ts) works against the real API with the key header set, and the types refuse
 * misuse (checked with the TypeScript compiler on a file that must not compile).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import ts from 'typescript';
import { storesAndRevenue } from '../client/example.ts';
import { createSalesflowClient } from '../client/index.ts';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { CLIENT_SCHEMA_PATH, renderClientSchema } from '../scripts/client-schema.ts';
import { auth, build, KEYS } from './helpers/app.ts';

let upstream: RunningSampleUpstream;
before(async () => {
  upstream = await createSampleUpstream({
    port: 0,
    seed: 8,
    stores: 3,
    products: 15,
    days: 20,
    linesPerDay: 100,
    endDate: '2026-06-14',
    logger: false,
  });
});
after(() => upstream?.close());

test('client/schema.d.ts is up to date (run `npm run client` after `npm run openapi`)', async () => {
  const committed = readFileSync(CLIENT_SCHEMA_PATH, 'utf8');
  assert.equal(committed, await renderClientSchema(), 'client/schema.d.ts is stale: run `npm run client`');
});

test('the sample usage runs against the API: the key header is set, answers and problems are typed', async (t) => {
  const app = await build(t, { UPSTREAM_URL: upstream.url, ANALYTICS_TODAY: '2026-06-15' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  const base = `http://127.0.0.1:${address.port}/`;

  const out = await storesAndRevenue(base, KEYS.viewer);
  assert.equal(out.total, 3);
  assert.equal(out.names.length, 3);
  assert.equal(out.notFound, 404);
  const direct = await app.inject({
    url: '/api/v1/analytics/sales?from=2026-06-01&to=2026-06-07&groupBy=store',
    headers: auth('viewer'),
  });
  assert.equal(out.revenue, direct.json().kpis.revenue);
  assert.ok(out.revenue > 0);

  const wrong = createSalesflowClient({ baseUrl: base, apiKey: 'not-a-valid-key-000' });
  const refused = await wrong.GET('/api/v1/catalog/stores', { headers: { 'x-api-key': KEYS.admin } });
  assert.equal(refused.response.status, 401, 'the configured key wins over a per-call header');
  assert.equal(refused.error?.type, 'urn:salesflow:problem:unauthorized');
});

test('the generated types refuse misuse: unknown paths, wrong parameter types, unknown fields', () => {
  const dir = resolve('client');
  const misuse = resolve(dir, '__misuse__.ts');
  const source = `
import { createSalesflowClient } from './index.ts';
const api = createSalesflowClient({ baseUrl: 'http://x', apiKey: 'k' });
export async function misuse() {
  await api.GET('/api/v1/no-such-path');
  await api.GET('/api/v1/catalog/stores', { params: { query: { limit: 'ten' } } });
  const r = await api.GET('/api/v1/analytics/sales', { params: { query: { compare: 'last_century' } } });
  if (r.data) r.data.kpis.noSuchKpi;
  await api.POST('/api/v1/reports/generate', { body: { type: 'daily' } });
}
`;
  const config = ts.getParsedCommandLineOfConfigFile(
    'tsconfig.json',
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) =>
        assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  );
  assert.ok(config);
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    resolve(name) === misuse
      ? ts.createSourceFile(name, source, version)
      : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === misuse || fileExists(name);
  const program = ts.createProgram([misuse], { ...config.options, noEmit: true }, host);
  const errors = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && resolve(d.file.fileName) === misuse)
    .map((d) => `${d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line}`);
  // One error on each misuse line (lines 4 to 8 of the source, 0-based: 4, 5, 6, 7, 8).
  assert.deepEqual([...new Set(errors)].sort(), ['4', '5', '6', '7', '8']);

  // And the sample usage itself compiles cleanly in the same program settings.
  const clean = ts.createProgram([resolve(dir, 'example.ts')], { ...config.options, noEmit: true });
  assert.deepEqual(
    ts.getPreEmitDiagnostics(clean).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    [],
  );
});
