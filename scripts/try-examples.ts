/**
 * `npm run openapi:examples [-- <base URL> <API key>]`: sends every operation's example from the
 * OpenAPI document (see openapi-examples.ts) and fails unless each answers 2xx. Without arguments it
 * starts a small sample upstream and the API itself (embedded mode, a temporary exports folder); with
 * them it tries a running API, such as `npm run demo` (key: an admin's, e.g. demo-admin-key).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSampleUpstream } from '../sample-upstream/server.ts';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { sendExamples } from './openapi-examples.ts';

const ADMIN_KEY = 'examples-admin-key';

/** The sample upstream and the API on free local ports; `close` stops both. */
export async function startExampleStack() {
  const upstream = await createSampleUpstream({
    port: 0,
    seed: 7,
    stores: 4,
    products: 30,
    days: 120,
    linesPerDay: 200,
    logger: false,
  });
  const exportsDir = await mkdtemp(join(tmpdir(), 'salesflow-examples-'));
  const app = await buildApp(
    loadConfig({
      UPSTREAM_URL: upstream.url,
      API_KEYS: `${ADMIN_KEY}:admin`,
      LOG_LEVEL: 'silent',
      EXPORTS_DIR: exportsDir,
      DATA_DIR: exportsDir,
      REPORT_LINK_SECRET: 'examples-link-secret-of-32-characters!',
    }),
    { logger: false },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    base: `http://127.0.0.1:${port}`,
    apiKey: ADMIN_KEY,
    async close() {
      await app.close();
      await upstream.close();
      await rm(exportsDir, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [givenBase, givenKey] = process.argv.slice(2);
  const stack = givenBase ? undefined : await startExampleStack();
  const base = givenBase ?? stack!.base;
  try {
    const results = await sendExamples(base, givenKey ?? stack!.apiKey);
    for (const r of results) {
      console.log(
        `${r.status}  ${r.method.padEnd(6)} ${r.url}  (${r.operationId})${r.detail ? `\n      ${r.detail}` : ''}`,
      );
    }
    const failed = results.filter((r) => r.status < 200 || r.status > 299);
    console.log(`\n${results.length - failed.length} of ${results.length} operations answered 2xx`);
    process.exitCode = failed.length ? 1 : 0;
  } finally {
    await stack?.close();
  }
}
