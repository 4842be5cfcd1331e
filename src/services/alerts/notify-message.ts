/**
 * The message one recipient gets from one check: every notice in one place, most severe first,
 * each line saying what, where, how far from the usual, the money at stake and why (the
 * explanation). Pure: the same notices give the same bytes, whichever process sends them.
 */
import type { StoredMessage } from '../delivery/send/ledger-sender.ts';
import type { Notice, RecipientBucket } from './notify-fns.ts';

/** Lines of alerts in a message's text; the webhook body carries every alert. */
export const MAX_NOTICES_IN_TEXT = 50;

export interface MessageContext {
  day: string;
  holiday: string | null;
  complete: boolean;
  money(value: number): string;
}

const LEVEL_NAMES: Record<string, string> = {
  store: 'store',
  region: 'region',
  category: 'category',
  brand: 'brand',
  product: 'product',
};

function what(n: Notice, money: (v: number) => string): string {
  const a = n.alert;
  const d = a.detection;
  const level = LEVEL_NAMES[a.entity.level] ?? a.entity.level;
  const kind = a.kind.replace(/_/g, ' ');
  const metric = d.score === null ? '' : ` ${a.metric}`;
  const score = d.score === null ? '' : `, score ${d.score}`;
  const stake =
    d.lostRevenue !== undefined
      ? `, ${money(d.lostRevenue)} of sales lost`
      : `, ${money(a.moneyAtStake)} at stake`;
  return `${a.severity.toUpperCase()} · ${a.entity.name} (${level}) ·${metric} ${kind}${score}${stake}`;
}

/** One notice as text lines: the headline and, indented, its explanation. */
export function noticeLines(n: Notice, money: (v: number) => string): string[] {
  const a = n.alert;
  if (n.notify === 'resolved') {
    return [
      `RESOLVED · ${a.entity.name} (${LEVEL_NAMES[a.entity.level] ?? a.entity.level}) · ${a.kind.replace(/_/g, ' ')}: ` +
        `back to normal on ${a.resolvedOn}, anomalous ${a.firstSeen} to ${a.lastSeen} [${a.id}]`,
    ];
  }
  const since = n.notify === 'repeat' ? ` (still firing since ${a.firedOn})` : '';
  const holiday = a.detection.holiday ? ` Public holiday: ${a.detection.holiday}.` : '';
  return [
    `${what(n, money)}${since} [${a.id}]`,
    `  ${a.detection.explanation.summary}${holiday}`,
    `  Rule: ${n.ruleName}`,
  ];
}

export function alertMessage(bucket: RecipientBucket, ctx: MessageContext): StoredMessage {
  const firing = bucket.notices.filter((n) => n.notify === 'firing');
  const repeats = bucket.notices.filter((n) => n.notify === 'repeat');
  const resolved = bucket.notices.filter((n) => n.notify === 'resolved');
  const open = [...firing, ...repeats];
  const critical = open.some((n) => n.alert.severity === 'critical');
  const counts = [
    firing.length ? `${firing.length} new` : '',
    repeats.length ? `${repeats.length} still firing` : '',
    resolved.length ? `${resolved.length} resolved` : '',
  ].filter(Boolean);
  const subject = `${critical ? '[critical] ' : ''}SalesFlow alerts ${ctx.day}: ${counts.join(', ')}`;
  // The largest, not a sum: a store's drop is also its region's, and would count twice.
  const stake = open.reduce((max, n) => Math.max(max, n.alert.moneyAtStake), 0);
  const headline = [
    { label: 'New alerts', value: String(firing.length) },
    { label: 'Still firing', value: String(repeats.length) },
    { label: 'Resolved', value: String(resolved.length) },
    { label: 'Largest at stake', value: ctx.money(Math.round(stake * 100) / 100) },
  ];
  const lines: string[] = [];
  if (ctx.holiday) lines.push(`${ctx.day} was a public holiday: ${ctx.holiday}.`, '');
  for (const n of bucket.notices.slice(0, MAX_NOTICES_IN_TEXT)) lines.push(...noticeLines(n, ctx.money));
  const more = bucket.notices.length - MAX_NOTICES_IN_TEXT;
  if (more > 0) lines.push(`… and ${more} more (GET /api/v1/alerts lists them all).`);
  return {
    subject,
    headline,
    text: lines.join('\n'),
    ...(ctx.complete ? {} : { incomplete: true }),
    files: [],
    attach: 'auto',
    webhook: {
      event: 'alerts',
      day: ctx.day,
      recipient: bucket.name ?? null,
      alerts: bucket.notices.map((n) => ({
        id: n.alert.id,
        notify: n.notify,
        ruleId: n.alert.ruleId,
        rule: n.ruleName,
        entity: n.alert.entity,
        kind: n.alert.kind,
        direction: n.alert.direction,
        severity: n.alert.severity,
        score: n.alert.score,
        moneyAtStake: n.alert.moneyAtStake,
        actual: n.alert.detection.actual,
        expected: n.alert.detection.expected,
        firstSeen: n.alert.firstSeen,
        firedOn: n.alert.firedOn,
        resolvedOn: n.alert.resolvedOn,
        explanation: n.alert.detection.explanation,
      })),
    },
  };
}
