/** Pure helpers shared by the channels: classification, Retry-After, addresses, keys. */
import { createHash } from 'node:crypto';
import type { ChannelErrorKind, DeliveryMessage, HeadlineKpi } from './channel-types.ts';

/** sha256 of the ledger key, hex: the stable, secret-free name of one delivery. */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The e-mail Message-ID of a delivery: the same key gives the same id, so a resend is recognisable. */
export function messageIdFor(key: string): string {
  return `<${keyDigest(key).slice(0, 32)}@salesflow>`;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  // An HTTP date has a month name and a time; Date.parse alone would read "-5" as a year.
  if (!/[A-Za-z]{3}/.test(raw) || !/\d{2}:\d{2}:\d{2}/.test(raw)) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** How an HTTP status ends an attempt; undefined for 2xx. 408 and 429 are "try later", other 4xx are final. */
export function classifyHttpStatus(status: number): ChannelErrorKind | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return 'permanent';
}

/** How an SMTP reply code ends an attempt (RFC 5321: 4yz transient, 5yz permanent). */
export function classifySmtpCode(code: number): ChannelErrorKind {
  return code >= 400 && code < 500 ? 'transient' : 'permanent';
}

const E164 = /^\+[1-9]\d{6,14}$/;
export function e164Error(address: string): string | undefined {
  return E164.test(address) ? undefined : 'must be an E.164 phone number such as +33612345678';
}

// Deliberately simple: the SMTP server is the judge of deliverability; this catches typos and
// anything that could smuggle a second address or a header into the envelope.
const EMAIL =
  /^[^\s@<>()[\]",;:\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
export function emailError(address: string): string | undefined {
  if (address.length > 254 || !EMAIL.test(address))
    return 'must be an e-mail address such as anna@example.com';
  return undefined;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** An https URL (http only to this machine, for local receivers and tests). */
export function httpsUrlError(address: string): string | undefined {
  if (!URL.canParse(address)) return 'must be an https URL';
  const u = new URL(address);
  if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname))) return undefined;
  return 'must be an https URL';
}

/** A URL for messages and logs: origin and the first path segment, the rest (often a secret) elided. */
export function redactUrl(address: string): string {
  if (!URL.canParse(address)) return '(invalid URL)';
  const u = new URL(address);
  const first = u.pathname.split('/').filter(Boolean)[0];
  return `${u.origin}/${first ? `${first}/…` : ''}`;
}

/** Whether the files travel as attachments (true) or as the signed link (false). */
export function attachFiles(message: DeliveryMessage, maxBytes: number): boolean {
  if (message.files.length === 0) return false;
  if (message.attach === 'link' && message.link) return false;
  if (message.attach === 'always' || !message.link) return true;
  const total = message.files.reduce((sum, f) => sum + f.bytes, 0);
  return total <= maxBytes;
}

export const ARROWS = { up: '▲', down: '▼', flat: '▶' } as const;

/** "Revenue: €12,340.50 (▲ +4.2% vs last week)" */
export function kpiLine(kpi: HeadlineKpi): string {
  const change = kpi.change ? ` (${ARROWS[kpi.change.direction]} ${kpi.change.text})` : '';
  return `${kpi.label}: ${kpi.value}${change}`;
}

export const INCOMPLETE_NOTE =
  'Incomplete data: some of the period was not yet available when this report was made.';

/** The plain-text body every text channel shares: notice, KPIs, summary, link. */
export function plainSummary(message: DeliveryMessage, withLink: boolean): string {
  const lines: string[] = [];
  if (message.incomplete) lines.push(`⚠ ${INCOMPLETE_NOTE}`, '');
  lines.push(...message.headline.map(kpiLine));
  if (message.text) lines.push('', message.text);
  if (withLink && message.link) {
    lines.push('', `Download: ${message.link.url}`, `(link valid until ${message.link.expiresAt})`);
  }
  return lines.join('\n');
}

/** Message text that cannot carry a secret: provider text is cut short and stripped of the given secrets. */
export function scrub(text: string, secrets: (string | undefined)[], max = 300): string {
  let out = text.length > max ? `${text.slice(0, max)}…` : text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
