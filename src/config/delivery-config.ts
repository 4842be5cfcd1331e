/**
 * The delivery and scheduling section of the configuration: SMTP, WhatsApp, Slack, webhooks,
 * retries, the schedule runner and the alert check's cron.
 */
import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { booleanFlag, intFrom, isCronPattern, url } from './env-fields.ts';

export const deliveryEnv = {
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  MAIL_FROM: z
    .string()
    .regex(/^[^\r\n]*@[^\r\n]+$/, 'must be an address such as "SalesFlow <reports@example.com>"')
    .default('SalesFlow Reports <reports@salesflow.local>'),
  ATTACHMENT_MAX_MB: intFrom(10, 1, 1_024),
  DELIVERY_TIMEOUT_MS: intFrom(30_000, 100, 600_000),
  WHATSAPP_API_URL: url(['http:', 'https:']).default('https://graph.facebook.com/v21.0'),
  WHATSAPP_TOKEN: z.string().min(8).optional(),
  WHATSAPP_PHONE_NUMBER_ID: z
    .string()
    .regex(/^\d{5,20}$/, 'must be the numeric phone number id')
    .optional(),
  WHATSAPP_TEMPLATE: z
    .string()
    .regex(/^[a-z0-9_]{1,512}$/, 'must be a template name (lowercase letters, digits, _)')
    .optional(),
  WHATSAPP_TEMPLATE_LANGUAGE: z
    .string()
    .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a language code such as en or en_US')
    .default('en'),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xox[a-z]-/, 'must be a Slack bot token (xoxb-...)')
    .optional(),
  SLACK_API_URL: url(['http:', 'https:']).default('https://slack.com/api'),
  WEBHOOK_SECRET: z.string().min(16, 'must have at least 16 characters').optional(),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  DELIVERY_MAX_ATTEMPTS: intFrom(5, 1, 20),
  DELIVERY_RETRY_BASE_MS: intFrom(30_000, 10, 3_600_000),
  DELIVERY_CONCURRENCY: intFrom(8, 1, 64),
  SCHEDULER_ENABLED: booleanFlag(true),
  SCHEDULE_WORKING_TIMEOUT_MINUTES: intFrom(60, 1, 1_440),
  ALERTS_CRON: z
    .string()
    .trim()
    .default('15 7 * * *')
    .refine(isCronPattern, { message: 'must be a cron pattern such as "15 7 * * *"' }),
};

const deliveryEnvSchema = z.object(deliveryEnv);
type DeliveryEnv = z.output<typeof deliveryEnvSchema>;

/** scheduled delivery channels; each is optional (see services/delivery/channels) */
export interface DeliveryConfig {
  /** unset: e-mails are written as .eml files under EXPORTS_DIR/outbox */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** files over this go as the signed link when a recipient's attach option is auto */
  attachmentMaxBytes: number;
  /** the longest one send attempt may take */
  timeoutMs: number;
  whatsapp:
    | {
        apiUrl: string;
        token: string;
        phoneNumberId: string;
        template: string | undefined;
        templateLanguage: string;
      }
    | undefined;
  slack: { apiUrl: string; botToken: string | undefined };
  webhookSecret: string | undefined;
  /** how recipients reach this service: the base of the signed download links they are sent */
  publicUrl: string;
  /** attempts per recipient, the first included, before a transient error counts as failed */
  maxAttempts: number;
  /** retry n waits base × 2^(n-1), or the provider's Retry-After when longer */
  retryBaseMs: number;
  /** recipients sent to at once within one run */
  concurrency: number;
}

/** the schedule runner (croner in embedded mode, BullMQ job schedulers in shared mode) */
export interface SchedulerConfig {
  /** false: schedules are stored and can be run by hand, but nothing fires by itself */
  enabled: boolean;
  /** a run still `working` after this long is marked `error` (it may then be retried) */
  workingTimeoutMs: number;
  /** the built-in daily alert check, in BUSINESS_TZ */
  alertsCron: string;
}

/** Checks what one variable's schema cannot see (WhatsApp's two variables go together). */
function checkDeliveryEnv(e: DeliveryEnv): void {
  if (Boolean(e.WHATSAPP_TOKEN) !== Boolean(e.WHATSAPP_PHONE_NUMBER_ID)) {
    throw new ConfigError([
      {
        variable: e.WHATSAPP_TOKEN ? 'WHATSAPP_PHONE_NUMBER_ID' : 'WHATSAPP_TOKEN',
        message: 'WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are set together or not at all',
      },
    ]);
  }
}

export function deliveryConfig(e: DeliveryEnv & { PORT: number }): DeliveryConfig {
  checkDeliveryEnv(e);
  return {
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    attachmentMaxBytes: e.ATTACHMENT_MAX_MB * 1024 * 1024,
    timeoutMs: e.DELIVERY_TIMEOUT_MS,
    whatsapp:
      e.WHATSAPP_TOKEN && e.WHATSAPP_PHONE_NUMBER_ID
        ? {
            apiUrl: e.WHATSAPP_API_URL,
            token: e.WHATSAPP_TOKEN,
            phoneNumberId: e.WHATSAPP_PHONE_NUMBER_ID,
            template: e.WHATSAPP_TEMPLATE,
            templateLanguage: e.WHATSAPP_TEMPLATE_LANGUAGE,
          }
        : undefined,
    slack: { apiUrl: e.SLACK_API_URL, botToken: e.SLACK_BOT_TOKEN },
    webhookSecret: e.WEBHOOK_SECRET,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    maxAttempts: e.DELIVERY_MAX_ATTEMPTS,
    retryBaseMs: e.DELIVERY_RETRY_BASE_MS,
    concurrency: e.DELIVERY_CONCURRENCY,
  };
}

export function schedulerConfig(e: DeliveryEnv): SchedulerConfig {
  return {
    enabled: e.SCHEDULER_ENABLED,
    workingTimeoutMs: e.SCHEDULE_WORKING_TIMEOUT_MINUTES * 60_000,
    alertsCron: e.ALERTS_CRON,
  };
}
