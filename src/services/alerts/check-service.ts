/**
 * The alert check: detect one day with the enabled rules, move each alert through its lifecycle,
 * and tell each recipient, in one message, what started firing, what still fires past its repeat
 * interval and what resolved. `POST /api/v1/alerts/check`, the CLI and the scheduled check
 * (ALERTS_CRON) all call `check`.
 *
 * Order matters for "exactly once": messages go out first, under ledger keys made of the day and
 * the alerts they carry; the lifecycle is stored after. A check that dies in between is run again
 * and finds the same keys already sent; a check of a day already stored changes nothing.
 */
import type { AlertRecords } from '../../db/repos/alert-records.ts';
import type { AlertSilences } from '../../db/repos/alert-silences.ts';
import { ValidationError } from '../../errors.ts';
import { formatDay, parseDay } from '../../lib/calendar.ts';
import type {
  CheckAnswer,
  CheckBody,
  CheckDelivery,
  CheckedAlert,
  NotifyKind,
} from '../../models/alert-book.ts';
import {
  type AlertRule,
  type BacktestAnswer,
  type BacktestQuery,
  STOCK_METRICS,
} from '../../models/alerts.ts';
import type { CatalogSnapshot } from '../analytics/catalog-snapshot.ts';
import type { LedgerSender } from '../delivery/send/ledger-sender.ts';
import { formatterFor } from '../reports/pdf/format.ts';
import { severityRank } from './detection-fns.ts';
import type { AlertDetector } from './detector-service.ts';
import { applyDay, type Transition } from './lifecycle-fns.ts';
import { notifyRecipients } from './notify.ts';
import { alertIdOf, groupByRecipient, type Hierarchy, type Notice } from './notify-fns.ts';
import type { AlertRulesService } from './rules-service.ts';

export interface AlertCheckDeps {
  detector: Pick<AlertDetector, 'detectDay' | 'backtest'>;
  rules: Pick<AlertRulesService, 'list' | 'forBacktest'>;
  records: Pick<AlertRecords, 'forCheck' | 'save'>;
  silences: Pick<AlertSilences, 'active'>;
  sender: Pick<LedgerSender, 'deliver'>;
  catalog: { current(): Promise<Pick<CatalogSnapshot, 'storeById' | 'productById'>> };
  /** today's business day (days since the epoch) */
  today: () => number;
  display: { currency: string; locale: string };
  /** recipients sent to at once */
  concurrency: number;
  /** counts each notice that reached at least one recipient */
  onNotified?: (kind: NotifyKind) => void;
  now?: () => number;
}

const isStock = (r: AlertRule) => (STOCK_METRICS as readonly string[]).includes(r.metric);

function hierarchyOf(snap: Pick<CatalogSnapshot, 'storeById' | 'productById'>): Hierarchy {
  return {
    regionOfStore: (id) => snap.storeById.get(id)?.region,
    categoryOfProduct: (id) => snap.productById.get(id)?.category,
    brandOfProduct: (id) => snap.productById.get(id)?.brand,
  };
}

function checked(t: Transition): CheckedAlert {
  const a = t.alert;
  return {
    id: a.id,
    ruleId: a.ruleId,
    entity: a.entity,
    kind: a.kind,
    direction: a.direction,
    state: a.state,
    previousState: t.previousState,
    change: t.change,
    severity: a.severity,
    score: a.score,
    moneyAtStake: a.moneyAtStake,
    summary: a.detection.explanation.summary,
    notify: t.notify,
    suppressed: t.suppressed,
  };
}

export function alertCheckServiceFactory(deps: AlertCheckDeps) {
  const now = deps.now ?? Date.now;
  const money = formatterFor(deps.display).currency;

  async function check(body: CheckBody = {}): Promise<CheckAnswer> {
    const started = performance.now();
    const today = deps.today();
    const day = body.date === undefined ? today - 1 : parseDay(body.date)!;
    if (day >= today)
      throw new ValidationError(`body.date: must be a closed day, before today (${formatDay(today)})`, [
        { path: 'body.date', message: `must be a closed day, before today (${formatDay(today)})` },
      ]);
    const dayText = formatDay(day);
    const all = await deps.rules.list();
    const enabled = all.filter((r) => r.enabled);
    const detection = await deps.detector.detectDay(dayText, enabled);
    // Sales rules say nothing about a closed day; stock rules only know the latest day's stock.
    const stockKnown = detection.skipped.stockUnknown === 0;
    const evaluated = new Map(
      enabled.filter((r) => (isStock(r) ? stockKnown : !detection.closed)).map((r) => [r.id, r]),
    );
    const candidates = detection.candidates.filter((c) => evaluated.has(c.ruleId));
    const nowIso = new Date(now()).toISOString();
    const [stored, silences] = await Promise.all([
      deps.records.forCheck(candidates.map((c) => alertIdOf(c.ruleId, c.entity.id))),
      deps.silences.active(nowIso),
    ]);
    const transitions = applyDay({
      day: dayText,
      now: nowIso,
      evaluated,
      enabled: new Set(enabled.map((r) => r.id)),
      candidates,
      stored,
      silences,
      idOf: alertIdOf,
    });

    const rulesById = new Map(all.map((r) => [r.id, r]));
    const notices: Notice[] = transitions
      .filter((t) => t.notify !== null)
      .map((t) => ({
        alert: t.alert,
        notify: t.notify!,
        ruleName: rulesById.get(t.alert.ruleId)?.name ?? t.alert.ruleId,
      }));
    let deliveries: CheckDelivery[] = [];
    if (notices.length > 0) {
      const buckets = groupByRecipient(notices, rulesById, hierarchyOf(await deps.catalog.current()));
      deliveries = await notifyRecipients(
        buckets,
        { day: dayText, holiday: detection.holiday, complete: detection.complete, money },
        { sender: deps.sender, concurrency: deps.concurrency },
      );
      const reached = new Set(buckets.flatMap((b) => b.notices.map((n) => n.alert.id)));
      for (const n of notices) if (reached.has(n.alert.id)) deps.onNotified?.(n.notify);
    }
    const newEpisode = new Set(transitions.filter((t) => t.newEpisode).map((t) => t.alert.id));
    await deps.records.save(
      transitions.map((t) => t.alert),
      (a) => newEpisode.has(a.id),
    );

    const alerts = transitions
      .map(checked)
      .sort(
        (x, y) =>
          severityRank(y.severity) - severityRank(x.severity) ||
          y.moneyAtStake - x.moneyAtStake ||
          x.id.localeCompare(y.id),
      );
    return {
      day: dayText,
      closed: detection.closed,
      holiday: detection.holiday,
      complete: detection.complete,
      rules: [...evaluated.keys()],
      candidates: candidates.length,
      skipped: detection.skipped,
      alerts,
      deliveries,
      meta: { computeMs: Math.round(performance.now() - started) },
    };
  }

  return {
    check,
    /** What the stored rules (or the one named) would have fired; notifies nobody. */
    async backtest(query: BacktestQuery): Promise<BacktestAnswer> {
      return deps.detector.backtest(query, await deps.rules.forBacktest(query.rule));
    },
  };
}

export type AlertCheckService = ReturnType<typeof alertCheckServiceFactory>;
