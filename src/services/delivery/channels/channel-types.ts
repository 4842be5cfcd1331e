/**
 * What the delivery ledger hands a channel, and what a channel answers.
 *
 * A channel makes ONE attempt and says precisely how it ended; it never retries and keeps no state
 * between calls. Retries, backoff, leases and "exactly once" are the ledger's business: it can only
 * do that right if a channel never hides a second attempt and never calls "failed" what may have
 * been delivered.
 */

export type ChannelKind = 'email' | 'whatsapp' | 'slack' | 'webhook';
export const CHANNEL_KINDS: readonly ChannelKind[] = ['email', 'whatsapp', 'slack', 'webhook'];

export interface DeliveryFile {
  filename: string;
  contentType: string;
  /** where the rendered file is on disk (under EXPORTS_DIR) */
  path: string;
  bytes: number;
}

export interface HeadlineKpi {
  label: string;
  /** already formatted, e.g. "€12,340.50" */
  value: string;
  change?: { text: string; direction: 'up' | 'down' | 'flat' };
}

export interface DeliveryMessage {
  /** the ledger key: stable across retries of the same delivery, so providers can deduplicate */
  key: string;
  recipient: { address: string; name?: string };
  /** e.g. "Daily sales 2026-12-02 · Store 7 (Lyon)" */
  subject: string;
  headline: HeadlineKpi[];
  /** short plain-text summary lines */
  text: string;
  /** the period's data was incomplete: every channel says so visibly */
  incomplete?: boolean;
  /** rendered report files (pdf and/or xlsx) */
  files: DeliveryFile[];
  /** signed download link for the files */
  link?: { url: string; expiresAt: string };
  /** auto: attach unless the files are over ATTACHMENT_MAX_MB, then link */
  attach: 'auto' | 'always' | 'link';
  /** the JSON body for webhooks: {schedule, period, recipient, report: {type, period, kpis, downloadUrl}} */
  webhook?: Record<string, unknown>;
}

export interface SendOutcome {
  /** the provider's id of what was sent (SMTP Message-ID, wamid, Slack file id or ts, ...) */
  providerMessageId: string;
  /** a short human note, e.g. "sent as template (outside the 24-hour window)"; never a secret */
  detail?: string;
}

/**
 * - transient: nothing was delivered and trying again later may work (SMTP 4xx, HTTP 429/5xx,
 *   rate limits, connection refused before anything was sent);
 * - permanent: nothing was delivered and trying again will fail the same way (SMTP 5xx, HTTP 4xx,
 *   a bad token, an undeliverable number);
 * - unknown: the request may have been accepted (a timeout or a reset after the message was
 *   handed over): the ledger must not resend it automatically.
 */
export type ChannelErrorKind = 'transient' | 'permanent' | 'unknown';

export class ChannelError extends Error {
  override name = 'ChannelError';
  constructor(
    readonly kind: ChannelErrorKind,
    /** stable and short: `smtp-451`, `http-503`, `whatsapp-131056`, `slack-channel_not_found`, `timeout`... */
    readonly code: string,
    /** already free of secrets: channels build it from provider answers, never from their config */
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface SendOptions {
  /** the ledger's lease: aborting it ends the attempt (as `unknown` once the message was handed over) */
  signal: AbortSignal;
}

export interface DeliveryChannel {
  kind: ChannelKind;
  /** an error message, or undefined when the address is valid for this channel */
  validateAddress(address: string): string | undefined;
  /** one attempt; resolves when the provider accepted the message, otherwise throws ChannelError */
  send(message: DeliveryMessage, opts: SendOptions): Promise<SendOutcome>;
  close(): Promise<void>;
}
