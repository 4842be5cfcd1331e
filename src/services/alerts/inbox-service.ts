/**
 * The alerts as people see and handle them: list, one alert with the series around it, acknowledge,
 * snooze. The series comes from the sales analytics (the one implementation of every KPI).
 */
import type { AlertRecords } from '../../db/repos/alert-records.ts';
import type { AlertSilences } from '../../db/repos/alert-silences.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { formatDay, parseDay } from '../../lib/calendar.ts';
import type { AlertDetail, AlertListQuery, AlertRecord, SnoozeBody } from '../../models/alert-book.ts';
import type { SalesAnalyticsService, SalesFilters } from '../analytics/sales-analytics-service.ts';
import { durationMs, silenceMatches } from './lifecycle-fns.ts';
import type { AlertRulesService } from './rules-service.ts';

export interface AlertInboxDeps {
  records: Pick<AlertRecords, 'get' | 'list' | 'acknowledge' | 'snooze'>;
  silences: Pick<AlertSilences, 'active'>;
  rules: Pick<AlertRulesService, 'list'>;
  sales: Pick<SalesAnalyticsService, 'dailySeries'>;
  today: () => number;
  now?: () => number;
}

/** Days of history before an episode, and after it, in the series of GET /alerts/{id}. */
export const SERIES_BEFORE_DAYS = 28;
export const SERIES_AFTER_DAYS = 7;

/** The sales filters that select exactly the alert's entity. */
export function filtersOf(entity: AlertRecord['entity']): SalesFilters {
  switch (entity.level) {
    case 'store':
      return { storeId: [entity.id] };
    case 'region':
      return { region: [entity.id] };
    case 'category':
      return { category: [entity.id] };
    case 'brand':
      return { brand: [entity.id] };
    case 'product':
      return {
        productId: [entity.productId ?? entity.id],
        ...(entity.storeId ? { storeId: [entity.storeId] } : {}),
      };
  }
}

export function alertInboxServiceFactory(deps: AlertInboxDeps) {
  const now = deps.now ?? Date.now;

  async function load(id: string): Promise<AlertRecord> {
    const found = await deps.records.get(id);
    if (!found) throw new NotFoundError(`No alert ${id}.`);
    return found;
  }

  return {
    async list(q: AlertListQuery) {
      const { items, total } = await deps.records.list(q);
      return { items, total, limit: q.limit, offset: q.offset };
    },

    async get(id: string): Promise<AlertDetail> {
      const alert = await load(id);
      const yesterday = deps.today() - 1;
      const from = parseDay(alert.firstSeen)! - SERIES_BEFORE_DAYS;
      const end = alert.state === 'resolved' && alert.resolvedOn ? alert.resolvedOn : alert.lastSeen;
      const to = Math.min(yesterday, parseDay(end)! + SERIES_AFTER_DAYS);
      const metric = alert.metric === 'revenue' || alert.metric === 'orders' ? alert.metric : 'units';
      const [series, rules, silences] = await Promise.all([
        deps.sales.dailySeries({ from, to, filters: filtersOf(alert.entity), top: 1, target: metric }),
        deps.rules.list(),
        deps.silences.active(new Date(now()).toISOString()),
      ]);
      const rule = rules.find((r) => r.id === alert.ruleId);
      const values = series.series[0]?.values ?? [];
      const nowIso = new Date(now()).toISOString();
      return {
        ...alert,
        rule: rule ? { id: rule.id, name: rule.name } : null,
        series: {
          metric,
          from: formatDay(from),
          to: formatDay(to),
          values: series.days.map((d, i) => ({ day: formatDay(d), value: values[i] ?? 0 })),
          complete: series.complete,
        },
        silencedBy: silences.filter((s) => silenceMatches(s, alert, nowIso)).map((s) => s.id),
      };
    },

    async acknowledge(id: string, by: string): Promise<AlertRecord> {
      if (!(await deps.records.acknowledge(id, by, new Date(now()).toISOString())))
        throw new NotFoundError(`No alert ${id}.`);
      return load(id);
    },

    async snooze(id: string, body: SnoozeBody): Promise<AlertRecord> {
      const at = now();
      let until: string | null;
      if (body.for !== undefined) until = new Date(at + durationMs(body.for)).toISOString();
      else if (body.until === null || body.until === undefined) until = null;
      else {
        const t = Date.parse(body.until);
        if (!(t > at))
          throw new ValidationError('body.until: must be in the future', [
            { path: 'body.until', message: 'must be in the future' },
          ]);
        until = new Date(t).toISOString();
      }
      if (!(await deps.records.snooze(id, until, new Date(at).toISOString())))
        throw new NotFoundError(`No alert ${id}.`);
      return load(id);
    },
  };
}

export type AlertInboxService = ReturnType<typeof alertInboxServiceFactory>;
