/**
 * A Redis for tests: a private, throwaway redis-server when one is installed (it can then also be
 * stopped, restarted and frozen to simulate outages), else the server named by TEST_REDIS_URL or
 * REDIS_URL (shared: tests use unique key prefixes and skip the outage cases).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheLogger } from '../../src/clients/cache/cache-types.ts';

export interface TestRedis {
  url: string;
  /** true for a private redis-server: the outage helpers below are present */
  private: boolean;
  /** Ends it for good (a private server is killed; an external one is left alone). */
  stop(): Promise<void>;
  /** Kills the private server but keeps its port, for restart(). */
  kill?(): Promise<void>;
  /** Starts the private server again on the same port (empty: it keeps no data). */
  restart?(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing, like a hung host. */
  pause?(): void;
  /** SIGCONT */
  resume?(): void;
}

export const NO_REDIS_MESSAGE =
  'These tests need Redis: install redis-server (apt-get install redis-server) or set REDIS_URL=redis://host:6379';

export interface LogRecord {
  level: 'error' | 'warn' | 'info' | 'debug';
  obj: object;
  msg: string;
}

/** A CacheLogger that keeps what it is told, for assertions on what was logged and how often. */
export function recordingLogger(): CacheLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return {
    records,
    error: (obj, msg) => records.push({ level: 'error', obj, msg }),
    warn: (obj, msg) => records.push({ level: 'warn', obj, msg }),
    info: (obj, msg) => records.push({ level: 'info', obj, msg }),
    debug: (obj, msg) => records.push({ level: 'debug', obj, msg }),
  };
}

/** A key prefix no other test (or test run against a shared Redis) uses. */
export function uniquePrefix(label = 'test'): string {
  return `${label}:${randomUUID().slice(0, 8)}:`;
}

export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port free on 127.0.0.1 right now (it may be taken again before use: callers retry). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/** One raw PING, so that waiting for the server needs no client library and leaves no handle behind. */
function answersPing(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

// Killed on exit however the test process ends (short of SIGKILL), so no redis-server outlives it.
const running = new Set<ChildProcess>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill('SIGKILL');
      process.kill(process.pid, signal);
    });
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(binary: string, port: number): Promise<ChildProcess> {
  hookExit();
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 4_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.once('exit', () => running.delete(child));
  // A forgotten stop() must not keep the test process alive; the exit hook still kills the server.
  child.unref();
  (child.stdout as unknown as { unref?(): void } | null)?.unref?.();
  (child.stderr as unknown as { unref?(): void } | null)?.unref?.();

  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await answersPing(port, 200)) return child;
    await sleep(20);
  }
  child.kill('SIGKILL');
  await exited(child);
  throw new Error(`redis-server did not start on port ${port}: ${output.trim() || 'no output'}`);
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // A stopped process acts on SIGTERM only once continued.
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited(child);
  clearTimeout(timer);
}

export async function startRedis(): Promise<TestRedis> {
  const binary = onPath('redis-server');
  if (binary) {
    let port = 0;
    let child: ChildProcess | undefined;
    for (let attempt = 0; !child; attempt++) {
      port = await freePort();
      try {
        child = await launch(binary, port);
      } catch (err) {
        // The free port may have been taken between probing and binding it.
        if (attempt >= 2) throw err;
      }
    }
    let current: ChildProcess | undefined = child;
    const need = () => {
      if (!current) throw new Error('the test redis-server is not running');
      return current;
    };
    return {
      url: `redis://127.0.0.1:${port}`,
      private: true,
      async stop() {
        const c = current;
        current = undefined;
        if (c) await terminate(c);
      },
      async kill() {
        const c = need();
        current = undefined;
        c.kill('SIGCONT');
        c.kill('SIGKILL');
        await exited(c);
      },
      async restart() {
        if (current) await terminate(current);
        current = await launch(binary, port);
      },
      pause() {
        need().kill('SIGSTOP');
      },
      resume() {
        need().kill('SIGCONT');
      },
    };
  }
  const url = process.env.TEST_REDIS_URL || process.env.REDIS_URL;
  if (url) return { url, private: false, async stop() {} };
  throw new Error(NO_REDIS_MESSAGE);
}
