/**
 * Child processes of the benchmarks: the sample upstream, a private redis-server, runs of a bench in
 * a fresh process of its own script (`runInChild` / `childMain`), and whatever else a bench spawns.
 * Every child is registered, so one `stopAll()` (also run on SIGINT, SIGTERM and exit) leaves
 * nothing running.
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

/**
 * Runs `script` (the caller's `import.meta.url`) again in a fresh child process, with `spec` as JSON
 * in the environment variable `envName` and an IPC channel, and resolves with the one result the
 * child sends (see `childMain`). The child inherits this process's exec arguments, plus those of
 * `extraExecArgv` it does not already have; it is tracked, so `stopAll()` stops it. Rejects when the
 * child ends without a result: "the <label> ended without a result (exit code 1)".
 */
export function runInChild<R>(
  script: string,
  envName: string,
  spec: unknown,
  label: string,
  extraExecArgv: string[] = [],
): Promise<R> {
  const execArgv = [...process.execArgv, ...extraExecArgv.filter((arg) => !process.execArgv.includes(arg))];
  const child = track(
    spawn(process.execPath, [...execArgv, fileURLToPath(script)], {
      cwd: REPO_ROOT,
      env: { ...process.env, [envName]: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  return new Promise((resolve, reject) => {
    let result: R | undefined;
    child.on('message', (m) => {
      result = m as R;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (result) resolve(result);
      else reject(new Error(`the ${label} ended without a result (${signal ?? `exit code ${code}`})`));
    });
  });
}

/**
 * The child side of `runInChild`: runs `run` on the spec read from `envName`, sends its result to
 * the parent over IPC (or prints it as JSON when there is no IPC channel, as when the child is
 * started by hand to profile one run), then exits 0; exits 1 on a failure. It dies with the parent
 * (IPC disconnect: exit 1) and exits 130/143 on SIGINT/SIGTERM, through `process.exit`, so the
 * run's 'exit' listeners (temporary files) still run.
 */
export async function childMain<S, R>(envName: string, run: (spec: S) => Promise<R>): Promise<never> {
  process.on('disconnect', () => process.exit(1));
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  try {
    const result = await run(JSON.parse(process.env[envName] ?? '') as S);
    if (process.send) {
      await new Promise<void>((resolve, reject) =>
        process.send!(result, (err: Error | null) => (err ? reject(err) : resolve())),
      );
    } else {
      console.log(JSON.stringify(result));
    }
    process.exit(0);
  } catch (err) {
    console.error(err);
    process.exit(1);
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
