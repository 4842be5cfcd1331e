/**
 * The alert lifecycle, one checked day at a time. Pure: the check service loads what is stored,
 * calls `applyDay`, sends what it says, and stores what it returns.
 *
 *   (none | resolved) --anomalous--> pending --pendingPeriods in a row--> firing --normal day--> resolved
 *
 * - One alert per (rule, entity): it stays open across days, and a later episode reopens the
 *   same alert.
 * - A day at or before an alert's `lastChecked` changes nothing: checking a day twice is a no-op.
 * - Notifications: when it starts firing; while it fires, again at most once per `repeatInterval`
 *   (not once acknowledged); when it resolves, if the rule asks and the firing was notified.
 * - A due notification is suppressed (and stays due: a firing alert is notified once the snooze
 *   or the silence ends) by a matching silence, a snooze, or for repeats an acknowledgement.
 */

import type { AlertChange, AlertRecord, AlertState, NotifyKind } from '../../models/alert-book.ts';
import type { AlertCandidate, AlertRule } from '../../models/alerts.ts';
import { repeatDays } from './episode-fns.ts';

export type LifecycleRule = Pick<AlertRule, 'id' | 'pendingPeriods' | 'repeatInterval' | 'notifyOnResolve'>;

export interface SilenceMatcher {
  id: string;
  ruleId: string | null;
  entityId: string | null;
  startsAt: string;
  endsAt: string;
}

export interface DayInput {
  /** the checked business day, YYYY-MM-DD */
  day: string;
  /** when the check runs (ISO): snoozes and silences are compared with it */
  now: string;
  /** the rules evaluated this day (sales rules on an open day, stock rules when stock is known) */
  evaluated: ReadonlyMap<string, LifecycleRule>;
  /** every enabled rule: open alerts of any other rule (deleted or disabled) are retired */
  enabled: ReadonlySet<string>;
  candidates: readonly AlertCandidate[];
  /** stored alerts: those of the candidates' (rule, entity), and every open one */
  stored: readonly AlertRecord[];
  silences: readonly SilenceMatcher[];
  /** the id of a (rule, entity) */
  idOf(ruleId: string, entityId: string): string;
}

export interface Transition {
  alert: AlertRecord;
  previousState: AlertState | null;
  change: AlertChange;
  /** this day opened a new episode (the first, or after a resolution): the acknowledgement is cleared */
  newEpisode: boolean;
  /** what to notify now (null: nothing, or suppressed) */
  notify: NotifyKind | null;
  /** why a due notification does not go */
  suppressed: string | null;
}

/** `12h`, `1d`, `2w` in milliseconds (snoozes and silences given as a duration). */
export function durationMs(duration: string): number {
  const n = Number(duration.slice(0, -1));
  const unit = duration.at(-1);
  return n * (unit === 'w' ? 7 * 86_400_000 : unit === 'd' ? 86_400_000 : 3_600_000);
}

/** Whole days from `a` to `b` (YYYY-MM-DD). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** Whether a silence holds, now, for this alert: its rule and/or entity match and it is in force. */
export function silenceMatches(
  s: SilenceMatcher,
  alert: Pick<AlertRecord, 'ruleId' | 'entity'>,
  now: string,
): boolean {
  if (!(s.startsAt <= now && now < s.endsAt)) return false;
  if (s.ruleId !== null && s.ruleId !== alert.ruleId) return false;
  if (s.entityId !== null) {
    const e = alert.entity;
    if (s.entityId !== e.id && s.entityId !== e.storeId && s.entityId !== e.productId) return false;
  }
  return s.ruleId !== null || s.entityId !== null;
}

/** Why a due notification of `kind` must not go now, or null. */
export function suppression(
  alert: AlertRecord,
  kind: NotifyKind,
  silences: readonly SilenceMatcher[],
  now: string,
): string | null {
  const silence = silences.find((s) => silenceMatches(s, alert, now));
  if (silence) return `silenced by ${silence.id}`;
  if (alert.snoozedUntil !== null && now < alert.snoozedUntil) return `snoozed until ${alert.snoozedUntil}`;
  if (kind !== 'resolved' && alert.acknowledged) return 'acknowledged';
  return null;
}

/** Was this episode's firing notified (a notification on or after its first day)? */
export function notifiedThisEpisode(alert: Pick<AlertRecord, 'lastNotifiedDay' | 'firstSeen'>): boolean {
  return alert.lastNotifiedDay !== null && alert.lastNotifiedDay >= alert.firstSeen;
}

