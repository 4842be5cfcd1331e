/**
 * Renders report documents on worker threads (render-worker.ts), so a long PDF never blocks the
 * event loop: requests keep being answered and BullMQ job locks keep being renewed. Threads start
 * on first use; a thread that dies fails its task and is replaced.
 */
import { Worker } from 'node:worker_threads';
import type { RenderReply, RenderTask } from './render-worker.ts';
import type { ReportDocument } from './report-types.ts';

interface Pending {
  resolve(bytes: Buffer): void;
  reject(err: Error): void;
}

export function createRenderPool(options: { threads: number }) {
  const idle: Worker[] = [];
  const all = new Set<Worker>();
  const waiting: { task: RenderTask; pending: Pending }[] = [];
  const inFlight = new Map<Worker, { task: RenderTask; pending: Pending }>();
  let nextId = 1;
  let closed = false;

  function spawn(): Worker {
    const worker = new Worker(new URL('./render-thread.mjs', import.meta.url));
    all.add(worker);
    worker.on('message', (reply: RenderReply) => {
      const job = inFlight.get(worker);
      inFlight.delete(worker);
      if (job) {
        if ('error' in reply) job.pending.reject(new Error(reply.error));
        else
          job.pending.resolve(
            Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength),
          );
      }
      release(worker);
    });
    worker.on('error', (err) => fail(worker, err));
    worker.on('exit', (code) => fail(worker, new Error(`render thread exited with code ${code}`)));
    return worker;
  }

  function fail(worker: Worker, err: Error): void {
    if (!all.delete(worker)) return;
    const job = inFlight.get(worker);
    inFlight.delete(worker);
    const i = idle.indexOf(worker);
    if (i >= 0) idle.splice(i, 1);
    job?.pending.reject(err);
    if (!closed && waiting.length > 0) dispatch();
  }

  function release(worker: Worker): void {
    const next = waiting.shift();
    if (next) run(worker, next);
    else idle.push(worker);
  }

  function run(worker: Worker, job: { task: RenderTask; pending: Pending }): void {
    inFlight.set(worker, job);
    worker.postMessage(job.task);
  }

  function dispatch(): void {
    while (waiting.length > 0) {
      const worker = idle.pop() ?? (all.size < options.threads ? spawn() : undefined);
      if (!worker) return;
      run(worker, waiting.shift()!);
    }
  }

  return {
    render(format: 'pdf' | 'xlsx', doc: ReportDocument): Promise<Buffer> {
      if (closed) return Promise.reject(new Error('the render pool is closed'));
      return new Promise<Buffer>((resolve, reject) => {
        waiting.push({ task: { id: nextId++, format, doc }, pending: { resolve, reject } });
        dispatch();
      });
    },
    async close(): Promise<void> {
      closed = true;
      for (const { pending } of waiting.splice(0)) pending.reject(new Error('the render pool is closed'));
      await Promise.all([...all].map((w) => w.terminate()));
    },
  };
}

export type RenderPool = ReturnType<typeof createRenderPool>;
