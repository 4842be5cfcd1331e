/**
 * The API as its own process (`src/server.ts`) on a free port, for tests that kill it with SIGKILL
 * and start it again on the same database: `start()` spawns it (killed when the test ends), `up()`
 * waits until it answers, `call()` sends an admin's request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { KEYS } from './app.ts';
import { freePort } from './redis.ts';
import { waitUntil } from './wait.ts';

export async function apiChild(t: TestContext, env: Record<string, string | undefined>) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const full = {
    PATH: process.env.PATH,
    API_KEYS: `${KEYS.admin}:admin`,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...env,
  };
  return {
    base,
    start(): ChildProcess {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env: full,
        stdio: 'ignore',
      });
      t.after(() => child.kill('SIGKILL'));
      return child;
    },
    up(deadlineMs = 30_000): Promise<void> {
      return waitUntil(
        `${base}/health answers`,
        async () => (await fetch(`${base}/health`).catch(() => undefined))?.ok === true,
        deadlineMs,
      );
    },
    async call(path: string, body?: unknown) {
      const res = await fetch(`${base}${path}`, {
        method: body ? 'POST' : 'GET',
        headers: { 'x-api-key': KEYS.admin, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
  };
}
