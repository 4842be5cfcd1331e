/**
 * Runs the `salesflow` CLI (bin/salesflow.mjs) as a child process in a clean environment: only
 * what the test gives, as on an operator's machine.
 */
import { spawn } from 'node:child_process';
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
