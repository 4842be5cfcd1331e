/** What every benchmark report states about its run: machine, code version, verdicts. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.ts';
import { int, mib } from './stats.ts';

export function machineFacts(): { machine: string; node: string } {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return {
    machine: `${availableParallelism()} cores (${cpu}), ${int(mib(totalmem()) / 1024)} GiB RAM`,
    node: `${process.version} (${process.platform}/${process.arch})`,
  };
}

/** The commit measured, and whether src/ or sample-upstream/ had uncommitted changes. */
export function codeVersion(): string | undefined {
  try {
    // --no-optional-locks: reading the status must not take the index lock of a working session.
    const git = (...args: string[]) =>
      execFileSync('git', ['--no-optional-locks', ...args], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src', 'sample-upstream') !== '';
    return `commit ${commit}${dirty ? ' with uncommitted changes in src/ or sample-upstream/' : ''}`;
  } catch {
    return undefined;
  }
}

export function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

export function load1(): string {
  return loadavg()[0]!.toFixed(2);
}

let benchDataDir: string | undefined;
/** A SQLite metadata database of the run's own (removed at exit), never the working tree's data/. */
export function benchSqliteFile(): string {
  if (!benchDataDir) {
    const dir = mkdtempSync(join(tmpdir(), 'salesflow-bench-data-'));
    benchDataDir = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return join(benchDataDir, `${process.pid}-${Math.random().toString(36).slice(2)}.sqlite`);
}
