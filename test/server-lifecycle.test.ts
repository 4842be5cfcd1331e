import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { testSqliteFile } from './helpers/app.ts';
import { json, startServer } from './helpers/http-server.ts';
import { freePort } from './helpers/redis.ts';

async function waitFor(url: string, deadlineMs = 20_000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

test('SIGTERM: in-flight requests finish, then the process exits cleanly', async (t) => {
  const up = await startServer(t, async (_req, res) => {
    await new Promise((r) => setTimeout(r, 1_500));
    json(res, 200, [{ id: 1, name: 'S', city: 'C', region: 'R', employees: 3 }]);
  });
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      PATH: process.env.PATH,
      UPSTREAM_URL: up.url,
      API_KEYS: 'lifecycle-test-key:viewer',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '8000',
      DATABASE_URL: testSqliteFile(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  await waitFor(`http://127.0.0.1:${port}/health`);

  const inFlight = fetch(`http://127.0.0.1:${port}/api/v1/catalog/stores`, {
    headers: { 'x-api-key': 'lifecycle-test-key' },
  });
  await new Promise((r) => setTimeout(r, 300)); // the request is now waiting on the slow upstream
  const exited = once(child, 'exit');
  child.kill('SIGTERM');

  const res = await inFlight;
  assert.equal(res.status, 200, 'the in-flight request completed');
  assert.equal(((await res.json()) as { total: number }).total, 1);
  const [code] = await exited;
  assert.equal(code, 0, stderr);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'no longer accepting');
});
