/** The webhook channel against a receiver that verifies the signature on its own. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type TestContext, test } from 'node:test';
import { createWebhookChannel } from '../src/services/delivery/channels/webhook-channel.ts';
import { signWebhook, verifyWebhookSignature } from '../src/services/delivery/channels/webhook-signature.ts';
import { deliveryMessage, sendError, signal } from './helpers/delivery.ts';
import { startWebhookReceiver } from './helpers/webhook-receiver.ts';

const SECRET = 'whsec_test_0123456789abcdef0123456789';
const BODY = {
  schedule: { id: 'sch_1', name: 'Daily sales' },
  period: { kind: 'day', key: '2026-12-02' },
  recipient: { name: 'BI', channel: 'webhook' },
  report: {
    type: 'daily',
    period: '2026-12-02',
    kpis: { revenue: 12340.5, orders: 318 },
    downloadUrl: 'https://reports.example.com/api/v1/reports/job-1/download?expires=1&sig=abc',
  },
};

async function setup(t: TestContext, timeoutMs = 5_000) {
  const receiver = await startWebhookReceiver(t, SECRET);
  const hook = createWebhookChannel({ secret: SECRET, timeoutMs });
  t.after(() => hook.close());
  const msg = () =>
    deliveryMessage([], {
      key: 'sch_1:2026-12-02:bi:webhook',
      recipient: { address: receiver.url },
      webhook: BODY,
    });
  return { receiver, hook, msg };
}

test('a signed JSON POST with the ledger key as Idempotency-Key, verified by the receiver', async (t) => {
  const { receiver, hook, msg } = await setup(t);
  const before = Math.floor(Date.now() / 1000);
  const out = await hook.send(msg(), { signal: signal() });
  assert.equal(out.detail, 'HTTP 202');
  assert.deepEqual(receiver.refused, []);
  assert.equal(receiver.accepted.length, 1);
  const got = receiver.accepted[0]!;
  assert.deepEqual(got.body, BODY);
  assert.equal(got.headers['content-type'], 'application/json');
  assert.equal(got.headers['idempotency-key'], 'sch_1:2026-12-02:bi:webhook');
  assert.ok(got.timestamp >= before && got.timestamp <= before + 5);
  // the exported verifier agrees with the receiver's own HMAC code
  assert.ok(verifyWebhookSignature(SECRET, String(got.headers['x-salesflow-signature']), got.raw));
});

test('a receiver with another secret refuses the signature (401 is permanent)', async (t) => {
  const receiver = await startWebhookReceiver(t, 'another-secret-0123456789');
  const hook = createWebhookChannel({ secret: SECRET, timeoutMs: 5_000 });
  t.after(() => hook.close());
  const err = await sendError(
    hook.send(deliveryMessage([], { recipient: { address: receiver.url }, webhook: BODY }), {
      signal: signal(),
    }),
  );
  assert.deepEqual([err.kind, err.code], ['permanent', 'http-401']);
  assert.equal(receiver.refused.length, 1);
});

test('5xx, 408 and 429 are transient with Retry-After; other 4xx are permanent', async (t) => {
  const { receiver, hook, msg } = await setup(t);
  receiver.answer(
    { status: 503, headers: { 'retry-after': '5' } },
    { status: 429, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() } },
    { status: 408 },
    { status: 410 },
    { status: 400 },
  );
  const e503 = await sendError(hook.send(msg(), { signal: signal() }));
  assert.deepEqual([e503.kind, e503.code, e503.retryAfterMs], ['transient', 'http-503', 5_000]);
  const e429 = await sendError(hook.send(msg(), { signal: signal() }));
  assert.equal(e429.kind, 'transient');
  assert.ok(e429.retryAfterMs! > 55_000 && e429.retryAfterMs! <= 60_000);
  const e408 = await sendError(hook.send(msg(), { signal: signal() }));
  assert.deepEqual([e408.kind, e408.retryAfterMs], ['transient', undefined]);
  for (const code of ['http-410', 'http-400']) {
    const err = await sendError(hook.send(msg(), { signal: signal() }));
    assert.deepEqual([err.kind, err.code], ['permanent', code]);
  }
  assert.equal(receiver.accepted.length, 0);
});

test('a reset after the body was sent is unknown; a timeout too; connection refused is transient', async (t) => {
  const { receiver, hook, msg } = await setup(t, 400);
  receiver.answer('reset');
  const reset = await sendError(hook.send(msg(), { signal: signal() }));
  assert.equal(reset.kind, 'unknown');
  // a receiver that reads the request and never answers
  const hang = createServer(() => {});
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const port = (hang.address() as { port: number }).port;
  const timeout = await sendError(
    hook.send(deliveryMessage([], { recipient: { address: `http://127.0.0.1:${port}/` }, webhook: BODY }), {
      signal: signal(),
    }),
  );
  assert.deepEqual([timeout.kind, timeout.code], ['unknown', 'timeout']);
  hang.closeAllConnections();
  await new Promise((r) => hang.close(r));
  const refused = await sendError(
    hook.send(deliveryMessage([], { recipient: { address: `http://127.0.0.1:${port}/` }, webhook: BODY }), {
      signal: signal(),
    }),
  );
  assert.deepEqual([refused.kind, refused.code], ['transient', 'connect-failed']);
  assert.equal(receiver.accepted.length, 0);
});

test('an attempt aborted before it starts is transient: nothing was sent', async (t) => {
  const { receiver, hook, msg } = await setup(t);
  const err = await sendError(hook.send(msg(), { signal: AbortSignal.abort() }));
  assert.deepEqual([err.kind, err.code], ['transient', 'aborted']);
  assert.equal(receiver.accepted.length, 0);
});

test('neither the secret, the signature nor the URL query appear in errors', async (t) => {
  const { receiver, hook, msg } = await setup(t);
  receiver.answer({ status: 500 }, 'reset');
  for (let i = 0; i < 2; i++) {
    const err = await sendError(hook.send(msg(), { signal: signal() }));
    const seen = JSON.stringify({ m: err.message, s: err.stack, ...err });
    assert.doesNotMatch(seen, /whsec|0123456789abcdef|v1=|receiver-query-secret|token=/);
  }
});

test('verifyWebhookSignature: tampered bodies, stale timestamps and rotated secrets', () => {
  const body = JSON.stringify(BODY);
  const now = 1_796_000_000;
  const header = signWebhook(SECRET, body, now);
  assert.ok(verifyWebhookSignature(SECRET, header, body, { nowSeconds: now + 10 }));
  assert.ok(!verifyWebhookSignature(SECRET, header, `${body} `, { nowSeconds: now }));
  assert.ok(
    !verifyWebhookSignature(SECRET, header, body, { nowSeconds: now + 301 }),
    'replay after 5 minutes',
  );
  assert.ok(!verifyWebhookSignature('other-secret-xxxxxxxx', header, body, { nowSeconds: now }));
  assert.ok(!verifyWebhookSignature(SECRET, undefined, body));
  const rotated = `${header},v1=${signWebhook('old-secret-xxxxxxxxxx', body, now).split('v1=')[1]}`;
  assert.ok(verifyWebhookSignature('old-secret-xxxxxxxxxx', rotated, body, { nowSeconds: now }));
});
