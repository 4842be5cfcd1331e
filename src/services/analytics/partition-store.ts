/**
 * Day partitions: extracted from the system of record one business day at a time, aggregated,
 * kept in the shared cache (Redis in shared mode, so every instance and worker reuses them) and
 * decoded in each process's memory within a budget, so a warm query scans typed arrays only.
 *
 * - A missing day is fetched on demand with single-flight (cache.getOrLoad), so the first dashboard
 *   hit after a deploy does not stampede the upstream.
 * - Closed days are kept for PARTITION_TTL_DAYS; the last LATE_DATA_DAYS days (and today) are
 *   re-read after LATE_DATA_TTL_SECONDS, so late lines are picked up; if the upstream fails then,
 *   the previous copy is served and the answer is flagged incomplete.
 * - Every key has a TTL.
 */
import type { FastifyBaseLogger } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Cache } from '../../clients/cache/cache-types.ts';
import type { UpstreamClient } from '../../clients/upstream-client.ts';
import type { Config } from '../../config.ts';
import { dayStartUtc, formatDay, parseDay, todayIn } from '../../lib/calendar.ts';
import { createDayView, type DayView, IdDictionary } from './aggregate-fns.ts';
import {
  createPartitionBuilder,
  decodePartition,
  encodePartition,
  type PartitionData,
  partitionBytes,
} from './partition.ts';

const PARTITION_KEY = 'part:v1:';
const META_KEY = 'partmeta:v1:';
const STATUS_KEY = 'sync:status:v1';
/** when the upstream fails on a recent day and a stale copy is served, try again this soon */
const STALE_RETRY_MS = 30_000;

export interface PartitionMeta {
  day: string;
  version: string;
  fetchedAt: string;
  closed: boolean;
  lines: number;
  offDayLines: number;
}

/**
 * What a process held for some days at a moment: unchanged as long as no day was loaded, dropped
 * or evicted since (`generation`) and none of them is due for a re-read (`until`, epoch ms).
 */
export interface HeldMark {
  generation: number;
  until: number;
}

export interface HeldDay {
  view: DayView;
  /** served from an older copy because re-reading the day failed */
  stale: boolean;
}

interface Decoded extends HeldDay {
  /** epoch ms until which this process uses its copy without looking at the shared cache */
  trustUntil: number;
}

export interface SyncReport {
  from: string;
  to: string;
  days: number;
  fetched: number;
  reused: number;
  lines: number;
  failed: { day: string; error: string }[];
  ms: number;
  linesPerSecond: number;
}

export interface SyncOptions {
  force?: boolean;
  onDay?: (progress: { day: string; days: number; lines: number; failed?: boolean }) => void;
}

export interface PartitionStoreDeps {
  upstream: Pick<UpstreamClient, 'salesPages'>;
  cache: Cache;
  config: Pick<Config, 'businessTz' | 'analytics' | 'mode'>;
  logger: FastifyBaseLogger;
  now?: () => number;
}

