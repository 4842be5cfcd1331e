/**
 * Readiness: can this instance serve? The system of record, the metadata database and (in shared
 * mode) Redis must answer.
 */
import type { Cache } from '../clients/cache/cache-types.ts';
import type { UpstreamClient } from '../clients/upstream-client.ts';
import type { Db } from '../db/database.ts';

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  reason?: string;
}

export interface HealthServiceDeps {
  upstream: Pick<UpstreamClient, 'ping'>;
  cache: Pick<Cache, 'ping' | 'kind'>;
  db: Pick<Db, 'ping' | 'kind'>;
  mode: 'embedded' | 'shared';
}

const CHECK_TIMEOUT_MS = 3_000;

async function timed(check: () => Promise<void>): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      reason: err instanceof Error ? err.message : String(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

export function healthServiceFactory({ upstream, cache, db, mode }: HealthServiceDeps) {
  return {
    async readiness() {
      const [upstreamCheck, cacheCheck, dbCheck] = await Promise.all([
        timed(() => upstream.ping()),
        timed(() => cache.ping()),
        timed(() => db.ping()),
      ]);
      const checks: Record<string, CheckResult> = { upstream: upstreamCheck, database: dbCheck };
      if (cache.kind === 'redis') checks.redis = cacheCheck;
      const ready = Object.values(checks).every((c) => c.ok);
      return { ready, mode, checks };
    },
  };
}

export type HealthService = ReturnType<typeof healthServiceFactory>;
