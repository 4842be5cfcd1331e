/**
 * E-mail channel: one message per recipient, composed by nodemailer, sent over SMTP (SMTP_URL) or,
 * without SMTP_URL, written as `<digest of the key>.eml` under EXPORTS_DIR/outbox so the demo shows
 * what would be sent. Both paths send the same bytes.
 *
 * The Message-ID is derived from the ledger key: a resend of the same delivery carries the same id,
 * so a mail client shows it once and an admin can recognise it.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { attachFiles, emailError, keyDigest, messageIdFor } from './channel-fns.ts';
import { ChannelError, type DeliveryChannel, type DeliveryMessage } from './channel-types.ts';
import { renderEmailHtml, renderEmailText } from './email-body.ts';
import { type SmtpTarget, smtpSend } from './smtp-send.ts';

export interface EmailChannelOptions {
  /** unset: write .eml files to the outbox instead of sending */
  smtp: SmtpTarget | undefined;
  /** MAIL_FROM, e.g. "SalesFlow Reports <reports@example.com>" */
  from: string;
  exportsDir: string;
  attachmentMaxBytes: number;
  timeoutMs: number;
  /** the Date header; tests pin it */
  now?: () => Date;
}

/** The full RFC 5322 message and its envelope. */
export async function composeEmail(
  message: DeliveryMessage,
  opts: Pick<EmailChannelOptions, 'from' | 'attachmentMaxBytes' | 'now'>,
): Promise<{ raw: Buffer; envelope: { from: string; to: string[] }; messageId: string }> {
  const attached = attachFiles(message, opts.attachmentMaxBytes);
  const messageId = messageIdFor(message.key);
  const node = new MailComposer({
    from: opts.from,
    to: { name: message.recipient.name ?? '', address: message.recipient.address },
    subject: message.incomplete ? `${message.subject} (incomplete data)` : message.subject,
    messageId,
    date: opts.now?.() ?? new Date(),
    text: renderEmailText(message, attached),
    html: renderEmailHtml(message, attached),
    attachments: attached
      ? message.files.map((f) => ({ filename: f.filename, contentType: f.contentType, path: f.path }))
      : [],
    // Reports are read by people, not mailing lists: no auto-replies back to the sender.
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
  }).compile();
  const env = node.getEnvelope();
  const raw = await node.build();
  return { raw, envelope: { from: env.from || '', to: env.to }, messageId };
}

/** Writes the message once: a second write of the same key finds the file and leaves it alone. */
async function writeOutbox(dir: string, key: string, raw: Buffer): Promise<'written' | 'already'> {
  await mkdir(dir, { recursive: true });
  const final = join(dir, `${keyDigest(key).slice(0, 32)}.eml`);
  const tmp = join(dir, `.${randomUUID()}.tmp`);
  await writeFile(tmp, raw);
  try {
    // link() is atomic and fails when the name exists: never a half-written or a second file.
    await link(tmp, final);
    return 'written';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'already';
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

export function createEmailChannel(opts: EmailChannelOptions): DeliveryChannel {
  const outbox = join(opts.exportsDir, 'outbox');
  return {
    kind: 'email',
    validateAddress: emailError,
    async send(message, { signal }) {
      let composed: Awaited<ReturnType<typeof composeEmail>>;
      try {
        composed = await composeEmail(message, opts);
      } catch (err) {
        // A report file that vanished or cannot be read will not come back by waiting.
        const code = (err as NodeJS.ErrnoException).code ?? 'compose-failed';
        throw new ChannelError('permanent', 'compose-failed', `could not compose the e-mail (${code})`);
      }
      if (!opts.smtp) {
        const state = await writeOutbox(outbox, message.key, composed.raw);
        return {
          providerMessageId: composed.messageId,
          detail: state === 'written' ? 'written to the outbox' : 'already in the outbox',
        };
      }
      const response = await smtpSend(opts.smtp, composed.envelope, composed.raw, signal, opts.timeoutMs);
      return { providerMessageId: composed.messageId, detail: response.slice(0, 200) };
    },
    async close() {},
  };
}
