/** Measuring helpers of the benchmarks: peak memory sampled over a stretch of work, CPU time per thread. */
import { readdir, readFile } from 'node:fs/promises';

export interface MemoryPeaks {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
}

/**
 * Samples RSS, heap and array buffers every `everyMs` until stopped; returns the peaks (bytes). It
 * samples on the event loop: a task that blocks the loop for long stretches is sampled less often
 * (compare with `process.resourceUsage().maxRSS`, the kernel's high-water mark).
 */
export function memorySampler(everyMs = 100): { stop(): MemoryPeaks } {
  const peak: MemoryPeaks = { rss: 0, heapUsed: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

const USER_HZ = 100;

/** utime + stime in seconds from a /proc .../stat line. */
function statSeconds(stat: string): { name: string; seconds: number } {
  const name = stat
    .slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    .replace(/\d+$/, '')
    .trim();
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { name, seconds: (Number(fields[11]) + Number(fields[12])) / USER_HZ };
}

/**
 * CPU seconds of this process's main thread and of its other threads by name (libuv's pool, V8's
 * GC helpers…), from Linux's /proc; undefined elsewhere.
 */
export async function threadCpu(): Promise<{ main: number; others: Map<string, number> } | undefined> {
  try {
    let main = 0;
    const others = new Map<string, number>();
    for (const tid of await readdir('/proc/self/task')) {
      const { name, seconds } = statSeconds(await readFile(`/proc/self/task/${tid}/stat`, 'utf8'));
      if (tid === String(process.pid)) main += seconds;
      else others.set(name, (others.get(name) ?? 0) + seconds);
    }
    return { main, others };
  } catch {
    return undefined;
  }
}

/** CPU seconds (all threads) a process has used so far, from Linux's /proc; undefined elsewhere. */
export async function processCpuSeconds(pid: number): Promise<number | undefined> {
  try {
    return statSeconds(await readFile(`/proc/${pid}/stat`, 'utf8')).seconds;
  } catch {
    return undefined;
  }
}
