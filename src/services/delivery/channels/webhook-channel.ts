/**
 * Webhook channel: one signed JSON POST of `message.webhook` to the recipient's URL, with the ledger
 * key as `Idempotency-Key` so a receiver can drop a resend it already has.
 */
import { classifyHttpStatus, httpsUrlError, keyDigest, parseRetryAfter, redactUrl } from './channel-fns.ts';
import { ChannelError, type DeliveryChannel } from './channel-types.ts';
import { createHttpAgent, httpCall } from './http-call.ts';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.ts';

export interface WebhookChannelOptions {
  secret: string;
  timeoutMs: number;
  /** seconds since the epoch; tests pin it */
  nowSeconds?: () => number;
}

export function createWebhookChannel(opts: WebhookChannelOptions): DeliveryChannel {
  const agent = createHttpAgent(opts.timeoutMs);
  const now = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  return {
    kind: 'webhook',
    validateAddress: httpsUrlError,
    async send(message, { signal }) {
      if (!message.webhook) {
        throw new ChannelError('permanent', 'no-webhook-body', 'the message has no webhook body');
      }
      const body = JSON.stringify(message.webhook);
      const answer = await httpCall(
        agent,
        {
          url: message.recipient.address,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'salesflow-delivery',
            'idempotency-key': message.key,
            [SIGNATURE_HEADER.toLowerCase()]: signWebhook(opts.secret, body, now()),
          },
          body,
          phase: 'deliver',
          what: 'Webhook',
        },
        signal,
        opts.timeoutMs,
      );
      const kind = classifyHttpStatus(answer.status);
      if (kind) {
        throw new ChannelError(
          kind,
          `http-${answer.status}`,
          `Webhook (${redactUrl(message.recipient.address)}) answered HTTP ${answer.status}`,
          kind === 'transient' ? parseRetryAfter(answer.headers['retry-after']) : undefined,
        );
      }
      return {
        providerMessageId: `webhook:${keyDigest(message.key).slice(0, 32)}`,
        detail: `HTTP ${answer.status}`,
      };
    },
    close: () => agent.close(),
  };
}
