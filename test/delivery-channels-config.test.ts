/** Delivery configuration: validated variables, optional channels with reasons, no secret in the logs. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createChannels } from '../src/services/delivery/channels/create-channels.ts';
import { testEnv } from './helpers/app.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

test('defaults: e-mail to the outbox and Slack webhooks; WhatsApp and webhooks say why they are off', async () => {
  const config = loadConfig(testEnv());
  assert.deepEqual(config.delivery, {
    smtpUrl: undefined,
    mailFrom: 'SalesFlow Reports <reports@salesflow.local>',
    attachmentMaxBytes: 10 * 1024 * 1024,
    timeoutMs: 30_000,
    whatsapp: undefined,
    slack: { apiUrl: 'https://slack.com/api', botToken: undefined },
    webhookSecret: undefined,
    publicUrl: 'http://localhost:8080',
    maxAttempts: 5,
    retryBaseMs: 30_000,
    concurrency: 8,
  });
  assert.deepEqual(config.scheduler, {
    enabled: true,
    workingTimeoutMs: 3_600_000,
    alertsCron: '15 7 * * *',
  });
  assert.throws(() => loadConfig(testEnv({ ALERTS_CRON: 'every morning' })), /ALERTS_CRON/);
  const { logger } = capture();
  const set = createChannels(config, logger);
  assert.deepEqual(Object.keys(set.available).sort(), ['email', 'slack']);
  assert.match(set.unavailable.whatsapp!, /WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID/);
  assert.match(set.unavailable.webhook!, /WEBHOOK_SECRET/);
  assert.equal(typeof set.get('webhook'), 'string');
  assert.equal((set.get('email') as { kind: string }).kind, 'email');
  await set.close();
});

test('everything configured: four channels, and neither a token nor a password in the log', async () => {
  const secrets = [
    'Sm7p-pa55word',
    'EAAGwhatsapp-token-xyz',
    'xoxb-123-slack-token-xyz',
    'whsec_webhook_secret_xyz',
  ];
  const config = loadConfig(
    testEnv({
      SMTP_URL: `smtps://mailer:${secrets[0]}@smtp.example.com:465`,
      WHATSAPP_TOKEN: secrets[1],
      WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
      WHATSAPP_TEMPLATE: 'daily_report',
      SLACK_BOT_TOKEN: secrets[2],
      WEBHOOK_SECRET: secrets[3],
      ATTACHMENT_MAX_MB: '5',
    }),
  );
  assert.equal(config.delivery.attachmentMaxBytes, 5 * 1024 * 1024);
  const { logger, lines } = capture();
  const set = createChannels(config, logger);
  assert.deepEqual(Object.keys(set.available).sort(), ['email', 'slack', 'webhook', 'whatsapp']);
  assert.deepEqual(set.unavailable, {});
  const log = lines.join('');
  assert.match(log, /smtps:\/\/smtp\.example\.com:465/);
  for (const s of secrets) assert.ok(!log.includes(s), 'a secret in the log');
  assert.doesNotMatch(log, /mailer/);
  await set.close();
});

test('bad delivery variables stop the start with the variable named', () => {
  const bad: [Record<string, string>, string][] = [
    [{ SMTP_URL: 'http://smtp.example.com' }, 'SMTP_URL'],
    [{ WHATSAPP_TOKEN: 'EAAGtoken-without-phone' }, 'WHATSAPP_PHONE_NUMBER_ID'],
    [{ WHATSAPP_PHONE_NUMBER_ID: '106540352242922' }, 'WHATSAPP_TOKEN'],
    [{ WHATSAPP_TOKEN: 'EAAGtoken-123456', WHATSAPP_PHONE_NUMBER_ID: 'abc' }, 'WHATSAPP_PHONE_NUMBER_ID'],
    [{ SLACK_BOT_TOKEN: 'not-a-token' }, 'SLACK_BOT_TOKEN'],
    [{ WEBHOOK_SECRET: 'short' }, 'WEBHOOK_SECRET'],
    [{ ATTACHMENT_MAX_MB: '0' }, 'ATTACHMENT_MAX_MB'],
    [{ WHATSAPP_TEMPLATE_LANGUAGE: 'French' }, 'WHATSAPP_TEMPLATE_LANGUAGE'],
    [{ MAIL_FROM: 'SalesFlow Reports' }, 'MAIL_FROM'],
  ];
  for (const [env, variable] of bad) {
    assert.throws(
      () => loadConfig(testEnv(env)),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.variable === variable),
      JSON.stringify(env),
    );
  }
});
