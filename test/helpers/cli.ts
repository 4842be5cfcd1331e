/**
 * Runs the `salesflow` CLI (bin/salesflow.mjs) as a child process in a clean environment: only
 * what the test gives, as on an operator's machine.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createSampleUpstream, type RunningSampleUpstream } from '../../sample-upstream/server.ts';
import { testSqliteFile } from './app.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  const child = spawn(process.execPath, ['bin/salesflow.mjs', ...args], {
    env: {
      PATH: process.env.PATH,
      API_KEYS: 'cli-admin-key-0001:admin',
      UPSTREAM_RETRY_BASE_MS: '5',
      UPSTREAM_RETRY_MAX_MS: '20',
      // a database of its own, never the working tree's data/
      DATABASE_URL: testSqliteFile(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/**
 * The CLI tests' fixture: a sample upstream (3 stores, 40 days to 2026-06-14) and a scratch folder
 * for the file, made before the file's tests and removed after; `cli` runs the CLI against them.
 */
export function cliFixture() {
  let upstream: RunningSampleUpstream | undefined;
  let dir = '';
  before(async () => {
    upstream = await createSampleUpstream({
      port: 0,
      seed: 21,
      stores: 3,
      products: 20,
      days: 40,
      linesPerDay: 300,
      endDate: '2026-06-14',
      logger: false,
    });
    dir = await mkdtemp(join(tmpdir(), 'salesflow-cli-'));
  });
  after(async () => {
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get upstream(): RunningSampleUpstream {
      return upstream as RunningSampleUpstream;
    },
    get dir(): string {
      return dir;
    },
    cli: (args: string[], env: Record<string, string | undefined> = {}) =>
      runCli(args, {
        UPSTREAM_URL: (upstream as RunningSampleUpstream).url,
        ANALYTICS_TODAY: '2026-06-15',
        EXPORTS_DIR: dir,
        ...env,
      }),
  };
}
