/**
 * Test jobs for the job-queue suites: a registry, processors that the tests steer (gates to hold a
 * job active, jobs failing on cue) and records of what ran.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type JobInfo,
  type JobSpec,
  PermanentJobError,
  type ProcessorsFor,
  type UntypedJobQueue,
} from '../../src/jobs/queue-types.ts';

export type TestJobs = {
  test: {
    echo: JobSpec<{ value: string }, { echoed: string }>;
    /** reports `progress`, then holds until the test opens its gate (or the signal aborts) */
    gated: JobSpec<{ gate: string; progress?: number }, { gate: string }>;
    /** fails its first `failures` attempts with a transient error */
    flaky: JobSpec<{ key: string; failures: number }, { attempt: number }>;
    permanent: JobSpec<{ reason: string }, null>;
    /** fails permanently or succeeds, as asked */
    maybe: JobSpec<{ fail: boolean }, { ok: boolean }>;
    /** says what type the payload's `when` arrived as */
    json: JobSpec<{ when: string | Date }, { seen: string; at: Date }>;
  };
};

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export interface Gate {
  started: Deferred<void>;
  release: Deferred<void>;
}

export interface TestRun {
  processors: ProcessorsFor<TestJobs>;
  gate(name: string): Gate;
  /** processor starts per job id */
  executions: Map<string, number>;
  /** per flaky key: when each attempt started */
  starts: Map<string, { attempt: number; at: number }[]>;
}

export function testRun(): TestRun {
  const gates = new Map<string, Gate>();
  const executions = new Map<string, number>();
  const starts = new Map<string, { attempt: number; at: number }[]>();
  const gate = (name: string): Gate => {
    let g = gates.get(name);
    if (!g) {
      g = { started: deferred(), release: deferred() };
      gates.set(name, g);
    }
    return g;
  };
  const count = (id: string) => executions.set(id, (executions.get(id) ?? 0) + 1);
  return {
    gate,
    executions,
    starts,
    processors: {
      test: {
        async echo(payload, ctx) {
          count(ctx.id);
          return { echoed: payload.value };
        },
        async gated(payload, ctx) {
          count(ctx.id);
          const g = gate(payload.gate);
          await ctx.updateProgress(payload.progress ?? 40);
          g.started.resolve();
          await new Promise<void>((resolve, reject) => {
            void g.release.promise.then(resolve);
            ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
          });
          return { gate: payload.gate };
        },
        async flaky(payload, ctx) {
          count(ctx.id);
          const list = starts.get(payload.key) ?? [];
          list.push({ attempt: ctx.attempt, at: performance.now() });
          starts.set(payload.key, list);
          if (ctx.attempt <= payload.failures) throw new Error(`flaky failure ${ctx.attempt}`);
          return { attempt: ctx.attempt };
        },
        async permanent(payload, ctx) {
          count(ctx.id);
          throw new PermanentJobError(`bad input: ${payload.reason}`);
        },
        async maybe(payload, ctx) {
          count(ctx.id);
          if (payload.fail) throw new PermanentJobError('asked to fail');
          return { ok: true };
        },
        async json(payload, ctx) {
          count(ctx.id);
          return { seen: typeof payload.when, at: new Date(0) };
        },
      },
    },
  };
}

/** Polls get() until the job satisfies `check`; fails the test with the last state seen. */
export async function waitForJob(
  queue: Pick<UntypedJobQueue, 'get'>,
  queueName: string,
  id: string,
  check: (job: JobInfo) => boolean,
  timeoutMs = 5_000,
): Promise<JobInfo> {
  const deadline = performance.now() + timeoutMs;
  let last: JobInfo | null = null;
  while (performance.now() < deadline) {
    last = await queue.get(queueName, id);
    if (last && check(last)) return last;
    await sleep(5);
  }
  throw new Error(`timed out waiting on job ${queueName}/${id}; last seen: ${JSON.stringify(last)}`);
}

/** A BullMQ prefix from a test key prefix (BullMQ adds its own ':' separators). */
export function bullPrefix(keyPrefix: string): string {
  return keyPrefix.replace(/:+$/, '');
}

/** The queue of test/helpers/jobs-child-worker.ts. */
export type CrashJobs = {
  crash: {
    work: JobSpec<{ n: number }, { by: string }>;
  };
};

export { within } from './wait.ts';
