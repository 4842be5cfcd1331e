/**
 * `build(t)` returns the real app for `app.inject`, closed when the test ends (fastify/demo style).
 */
import type { TestContext } from 'node:test';
import { type BuildAppOptions, buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';

export const KEYS = {
  viewer: 'test-viewer-key-0001',
  analyst: 'test-analyst-key-0001',
  admin: 'test-admin-key-0001',
} as const;

export function testEnv(env: Record<string, string | undefined> = {}) {
  return {
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
