/**
 * Child processes of the benchmarks: the sample upstream, a private redis-server, and whatever else
 * a bench spawns. Every child is registered, so one `stopAll()` (also run on SIGINT, SIGTERM and
 * exit) leaves nothing running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, onPath, startRedis } from '../../test/helpers/redis.ts';

export { freePort, onPath };

/** The repository root (bench/lib/ is two levels down). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const running = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function terminate(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => terminate(c)));
}

let hooked = false;
/** On SIGINT/SIGTERM: stop every child, then exit 130/143. On exit: SIGKILL what is left. */
export function stopChildrenOnExit(onSignal?: (signal: NodeJS.Signals) => void): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      onSignal?.(signal);
      const timer = setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), 5_000);
      timer.unref();
      void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

export interface UpstreamProcess {
  url: string;
  summary: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `sample-upstream/main.ts --port 0 ...args` in a child process and reads its URL. */
export async function startSampleUpstream(args: string[], timeoutMs = 60_000): Promise<UpstreamProcess> {
  const main = fileURLToPath(new URL('../../sample-upstream/main.ts', import.meta.url));
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (errors.length < 4_000) errors += chunk.toString('utf8');
  });
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let url = '';
  let summary = '';
  try {
    for await (const line of lines) {
      const m = /listening on (\S+)/.exec(line);
      if (m) url = m[1]!;
      else if (url) {
        summary = line.trim();
        break;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  if (!url || !summary) {
    await terminate(child);
    throw new Error(`the sample upstream did not start: ${errors.trim() || 'no output'}`);
  }
  // Keep draining its stdout (it prints on shutdown).
  lines.on('line', () => {});
  return { url, summary, child, stop: () => terminate(child) };
}

export const NO_REDIS_SERVER =
  'redis mode needs redis-server on the PATH (apt-get install redis-server, or brew install redis); ' +
  'run with --mode embedded to skip it';

export interface RedisProcess {
  url: string;
  stop(): Promise<void>;
}

/** A private, throwaway redis-server on a free port (the tests' launcher: no persistence, killed on exit). */
export async function startRedisServer(): Promise<RedisProcess> {
  if (!onPath('redis-server')) throw new Error(NO_REDIS_SERVER);
  const redis = await startRedis();
  return { url: redis.url, stop: () => redis.stop() };
}

export interface DatasetShape {
  stores: number;
  products: number;
  days: number;
  linesPerDay: number;
}

/** The sample upstream with a generated dataset of this shape, ending `endDate`. */
export function startDatasetUpstream(
  shape: DatasetShape,
  options: { seed: number; endDate: string; tz: string },
): Promise<UpstreamProcess> {
  return startSampleUpstream([
    '--seed',
    String(options.seed),
    '--stores',
    String(shape.stores),
    '--products',
    String(shape.products),
    '--days',
    String(shape.days),
    '--lines-per-day',
    String(shape.linesPerDay),
    '--end-date',
    options.endDate,
    '--tz',
    options.tz,
  ]);
}
