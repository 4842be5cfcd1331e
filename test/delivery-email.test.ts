/** The e-mail channel against a real SMTP server (smtp-server), messages read back with mailparser. */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import ExcelJS from 'exceljs';
import { simpleParser } from 'mailparser';
import { messageIdFor } from '../src/services/delivery/channels/channel-fns.ts';
import { ChannelError } from '../src/services/delivery/channels/channel-types.ts';
import { createEmailChannel } from '../src/services/delivery/channels/email-channel.ts';
import { smtpTargetFromUrl } from '../src/services/delivery/channels/smtp-send.ts';
import { deliveryMessage, reportFiles, sendError, signal } from './helpers/delivery.ts';
import { startSmtpPeer } from './helpers/smtp-peer.ts';

const MB = 1024 * 1024;

function channel(
  smtpUrl: string | undefined,
  exportsDir: string,
  over: { max?: number; timeoutMs?: number } = {},
) {
  return createEmailChannel({
    smtp: smtpUrl ? smtpTargetFromUrl(smtpUrl) : undefined,
    from: 'SalesFlow Reports <reports@salesflow.test>',
    exportsDir,
    attachmentMaxBytes: over.max ?? 10 * MB,
    timeoutMs: over.timeoutMs ?? 5_000,
    now: () => new Date('2026-12-03T06:00:00Z'),
  });
}

