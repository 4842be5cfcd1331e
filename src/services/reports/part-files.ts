/**
 * Partial report files (`<file>.<owner>.<uuid>.part`): written while a report renders, renamed when
 * complete. A process killed mid-render leaves its part behind (64 MB seen), so each part names its
 * writer (host and pid) and cleanup removes those whose writer is gone: on this host, a pid that no
 * longer runs (or, at start-up, our own pid: a container restarted as PID 1 again); anywhere, a
 * part nobody has written to for PART_ORPHAN_MS (a live render writes continuously).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

export const PART_ORPHAN_MS = 15 * 60_000;

const host = () => hostname().replace(/[^A-Za-z0-9-]/g, '_');

/** The temporary name a render writes `path` under. */
export function partPathFor(path: string): string {
  return `${path}.${host()}~${process.pid}.${randomUUID()}.part`;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the part `name`, last written at `mtimeMs`, has no live writer. */
export function isOrphanPart(name: string, mtimeMs: number, now: number, startup: boolean): boolean {
  if (!name.endsWith('.part')) return false;
  if (now - mtimeMs > PART_ORPHAN_MS) return true;
  const owner = /\.([A-Za-z0-9_-]+)~(\d+)\.[0-9a-f-]{36}\.part$/.exec(name);
  if (!owner || owner[1] !== host()) return false;
  const pid = Number(owner[2]);
  if (pid === process.pid) return startup;
  return !running(pid);
}
