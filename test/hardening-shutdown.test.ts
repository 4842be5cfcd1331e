/**
 * Shutdown and crashes: partial report files of dead writers are removed; a request still running
 * when the shutdown grace ends gets a 503 problem with Retry-After; the compose file, the Dockerfile
 * and the documented start command run node itself, so SIGTERM reaches it and it drains and exits.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { build, testSqliteFile } from './helpers/app.ts';
import { json, startServer } from './helpers/http-server.ts';
import { freePort } from './helpers/redis.ts';

test('partial report files whose writer is gone are removed; live ones are kept', async (t) => {
  const exportsDir = await mkdtemp(join(tmpdir(), 'salesflow-parts-'));
  t.after(() => rm(exportsDir, { recursive: true, force: true }));
  const app = await build(t, { EXPORTS_DIR: exportsDir });
  const dir = join(exportsDir, 'reports');
  await mkdir(dir, { recursive: true });
  const host = hostname().replace(/[^A-Za-z0-9-]/g, '_');
  const uuid = '0b7c5c9e-3c0a-4d33-9a3e-8f1d2b7c6a10';
  const names = {
    deadWriter: `a.pdf.${host}~999999999.${uuid}.part`,
    ownPid: `b.pdf.${host}~${process.pid}.${uuid}.part`,
    otherHost: `c.pdf.elsewhere~${process.pid}.${uuid}.part`,
    idle: `d.pdf.elsewhere~12.${uuid}.part`,
    legacyIdle: `e.pdf.${uuid}.part`,
    report: 'f.pdf',
  };
  for (const n of Object.values(names)) await writeFile(join(dir, n), 'x');
  const old = new Date(Date.now() - 20 * 60_000);
  for (const n of [names.idle, names.legacyIdle]) await utimes(join(dir, n), old, old);

  await app.services.reports.cleanup();
  assert.deepEqual((await readdir(dir)).sort(), [names.ownPid, names.otherHost, names.report].sort());
  // At start-up, this pid's parts are an earlier run's (a container restarts as PID 1 again).
  await app.services.reports.cleanup(Date.now(), { startup: true });
  assert.deepEqual((await readdir(dir)).sort(), [names.otherHost, names.report].sort());
});

async function waitFor(url: string, deadlineMs = 30_000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

/** The API start command the README documents for running it for real. */
async function documentedStartCommand(): Promise<string[]> {
  const readme = await readFile('README.md', 'utf8');
  const line = /^(node [^\n#]*src\/server\.ts)\s*#/m.exec(readme);
  assert.ok(line, 'the README documents a `node ... src/server.ts` start command');
  return line[1]!.trim().split(/\s+/);
}

test('SIGTERM to the documented start command: a request still running at grace end gets a 503 problem, then exit', async (t) => {
  const up = await startServer(t, async (_req, res) => {
    await new Promise((r) => setTimeout(r, 20_000));
    json(res, 200, []);
  });
  const port = await freePort();
  const [cmd, ...args] = await documentedStartCommand();
  assert.equal(cmd, 'node');
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      UPSTREAM_URL: up.url,
      API_KEYS: 'lifecycle-test-key:viewer',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '2000',
      REQUEST_DEADLINE_MS: '60000',
      UPSTREAM_HEADERS_TIMEOUT_MS: '60000',
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
  await new Promise((r) => setTimeout(r, 300));
  const exited = once(child, 'exit');
  const signalled = performance.now();
  child.kill('SIGTERM');

  const res = await inFlight;
  assert.equal(res.status, 503);
  assert.match(String(res.headers.get('content-type')), /^application\/problem\+json/);
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
  const body = (await res.json()) as { type: string };
  assert.equal(body.type, 'urn:salesflow:problem:shutting-down');
  const [code] = await exited;
  assert.equal(code, 0, stderr);
  assert.ok(performance.now() - signalled < 4_000, 'exited within the grace period');
});

test('the Dockerfile runs node itself, never npm (which does not pass SIGTERM on)', async () => {
  const dockerfile = await readFile('Dockerfile', 'utf8');
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile);
  assert.ok(cmd);
  assert.equal((JSON.parse(cmd[1]!) as string[])[0], 'node');
});
