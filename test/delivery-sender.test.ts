/**
 * The ledger sender against a real SMTP server and a real database: each recipient is retried on
 * its own, a permanent error fails that recipient only, and a key already settled is never sent
 * again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { createDatabase } from '../src/db/database.ts';
import { deliveryLedgerFactory } from '../src/db/repos/delivery-ledger.ts';
import { createEmailChannel } from '../src/services/delivery/channels/email-channel.ts';
import { smtpTargetFromUrl } from '../src/services/delivery/channels/smtp-send.ts';
import { ledgerSenderFactory } from '../src/services/delivery/send/ledger-sender.ts';
import { deliveryKey, retryDelayMs, verdictAfter } from '../src/services/delivery/send/send-fns.ts';
import { testSqliteFile } from './helpers/app.ts';
import { deliveryMessage, reportFiles } from './helpers/delivery.ts';
import { startSmtpPeer } from './helpers/smtp-peer.ts';

const logger = pino({ level: 'silent' });

test('retry delays: exponential from the base, a longer Retry-After wins, capped at an hour', () => {
  assert.equal(retryDelayMs(1, 1_000), 1_000);
  assert.equal(retryDelayMs(3, 1_000), 4_000);
  assert.equal(retryDelayMs(1, 1_000, 7_000), 7_000);
  assert.equal(retryDelayMs(20, 60_000), 3_600_000);
  const policy = { maxAttempts: 3, retryBaseMs: 100 };
  assert.deepEqual(verdictAfter('transient', 1, policy), { state: 'retrying', delayMs: 100 });
  assert.deepEqual(verdictAfter('transient', 3, policy), { state: 'failed' });
  assert.deepEqual(verdictAfter('permanent', 1, policy), { state: 'failed' });
  assert.deepEqual(verdictAfter('unknown', 1, policy), { state: 'unknown' });
  assert.equal(
    deliveryKey('schedule', 's1', '2026-12-02', 'email', 'Anna@Example.com'),
    'schedule:s1:2026-12-02:email:anna@example.com',
  );
});

async function setup(t: import('node:test').TestContext) {
  const smtp = await startSmtpPeer(t);
  const { dir, pdf } = await reportFiles(t);
  const db = createDatabase({ kind: 'sqlite', file: testSqliteFile(), timeoutMs: 2_000 }, logger);
  await db.migrate();
  t.after(() => db.close());
  const ledger = deliveryLedgerFactory(db);
  const email = createEmailChannel({
    smtp: smtpTargetFromUrl(smtp.url),
    from: 'SalesFlow <reports@salesflow.test>',
    exportsDir: dir,
    attachmentMaxBytes: 10 * 1024 * 1024,
    timeoutMs: 5_000,
  });
  t.after(() => email.close());
  const sender = ledgerSenderFactory({
    ledger,
    channels: { get: () => email },
    policy: { maxAttempts: 3, retryBaseMs: 20, timeoutMs: 5_000 },
    logger,
  });
  const { key: _k, recipient: _r, ...message } = deliveryMessage([pdf]);
  const request = (address: string) => ({
    key: deliveryKey('schedule', 'sch-test', '2026-12-02', 'email', address),
    source: 'schedule' as const,
    sourceId: 'sch-test',
    period: '2026-12-02',
    channel: 'email' as const,
    address,
    name: 'Store manager',
    message,
  });
  return { smtp, ledger, sender, request };
}

test('a recipient answered 451 then accepted is delivered once, after a retry', async (t) => {
  const { smtp, sender, request } = await setup(t);
  smtp.rcpt('anna@example.com', 451, 'accept');
  const out = await sender.deliver(request('anna@example.com'));
  assert.equal(out.state, 'sent');
  assert.equal(out.attempts, 2);
  assert.ok(out.providerMessageId);
  assert.equal(smtp.to('anna@example.com').length, 1);

  const again = await sender.deliver(request('anna@example.com'));
  assert.equal(again.claimed, false);
  assert.equal(again.state, 'sent');
  assert.equal(smtp.to('anna@example.com').length, 1, 'the same key is never sent twice');
});

test('a 550 fails that recipient only; the others are delivered once and never again', async (t) => {
  const { smtp, sender, request, ledger } = await setup(t);
  smtp.rcpt('gone@example.com', 550);
  const addresses = ['a@example.com', 'gone@example.com', 'b@example.com'];
  const first = await Promise.all(addresses.map((a) => sender.deliver(request(a))));
  assert.deepEqual(
    first.map((o) => o.state),
    ['sent', 'failed', 'sent'],
  );
  assert.equal(first[1]!.attempts, 1, 'a permanent error is not retried');
  assert.match(first[1]!.error ?? '', /smtp-550/);

  // The run is repeated (a retry of the whole schedule): nobody gets a second copy.
  const second = await Promise.all(addresses.map((a) => sender.deliver(request(a))));
  assert.deepEqual(
    second.map((o) => [o.claimed, o.state]),
    [
      [false, 'sent'],
      [false, 'failed'],
      [false, 'sent'],
    ],
  );
  assert.equal(smtp.received.length, 2);

  // An admin resends the failed one on purpose, once the mailbox exists again.
  assert.equal(await ledger.reopen(first[1]!.deliveryId), true);
  const resent = await sender.resume(first[1]!.deliveryId);
  assert.equal(resent.state, 'sent');
  assert.equal(smtp.to('gone@example.com').length, 1);
  // A sent one may be resent on purpose (the recipient lost it): a copy with a Message-ID of its own.
  assert.equal(await ledger.reopen(first[0]!.deliveryId), true);
  assert.equal(await ledger.reopen(first[0]!.deliveryId), false, 'not while it is pending');
  assert.equal((await sender.resume(first[0]!.deliveryId)).state, 'sent');
  const copies = smtp.to('a@example.com');
  assert.equal(copies.length, 2);
  assert.notEqual(copies[0]!.parsed.messageId, copies[1]!.parsed.messageId);
});

test('transient errors past the attempt budget fail with the count; a lease that ran out is unknown', async (t) => {
  const { smtp, sender, request, ledger } = await setup(t);
  smtp.rcpt('busy@example.com', 451, 451, 451, 451);
  const out = await sender.deliver(request('busy@example.com'));
  assert.equal(out.state, 'failed');
  assert.equal(out.attempts, 3);
  assert.match(out.error ?? '', /after 3 attempts/);
  assert.equal(smtp.to('busy@example.com').length, 0);

  // A sender that died holding a lease: the row stays `sending` until its lease ends, then `unknown`.
  const { delivery } = await ledger.claim({
    key: 'schedule:sch-test:2026-12-02:email:dead@example.com',
    source: 'schedule',
    sourceId: 'sch-test',
    period: '2026-12-02',
    channel: 'email',
    address: 'dead@example.com',
  });
  assert.equal(await ledger.startSending(delivery.id, 1), true);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(await ledger.expireLeases(), 1);
  const resumed = await sender.resume(delivery.id);
  assert.equal(resumed.state, 'unknown', 'never resent by itself');
  assert.equal(smtp.to('dead@example.com').length, 0);
});