export function partitionStoreFactory({
  upstream,
  cache,
  config,
  logger,
  now = Date.now,
}: PartitionStoreDeps) {
  const tz = config.businessTz;
  const a = config.analytics;
  const stores = new IdDictionary();
  const products = new IdDictionary();
  /** bumped whenever `decoded` changes: a day loaded, re-read, dropped or evicted */
  let generation = 0;
  const decoded = new LRUCache<number, Decoded>({
    maxSize: a.partitionMemoryBytes,
    sizeCalculation: (d) => Math.max(1, partitionBytes(d.view.data) + d.view.cellStore.byteLength * 2),
    // overwritten, deleted or evicted (sets of new days are counted in loadDay)
    dispose: () => {
      generation++;
    },
  });
  const inflight = new Map<number, Promise<HeldDay>>();
  let lastError: { day: string; error: string; at: string } | undefined;

  const pinnedToday = a.today ? parseDay(a.today) : undefined;
  function today(): number {
    return pinnedToday ?? todayIn(tz);
  }

  /** Recent days (and today) are re-read soon; closed days are kept long. */
  function ttlFor(day: number): { ttlMs: number; staleTtlMs: number } {
    const recent = day >= today() - a.lateDataDays;
    return recent
      ? { ttlMs: a.lateDataTtlMs, staleTtlMs: a.partitionTtlMs }
      : { ttlMs: a.partitionTtlMs, staleTtlMs: 0 };
  }

  async function fetchDay(day: number): Promise<PartitionData> {
    const date = formatDay(day);
    const builder = createPartitionBuilder(day, dayStartUtc(day, tz), dayStartUtc(day + 1, tz));
    for await (const page of upstream.salesPages(date, date)) {
      for (const line of page.content) builder.add(line);
    }
    const data = builder.finish(now(), day < today());
    if (data.offDayLines > 0) {
      logger.warn(
        { day: date, offDayLines: data.offDayLines, businessTz: tz },
        'the system of record returned lines of other business days: are its days in BUSINESS_TZ?',
      );
    }
    const meta: PartitionMeta = {
      day: date,
      version: data.version,
      fetchedAt: new Date(data.fetchedAt).toISOString(),
      closed: data.closed,
      lines: data.lineCount,
      offDayLines: data.offDayLines,
    };
    await cache.set(META_KEY + date, meta, { ttlMs: a.partitionTtlMs });
    return data;
  }

  function emptyDay(day: number): HeldDay {
    const builder = createPartitionBuilder(day, 0, 0);
    return { view: createDayView(builder.finish(now(), false), stores, products), stale: false };
  }

  async function loadDay(day: number, counters?: { fetched: number }): Promise<HeldDay> {
    const date = formatDay(day);
    const ttl = ttlFor(day);
    const result = await cache.getOrLoad<Buffer>(
      PARTITION_KEY + date,
      async () => {
        if (counters) counters.fetched++;
        return encodePartition(await fetchDay(day));
      },
      ttl,
    );
    const data = decodePartition(Buffer.isBuffer(result.value) ? result.value : Buffer.from(result.value));
    const previous = decoded.get(day);
    // Same content: keep the existing view and its rollups.
    const view =
      previous && previous.view.data.version === data.version
        ? previous.view
        : createDayView(data, stores, products);
    const stale = result.status === 'stale';
    if (stale) {
      lastError = { day: date, error: result.staleReason ?? 'unknown', at: new Date(now()).toISOString() };
    }
    const freshFor = Math.max(0, ttl.ttlMs - result.ageMs);
    const trustFor = stale
      ? STALE_RETRY_MS
      : config.mode === 'shared'
        ? Math.min(freshFor, a.partitionRecheckMs)
        : freshFor;
    const entry: Decoded = { view, stale, trustUntil: now() + trustFor };
    generation++;
    decoded.set(day, entry);
    return entry;
  }

  /** One business day, from memory, the shared cache, or the system of record (in that order). */
  function getDay(day: number, counters?: { fetched: number }): Promise<HeldDay> {
    if (day > today()) return Promise.resolve(emptyDay(day));
    const held = decoded.get(day);
    if (held && now() < held.trustUntil) return Promise.resolve(held);
    let pending = inflight.get(day);
    if (!pending) {
      pending = loadDay(day, counters)
        .catch((err: unknown) => {
          lastError = {
            day: formatDay(day),
            error: err instanceof Error ? err.message : String(err),
            at: new Date(now()).toISOString(),
          };
          throw err;
        })
        .finally(() => inflight.delete(day));
      inflight.set(day, pending);
    }
    return pending;
  }

  /** Days in order, at most SYNC_DAY_CONCURRENCY loading at once. */
  /** Runs `fn` on each day, at most SYNC_DAY_CONCURRENCY at once. */
  async function forEachDay(
    days: number[],
    fn: (day: number, index: number) => Promise<void>,
  ): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < days.length) {
        const i = next++;
        await fn(days[i]!, i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(a.syncDayConcurrency, days.length) }, worker));
  }

  /** Days in order, loaded with bounded concurrency. */
  async function getDays(days: number[], counters?: { fetched: number }): Promise<HeldDay[]> {
    // The cached-answer path: every day held and trusted, no promise per day (a third of a hit's cost).
    const t = now();
    const last = today();
    const held: HeldDay[] = [];
    for (const d of days) {
      const h = d > last ? undefined : decoded.get(d);
      if (!h || t >= h.trustUntil) break;
      held.push(h);
    }
    if (held.length === days.length) return held;
    const out: HeldDay[] = new Array(days.length);
    await forEachDay(days, async (day, i) => {
      out[i] = await getDay(day, counters);
    });
    return out;
  }

  return {
    stores,
    products,
    today,
    getDay,
    getDays,

    /** Changes whenever a day is loaded, re-read, dropped or evicted; read it before reading days. */
    generation: () => generation,

    /**
     * A mark of the days as held now, after reading them with `generation()` read before: while
     * `isCurrent(mark)`, reading them again would return the same copies, so whatever was derived
     * from them (a data version) still holds. Days after today count as held for good (they are
     * empty until then, and a new today changes the days a query asks for).
     */
    markHeld(days: readonly number[], generationBefore: number): HeldMark {
      const mark = { generation: generationBefore, until: Number.POSITIVE_INFINITY };
      const last = today();
      for (const d of days) {
        if (d > last) continue;
        const h = decoded.peek(d);
        mark.until = Math.min(mark.until, h ? h.trustUntil : 0);
      }
      return mark;
    },

    isCurrent(mark: HeldMark): boolean {
      return mark.generation === generation && now() < mark.until;
    },

    /**
     * Forgets days whose lines changed (a sales import): the next query re-reads them. Other
     * instances see the partition gone from the shared cache at their next recheck.
     */
    async invalidateDays(days: readonly number[]): Promise<void> {
      for (const d of days) decoded.delete(d);
      await Promise.all(
        days.flatMap((d) => [
          cache.delete(PARTITION_KEY + formatDay(d)),
          cache.delete(META_KEY + formatDay(d)),
        ]),
      );
    },

    /** What this process holds decoded (cheap: for metrics at every scrape). */
    held(): { inMemory: number; memoryBytes: number } {
      return { inMemory: decoded.size, memoryBytes: decoded.calculatedSize };
    },

    /**
     * Syncs a window now: missing or expired days are fetched; `force` re-reads every day.
     * `onDay` is told of each day as it is done (a progress bar), in completion order.
     */
    async sync(from: number, to: number, options: SyncOptions = {}): Promise<SyncReport> {
      const started = performance.now();
      const last = Math.min(to, today());
      const days: number[] = [];
      for (let d = from; d <= last; d++) days.push(d);
      if (options.force) {
        for (const d of days) decoded.delete(d);
        await Promise.all(days.map((d) => cache.delete(PARTITION_KEY + formatDay(d))));
      }
      const counters = { fetched: 0 };
      const failed: SyncReport['failed'] = [];
      let lines = 0;
      await forEachDay(days, async (d) => {
        try {
          const held = await getDay(d, counters);
          lines += held.view.data.lineCount;
          options.onDay?.({ day: formatDay(d), days: days.length, lines: held.view.data.lineCount });
        } catch (err) {
          failed.push({ day: formatDay(d), error: err instanceof Error ? err.message : String(err) });
          options.onDay?.({ day: formatDay(d), days: days.length, lines: 0, failed: true });
        }
      });
      const ms = Math.round(performance.now() - started);
      const report: SyncReport = {
        from: formatDay(from),
        to: formatDay(last),
        days: days.length,
        fetched: counters.fetched,
        // A failed day was a fetch attempt: it counts in `fetched` (and `failed`), never in `reused`.
        reused: Math.max(0, days.length - counters.fetched),
        lines,
        failed: failed.sort((x, y) => x.day.localeCompare(y.day)),
        ms,
        linesPerSecond: ms > 0 ? Math.round((lines / ms) * 1000) : lines,
      };
      await cache
        .set(
          STATUS_KEY,
          { lastSync: { ...report, at: new Date(now()).toISOString() } },
          { ttlMs: a.partitionTtlMs },
        )
        .catch(() => {});
      return report;
    },

    /** Watermark (newest complete day), partitions held, last sync and last error. */
    async status(lookbackDays = 400) {
      const t = today();
      const days: number[] = [];
      for (let d = t; d > t - lookbackDays; d--) days.push(d);
      const metas = await Promise.all(
        days.map((d) => cache.get<PartitionMeta>(META_KEY + formatDay(d)).catch(() => undefined)),
      );
      const held = metas.filter((m): m is NonNullable<typeof m> => m !== undefined).map((m) => m.value);
      // The watermark: the newest day held that was read after it ended (so its figures are final).
      let watermark: string | undefined;
      for (let i = 0; i < days.length; i++) {
        const m = metas[i]?.value;
        if (m?.closed) {
          watermark = m.day;
          break;
        }
      }
      const stored = await cache
        .get<{ lastSync?: SyncReport & { at: string } }>(STATUS_KEY)
        .catch(() => undefined);
      return {
        today: formatDay(t),
        watermark: watermark ?? null,
        partitions: {
          held: held.length,
          oldest: held.length ? held[held.length - 1]!.day : null,
          newest: held.length ? held[0]!.day : null,
          lines: held.reduce((sum, m) => sum + m.lines, 0),
          inMemory: decoded.size,
          memoryBytes: decoded.calculatedSize,
        },
        lastSync: stored?.value.lastSync ?? null,
        lastError: lastError ?? null,
      };
    },
  };
}

export type PartitionStore = ReturnType<typeof partitionStoreFactory>;