test('a report e-mail: HTML KPIs with arrows, a text part, both files attached, Message-ID from the key', async (t) => {
  const smtp = await startSmtpPeer(t);
  const { dir, pdf, xlsx } = await reportFiles(t);
  const email = channel(smtp.url, dir);
  const msg = deliveryMessage([pdf, xlsx]);
  const out = await email.send(msg, { signal: signal() });

  assert.equal(out.providerMessageId, messageIdFor(msg.key));
  assert.match(out.providerMessageId, /^<[0-9a-f]{32}@salesflow>$/);
  assert.equal(smtp.received.length, 1);
  const mail = smtp.received[0]!;
  assert.deepEqual(mail.envelope, { from: 'reports@salesflow.test', to: ['anna@example.com'] });
  const p = mail.parsed;
  assert.equal(p.messageId, out.providerMessageId);
  assert.equal(p.subject, 'Daily sales 2026-12-02 · Store 7 (Lyon)');
  const html = String(p.html);
  assert.match(html, /Revenue<\/td>/);
  assert.match(html, /€12,340\.50/);
  assert.match(html, /color:#1a7f37;[^>]*>▲&nbsp;\+4\.2% vs last week/, 'up: green, ▲');
  assert.match(html, /color:#cf222e;[^>]*>▼&nbsp;-3\.1% vs last week/, 'down: red, ▼');
  assert.match(html, /▶&nbsp;0\.0% vs last week/, 'flat: ▶');
  assert.match(html, /<table role="presentation"/, 'table layout');
  assert.doesNotMatch(html, /<style|display:\s*(flex|grid)/, 'inline styles only, no flex or grid');
  assert.match(String(p.text), /Revenue: €12,340\.50 \(▲ \+4\.2% vs last week\)/);
  assert.match(String(p.text), /Orders: 318 \(▼ -3\.1% vs last week\)/);
  assert.doesNotMatch(html, /Download the report/, 'attached, so no link');

  assert.deepEqual(
    p.attachments.map((a) => a.filename),
    [pdf.filename, xlsx.filename],
  );
  assert.equal(p.attachments[0]!.content.subarray(0, 5).toString(), '%PDF-');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(p.attachments[1]!.content as unknown as ArrayBuffer);
  assert.equal(wb.getWorksheet('KPIs')?.getCell('B2').value, 12340.5);
});

test('attach: link, or files over ATTACHMENT_MAX_MB with attach: auto, send the signed link instead', async (t) => {
  const smtp = await startSmtpPeer(t);
  const { dir, pdf, xlsx } = await reportFiles(t);

  await channel(smtp.url, dir).send(deliveryMessage([pdf, xlsx], { attach: 'link' }), { signal: signal() });
  // auto, with a limit below the files' size
  await channel(smtp.url, dir, { max: pdf.bytes }).send(deliveryMessage([pdf, xlsx], { key: 'k-auto-big' }), {
    signal: signal(),
  });
  // always: attached whatever the size
  await channel(smtp.url, dir, { max: 1 }).send(
    deliveryMessage([pdf], { key: 'k-always', attach: 'always' }),
    {
      signal: signal(),
    },
  );

  const [link, autoBig, always] = smtp.received.map((m) => m.parsed);
  for (const p of [link!, autoBig!]) {
    assert.equal(p.attachments.length, 0);
    assert.match(
      String(p.html),
      /href="https:\/\/reports\.example\.com\/api\/v1\/reports\/job-1\/download\?expires=1&amp;sig=abc"/,
    );
    assert.match(String(p.text), /Download the report: https:\/\/reports\.example\.com\/.*sig=abc/);
    assert.match(String(p.text), /until 2026-12-05T07:00:00Z/);
  }
  assert.equal(always!.attachments.length, 1);
});

test('incomplete data is said in the subject, the HTML and the text', async (t) => {
  const smtp = await startSmtpPeer(t);
  const { dir, pdf } = await reportFiles(t);
  await channel(smtp.url, dir).send(deliveryMessage([pdf], { incomplete: true }), { signal: signal() });
  const p = smtp.received[0]!.parsed;
  assert.match(String(p.subject), /\(incomplete data\)$/);
  assert.match(String(p.html), /Incomplete data\./);
  assert.match(String(p.text), /WARNING: Incomplete data/);
});

test('451 on RCPT is transient; the next attempt is accepted, and exactly one message arrives', async (t) => {
  const smtp = await startSmtpPeer(t);
  const { dir, pdf } = await reportFiles(t);
  smtp.rcpt('anna@example.com', 451, 'accept');
  const email = channel(smtp.url, dir);
  const msg = deliveryMessage([pdf]);
  const err = await sendError(email.send(msg, { signal: signal() }));
  assert.ok(err instanceof ChannelError);
  assert.equal(err.kind, 'transient');
  assert.equal(err.code, 'smtp-451');
  assert.equal(smtp.received.length, 0);
  await email.send(msg, { signal: signal() });
  assert.equal(smtp.received.length, 1);
  assert.equal(smtp.attempts.rcpt, 2, 'one RCPT per attempt: the channel did not retry on its own');
});

test('550 on RCPT and 554 after DATA are permanent; 452 after DATA is transient', async (t) => {
  const smtp = await startSmtpPeer(t);
  const { dir, pdf } = await reportFiles(t);
  const email = channel(smtp.url, dir);
  smtp.rcpt('gone@example.com', 550);
  smtp.data('spam@example.com', 554);
  smtp.data('full@example.com', 452);
  const cases = [
    ['gone@example.com', 'permanent', 'smtp-550'],
    ['spam@example.com', 'permanent', 'smtp-554'],
    ['full@example.com', 'transient', 'smtp-452'],
  ] as const;
  for (const [address, kind, code] of cases) {
    const err = await sendError(
      email.send(deliveryMessage([pdf], { key: address, recipient: { address } }), { signal: signal() }),
    );
    assert.equal(err.kind, kind, address);
    assert.equal(err.code, code, address);
  }
  assert.equal(smtp.received.length, 0);
  assert.equal(smtp.attempts.rcpt, 3, 'a rejection is never retried by the channel');
});

test('connection refused is transient: nothing was sent', async (t) => {
  const { dir, pdf } = await reportFiles(t);
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const err = await sendError(
    channel(`smtp://127.0.0.1:${port}`, dir).send(deliveryMessage([pdf]), { signal: signal() }),
  );
  assert.equal(err.kind, 'transient');
  assert.equal(err.code, 'connect-failed');
});

test('no answer after the message was sent is unknown; an abort before DATA is transient', async (t) => {
  const smtp = await startSmtpPeer(t);
  const { dir, pdf } = await reportFiles(t);
  smtp.data('anna@example.com', 'hang');
  const started = Date.now();
  const err = await sendError(
    channel(smtp.url, dir, { timeoutMs: 400 }).send(deliveryMessage([pdf]), { signal: signal() }),
  );
  assert.equal(err.kind, 'unknown');
  assert.equal(err.code, 'timeout');
  assert.ok(Date.now() - started < 5_000, 'bounded by DELIVERY_TIMEOUT_MS');

  const aborted = AbortSignal.abort();
  const before = await sendError(channel(smtp.url, dir).send(deliveryMessage([pdf]), { signal: aborted }));
  assert.equal(before.kind, 'transient');
  assert.equal(before.code, 'aborted');
});

test('without SMTP_URL the message is written once as .eml under EXPORTS_DIR/outbox', async (t) => {
  const { dir, pdf } = await reportFiles(t);
  const email = channel(undefined, dir);
  const msg = deliveryMessage([pdf]);
  const first = await email.send(msg, { signal: signal() });
  const second = await email.send(msg, { signal: signal() });
  assert.equal(first.detail, 'written to the outbox');
  assert.equal(second.detail, 'already in the outbox');
  assert.equal(second.providerMessageId, first.providerMessageId);
  await email.send(deliveryMessage([pdf], { key: 'other-key', recipient: { address: 'bob@example.com' } }), {
    signal: signal(),
  });
  const files = (await readdir(join(dir, 'outbox'))).sort();
  assert.equal(files.length, 2, 'one file per key, no temporary file left');
  assert.ok(files.every((f) => /^[0-9a-f]{32}\.eml$/.test(f)));
  const parsed = await Promise.all(
    files.map(async (f) => simpleParser(await readFile(join(dir, 'outbox', f)))),
  );
  const anna = parsed.find((p) => p.messageId === first.providerMessageId);
  assert.ok(anna, 'the .eml is the message, with its Message-ID');
  assert.equal(anna.attachments[0]?.filename, pdf.filename);
  assert.match(String(anna.html), /€12,340\.50/);
});

test('the SMTP password never appears in an error', async (t) => {
  const pass = 'Sup3r-s3cret-pa55';
  const smtp = await startSmtpPeer(t, { auth: { user: 'mailer', pass } });
  const { dir, pdf } = await reportFiles(t);
  // accepted with the right password
  await channel(smtp.url, dir).send(deliveryMessage([pdf]), { signal: signal() });
  assert.equal(smtp.received.length, 1);

  const wrong = `smtp://mailer:${encodeURIComponent('Wr0ng-s3cret-pa55')}@127.0.0.1:${smtp.port}`;
  const authErr = await sendError(channel(wrong, dir).send(deliveryMessage([pdf]), { signal: signal() }));
  assert.equal(authErr.kind, 'permanent');
  assert.equal(authErr.code, 'smtp-535');
  smtp.rcpt('anna@example.com', 550);
  const rejected = await sendError(channel(smtp.url, dir).send(deliveryMessage([pdf]), { signal: signal() }));
  for (const err of [authErr, rejected]) {
    const seen = JSON.stringify({ message: err.message, code: err.code, stack: err.stack, all: { ...err } });
    assert.doesNotMatch(seen, /s3cret|pa55/);
    assert.match(err.message, /smtp:\/\/127\.0\.0\.1:\d+/, 'the server is named without credentials');
  }
});

test('addresses: a plain e-mail address, nothing that could add a recipient or a header', () => {
  const email = channel(undefined, '/nonexistent');
  assert.equal(email.validateAddress('anna.martin+reports@store-7.example.fr'), undefined);
  for (const bad of [
    'anna',
    'anna@',
    'a@b',
    'anna@example.com, eve@evil.test',
    'anna@example.com\r\nBcc: x@y.z',
    'Anna <a@b.fr>',
  ]) {
    assert.ok(email.validateAddress(bad), bad);
  }
});