/** What a firing alert is due to notify on `day`: its first notification, a repeat, or nothing. */
export function dueWhileFiring(alert: AlertRecord, rule: LifecycleRule, day: string): NotifyKind | null {
  if (!notifiedThisEpisode(alert)) return 'firing';
  const gap = daysBetween(alert.lastNotifiedDay!, day);
  return gap >= repeatDays(rule.repeatInterval) ? 'repeat' : null;
}

function fromCandidate(c: AlertCandidate) {
  return {
    metric: c.metric,
    kind: c.kind,
    direction: c.direction ?? null,
    severity: c.severity,
    score: c.score,
    moneyAtStake: c.moneyAtStake,
    entity: c.entity,
    detection: c,
  };
}

/** One (rule, entity) on one day: anomalous (`c`) or not. Undefined when nothing changes. */
export function step(
  prev: AlertRecord | undefined,
  c: AlertCandidate | undefined,
  rule: LifecycleRule,
  input: Pick<DayInput, 'day' | 'now' | 'silences' | 'idOf'>,
): Transition | undefined {
  const { day, now } = input;
  if (prev && prev.lastChecked >= day) return undefined;
  let next: AlertRecord;
  let change: AlertChange;
  let due: NotifyKind | null = null;
  const newEpisode = c !== undefined && (!prev || prev.state === 'resolved');
  if (c) {
    if (newEpisode || !prev) {
      next = {
        id: prev?.id ?? input.idOf(c.ruleId, c.entity.id),
        ruleId: c.ruleId,
        ...fromCandidate(c),
        state: 'pending',
        firstSeen: day,
        lastSeen: day,
        lastChecked: day,
        consecutive: 1,
        episodes: (prev?.episodes ?? 0) + 1,
        firedOn: null,
        resolvedOn: null,
        acknowledged: null,
        snoozedUntil: prev?.snoozedUntil ?? null,
        lastNotifiedAt: prev?.lastNotifiedAt ?? null,
        lastNotifiedDay: prev?.lastNotifiedDay ?? null,
        createdAt: prev?.createdAt ?? now,
        updatedAt: now,
      };
      change = prev ? 'reopened' : 'opened';
    } else {
      next = {
        ...prev,
        ...fromCandidate(c),
        lastSeen: day,
        lastChecked: day,
        consecutive: prev.consecutive + 1,
        updatedAt: now,
      };
      change = 'continued';
    }
    if (next.state === 'pending' && next.consecutive >= rule.pendingPeriods) {
      next.state = 'firing';
      next.firedOn = day;
      change = 'fired';
    }
    if (next.state === 'firing') due = dueWhileFiring(next, rule, day);
  } else {
    if (!prev || prev.state === 'resolved') return undefined;
    next = { ...prev, state: 'resolved', resolvedOn: day, lastChecked: day, consecutive: 0, updatedAt: now };
    change = 'resolved';
    if (prev.state === 'firing' && rule.notifyOnResolve && notifiedThisEpisode(prev)) due = 'resolved';
  }
  const suppressed = due ? suppression(next, due, input.silences, now) : null;
  const notify = suppressed ? null : due;
  if (notify) {
    next.lastNotifiedDay = day;
    next.lastNotifiedAt = now;
  }
  return { alert: next, previousState: prev?.state ?? null, change, newEpisode, notify, suppressed };
}

/** Every change one checked day makes: new, continued, fired, resolved and retired alerts. */
export function applyDay(input: DayInput): Transition[] {
  const byId = new Map(input.stored.map((a) => [a.id, a]));
  const out: Transition[] = [];
  const seen = new Set<string>();
  for (const c of input.candidates) {
    const rule = input.evaluated.get(c.ruleId);
    if (!rule) continue;
    const id = input.idOf(c.ruleId, c.entity.id);
    if (seen.has(id)) continue;
    seen.add(id);
    const t = step(byId.get(id), c, rule, input);
    if (t) out.push(t);
  }
  for (const prev of input.stored) {
    if (seen.has(prev.id) || prev.state === 'resolved') continue;
    const rule = input.evaluated.get(prev.ruleId);
    if (rule) {
      const t = step(prev, undefined, rule, input);
      if (t) out.push(t);
    } else if (!input.enabled.has(prev.ruleId)) {
      // Its rule was deleted or disabled: nobody is watching it any more, and nobody is told.
      out.push({
        alert: { ...prev, state: 'resolved', resolvedOn: input.day, consecutive: 0, updatedAt: input.now },
        previousState: prev.state,
        change: 'retired',
        newEpisode: false,
        notify: null,
        suppressed: null,
      });
    }
  }
  return out;
}
