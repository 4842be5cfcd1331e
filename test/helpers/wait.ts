/** Waiting in tests: bounded, so a hang fails the test that hangs instead of the whole run. */
import { setTimeout as sleep } from 'node:timers/promises';

/** The promise's value, or a failure naming `what` after timeoutMs. */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting until ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work;
  return { value, ms: performance.now() - start };
}

/** Polls `check` every 50 ms until it holds; a check that hangs fails the wait too. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await within(what, check(), Math.max(1, deadline - performance.now()))) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}
