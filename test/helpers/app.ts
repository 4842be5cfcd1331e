/**
 * `build(t)` returns the real app for `app.inject`, closed when the test ends (fastify/demo style).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type BuildAppOptions, buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';

export const KEYS = {
  viewer: 'test-viewer-key-0001',
  analyst: 'test-analyst-key-0001',
  admin: 'test-admin-key-0001',
} as const;

/** This test process's SQLite files: one fresh database per app unless a test names one. */
let dataRoot: string | undefined;
export function testDataDir(): string {
  if (!dataRoot) {
    const dir = mkdtempSync(join(tmpdir(), 'salesflow-test-db-'));
    dataRoot = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return dataRoot;
}

/** A new SQLite file's path, for tests that restart an app on the same database. */
export const testSqliteFile = () => join(testDataDir(), `${randomUUID()}.sqlite`);

export function testEnv(env: Record<string, string | undefined> = {}) {
  return {
    DATA_DIR: testDataDir(),
    // Shared mode needs a PostgreSQL DATABASE_URL, which its tests give (helpers/postgres.ts).
    ...(env.REDIS_URL ? {} : { DATABASE_URL: testSqliteFile() }),
    UPSTREAM_URL: 'http://127.0.0.1:9',
    API_KEYS: `${KEYS.viewer}:viewer,${KEYS.analyst}:analyst,${KEYS.admin}:admin`,
    LOG_LEVEL: 'silent',
    UPSTREAM_RETRY_BASE_MS: '5',
    UPSTREAM_RETRY_MAX_MS: '50',
    ...env,
  };
}

export async function build(
  t: TestContext,
  env: Record<string, string | undefined> = {},
  options: BuildAppOptions = {},
) {
  const app = await buildApp(loadConfig(testEnv(env)), { logger: false, ...options });
  t.after(() => app.close());
  await app.ready();
  return app;
}

export const auth = (role: keyof typeof KEYS) => ({ 'x-api-key': KEYS[role] });
