/**
 * The configured channels. Each is optional: what is missing is listed with the reason, so a
 * schedule naming it can be refused with a clear message instead of failing at send time.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../../config.ts';
import type { ChannelKind, DeliveryChannel } from './channel-types.ts';
import { createEmailChannel } from './email-channel.ts';
import { createSlackChannel } from './slack-channel.ts';
import { smtpTargetFromUrl } from './smtp-send.ts';
import { createWebhookChannel } from './webhook-channel.ts';
import { createWhatsAppChannel } from './whatsapp-channel.ts';

export interface ChannelSet {
  available: Partial<Record<ChannelKind, DeliveryChannel>>;
  /** why a channel is not available, e.g. "WEBHOOK_SECRET is not set" */
  unavailable: Partial<Record<ChannelKind, string>>;
  /** the channel, or a sentence saying why there is none */
  get(kind: ChannelKind): DeliveryChannel | string;
  close(): Promise<void>;
}

export function createChannels(
  config: Pick<Config, 'delivery' | 'reports'>,
  logger: Pick<FastifyBaseLogger, 'info'>,
): ChannelSet {
  const d = config.delivery;
  const available: ChannelSet['available'] = {};
  const unavailable: ChannelSet['unavailable'] = {};
  const smtp = d.smtpUrl ? smtpTargetFromUrl(d.smtpUrl) : undefined;
  available.email = createEmailChannel({
    smtp,
    from: d.mailFrom,
    exportsDir: config.reports.exportsDir,
    attachmentMaxBytes: d.attachmentMaxBytes,
    timeoutMs: d.timeoutMs,
  });
  if (d.whatsapp) {
    available.whatsapp = createWhatsAppChannel({
      ...d.whatsapp,
      attachmentMaxBytes: d.attachmentMaxBytes,
      timeoutMs: d.timeoutMs,
    });
  } else {
    unavailable.whatsapp = 'WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are not set';
  }
  // Incoming webhook URLs need no configuration; channel ids need SLACK_BOT_TOKEN (checked per address).
  available.slack = createSlackChannel({
    botToken: d.slack.botToken,
    apiUrl: d.slack.apiUrl,
    attachmentMaxBytes: d.attachmentMaxBytes,
    timeoutMs: d.timeoutMs,
  });
  if (d.webhookSecret) {
    available.webhook = createWebhookChannel({ secret: d.webhookSecret, timeoutMs: d.timeoutMs });
  } else {
    unavailable.webhook = 'WEBHOOK_SECRET is not set: webhooks are always signed';
  }
  logger.info(
    {
      channels: Object.keys(available),
      email: smtp ? smtp.label : 'outbox (SMTP_URL is not set)',
      slackBot: Boolean(d.slack.botToken),
      unavailable,
    },
    'delivery channels',
  );
  return {
    available,
    unavailable,
    get: (kind) => available[kind] ?? unavailable[kind] ?? `unknown channel ${kind}`,
    async close() {
      await Promise.allSettled(Object.values(available).map((c) => c.close()));
    },
  };
}
