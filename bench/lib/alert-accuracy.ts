/**
 * Precision and recall of the default alert rules on the sample upstream's generated data: the
 * upstream runs in process, the API's container syncs the days, the backtest replays them, and the
 * fired alerts are matched with the generator's injected events. Shared by bench:alerts and a test.
 */
import pino from 'pino';
import { type GeneratedDataset, injectedEvents } from '../../sample-upstream/generator.ts';
import { createSampleUpstream } from '../../sample-upstream/server.ts';
import { loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { formatDay, parseDay } from '../../src/lib/calendar.ts';
import type { AlertRule, FiredAlert } from '../../src/models/alerts.ts';
import {
  type Accuracy,
  accuracy,
  type Hierarchy,
  type KnownEvent,
} from '../../src/services/alerts/accuracy-fns.ts';
import { benchSqliteFile } from './run-facts.ts';

export interface AccuracyRun {
  seed: number;
  stores: number;
  products: number;
  days: number;
  linesPerDay?: number;
  /** only this rule; default: every enabled default rule */
  rule?: string;
}

export interface AccuracyResult extends Accuracy {
  seed: number;
  checkedDays: number;
  syncMs: number;
  backtestMs: number;
  alertsList: FiredAlert[];
  /** events the generator injected */
  injected: KnownEvent[];
  /** receipts per store per day from the first day, for the z-score baseline */
  storeOrders: Map<string, number[]>;
  firstDay: number;
  hierarchy: Hierarchy;
}

const END_DATE = '2026-06-30';

/** One sync of the data, then one backtest per rule set (default: the enabled default rules). */
export async function measureAccuracy(
  run: AccuracyRun,
  ruleSets: (readonly AlertRule[] | undefined)[] = [undefined],
): Promise<AccuracyResult[]> {
  const upstream = await createSampleUpstream({
    seed: run.seed,
    stores: run.stores,
    products: run.products,
    days: run.days,
    ...(run.linesPerDay ? { linesPerDay: run.linesPerDay } : {}),
    endDate: END_DATE,
    tz: 'Europe/Paris',
    port: 0,
  });
  const end = parseDay(END_DATE)!;
  const config = loadConfig({
    DATABASE_URL: benchSqliteFile(),
    UPSTREAM_URL: upstream.url,
    API_KEYS: 'accuracy-key-0001:analyst',
    ANALYTICS_TODAY: formatDay(end + 1),
    UPSTREAM_PAGE_SIZE: '5000',
    PARTITION_MEMORY_MB: '2048',
    CACHE_MAX_MB: '2048',
    LOG_LEVEL: 'silent',
  });
  const container = createContainer(config, pino({ level: 'silent' }));
  try {
    const first = end - run.days + 1;
    const sync = await container.partitions.sync(first, end);
    if (upstream.dataset.kind !== 'generated') throw new Error('the accuracy run needs generated data');
    const ds = upstream.dataset as GeneratedDataset;
    const injected: KnownEvent[] = injectedEvents(ds).map((e) => ({
      kind: e.kind,
      ...('storeId' in e ? { storeId: e.storeId } : {}),
      ...('productId' in e ? { productId: e.productId } : {}),
      from: e.from,
      to: e.to,
      expected: e.kind === 'promotion',
    }));
    const stores = new Map(ds.stores.map((s) => [String(s.id), s]));
    const products = new Map(ds.catalogue.list().map((p) => [p.id, p]));
    const hierarchy: Hierarchy = {
      regionOfStore: (id) => stores.get(id)?.region,
      categoryOfProduct: (id) => products.get(id)?.category,
      brandOfProduct: (id) => products.get(id)?.brand,
    };
    const storeOrders = new Map<string, number[]>();
    const held = await container.partitions.getDays(Array.from({ length: run.days }, (_, i) => first + i));
    held.forEach((h, i) => {
      for (const [s, n] of h.view.storeOrders) {
        const id = container.partitions.stores.ids[s]!;
        let list = storeOrders.get(id);
        if (!list) {
          list = new Array<number>(run.days).fill(0);
          storeOrders.set(id, list);
        }
        list[i] = n;
      }
    });
    const results: AccuracyResult[] = [];
    for (const rules of ruleSets) {
      const t = performance.now();
      const answer = await container.alerts.backtest(
        { from: formatDay(first), to: formatDay(end), ...(run.rule ? { rule: run.rule } : {}) },
        rules,
      );
      const backtestMs = performance.now() - t;
      // Stock rules look at the last day's stock book only: they are not anomalies of the sales.
      const sales = answer.alerts.filter((a) => a.candidate.score !== null);
      const acc = accuracy(sales, injected, hierarchy, { stores: run.stores, days: answer.days.checked });
      results.push({
        ...acc,
        seed: run.seed,
        checkedDays: answer.days.checked,
        syncMs: sync.ms,
        backtestMs,
        alertsList: sales,
        injected,
        storeOrders,
        firstDay: first,
        hierarchy,
      });
    }
    return results;
  } finally {
    await container.close();
    await upstream.close();
  }
}
