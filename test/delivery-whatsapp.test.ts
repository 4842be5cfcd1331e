/** The WhatsApp channel against a local Cloud API that checks what the real one checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createWhatsAppChannel } from '../src/services/delivery/channels/whatsapp-channel.ts';
import { deliveryMessage, PDF_BYTES, reportFiles, sendError, signal } from './helpers/delivery.ts';
import { startWhatsAppPeer } from './helpers/whatsapp-peer.ts';

const TOKEN = 'EAAGtest-wa-token-0123456789';
const PHONE_ID = '106540352242922';
const TO = '+33612345678';

async function setup(
  t: import('node:test').TestContext,
  over: { template?: string; timeoutMs?: number; token?: string } = {},
) {
  const peer = await startWhatsAppPeer(t, { token: TOKEN, phoneNumberId: PHONE_ID });
  const files = await reportFiles(t);
  const wa = createWhatsAppChannel({
    apiUrl: peer.apiUrl,
    token: over.token ?? TOKEN,
    phoneNumberId: PHONE_ID,
    template: over.template,
    templateLanguage: 'fr',
    attachmentMaxBytes: 10 * 1024 * 1024,
    timeoutMs: over.timeoutMs ?? 5_000,
  });
  t.after(() => wa.close());
  const msg = (o: Parameters<typeof deliveryMessage>[1] = {}) =>
    deliveryMessage([files.pdf, files.xlsx], { recipient: { address: TO }, ...o });
  return { peer, wa, files, msg };
}

test('the PDF is uploaded (multipart), then sent as a document with its file name and a caption', async (t) => {
  const { peer, wa, files, msg } = await setup(t);
  const out = await wa.send(msg(), { signal: signal() });
  assert.equal(out.providerMessageId, 'wamid.HBgL1');
  assert.deepEqual(peer.problems, []);
  assert.equal(peer.media.size, 1, 'only the PDF goes to WhatsApp');
  const [stored] = [...peer.media.values()];
  assert.equal(stored!.filename, files.pdf.filename);
  assert.equal(stored!.type, 'application/pdf');
  assert.deepEqual(stored!.bytes, PDF_BYTES);
  const sent = peer.messages[0] as { to: string; type: string; document: Record<string, string> };
  assert.equal(sent.to, TO);
  assert.equal(sent.type, 'document');
  assert.equal(sent.document.id, stored!.id);
  assert.equal(sent.document.filename, files.pdf.filename);
  assert.match(
    sent.document.caption!,
    /^Daily sales 2026-12-02 · Store 7 \(Lyon\)\nRevenue: €12,340\.50 \(▲ \+4\.2%/,
  );
  assert.ok(
    peer.requests.every((r) => r.authorized),
    'every call carries the bearer token',
  );
});

test('attach: link sends a text message with the signed link, no upload', async (t) => {
  const { peer, wa, msg } = await setup(t);
  await wa.send(msg({ attach: 'link', incomplete: true }), { signal: signal() });
  assert.equal(peer.media.size, 0);
  const sent = peer.messages[0] as { type: string; text: { body: string } };
  assert.equal(sent.type, 'text');
  assert.match(sent.text.body, /Download: https:\/\/reports\.example\.com\/.*sig=abc/);
  assert.match(sent.text.body, /Incomplete data/);
});

test('a message without files (an alert) is a text message', async (t) => {
  const { peer, wa, msg } = await setup(t);
  const { link: _link, ...noLink } = msg({ files: [], text: 'WARNING · Lyon (store) · orders drop' });
  await wa.send(noLink, { signal: signal() });
  assert.equal(peer.media.size, 0);
  const sent = peer.messages[0] as { type: string; text: { body: string } };
  assert.equal(sent.type, 'text');
  assert.match(sent.text.body, /WARNING · Lyon \(store\) · orders drop/);
});

test('outside the 24-hour window (131047) the template goes out, with the document as header parameter', async (t) => {
  const { peer, wa, msg } = await setup(t, { template: 'daily_report' });
  peer.outsideWindow(TO);
  const out = await wa.send(msg(), { signal: signal() });
  assert.equal(out.detail, 'sent as template (outside the 24-hour window)');
  assert.equal(peer.messages.length, 1, 'the refused document message was not delivered; one template was');
  const sent = peer.messages[0] as { type: string; template: Record<string, unknown> };
  assert.equal(sent.type, 'template');
  const [mediaId] = [...peer.media.keys()];
  assert.deepEqual(sent.template, {
    name: 'daily_report',
    language: { code: 'fr' },
    components: [
      {
        type: 'header',
        parameters: [
          { type: 'document', document: { id: mediaId, filename: 'daily-2026-12-02-store-7.pdf' } },
        ],
      },
      { type: 'body', parameters: [{ type: 'text', text: 'Daily sales 2026-12-02 · Store 7 (Lyon)' }] },
    ],
  });
});

test('131047 without WHATSAPP_TEMPLATE is permanent', async (t) => {
  const { peer, wa, msg } = await setup(t);
  peer.outsideWindow(TO);
  const err = await sendError(wa.send(msg(), { signal: signal() }));
  assert.equal(err.kind, 'permanent');
  assert.equal(err.code, 'whatsapp-131047');
  assert.match(err.message, /WHATSAPP_TEMPLATE is not set/);
});

test('rate limits are transient: 131056 (pair limit, 6 s hint), 130429 with Retry-After, 131000', async (t) => {
  const { peer, wa, msg } = await setup(t);
  peer.fail(
    'messages',
    { code: 131056 },
    { code: 130429, headers: { 'retry-after': '30' } },
    { code: 131000, status: 500 },
  );
  const pair = await sendError(wa.send(msg(), { signal: signal() }));
  assert.deepEqual([pair.kind, pair.code, pair.retryAfterMs], ['transient', 'whatsapp-131056', 6_000]);
  const throughput = await sendError(wa.send(msg(), { signal: signal() }));
  assert.deepEqual(
    [throughput.kind, throughput.code, throughput.retryAfterMs],
    ['transient', 'whatsapp-130429', 30_000],
  );
  const wrong = await sendError(wa.send(msg(), { signal: signal() }));
  assert.deepEqual([wrong.kind, wrong.code], ['transient', 'whatsapp-131000']);
  assert.equal(peer.messages.length, 0);
  await wa.send(msg(), { signal: signal() });
  assert.equal(peer.messages.length, 1);
});

test('131026, 100 and an expired token (190) are permanent; the token is in no error', async (t) => {
  const { peer, wa, msg } = await setup(t);
  peer.fail('messages', { code: 131026 }, { code: 100 });
  for (const code of ['whatsapp-131026', 'whatsapp-100']) {
    const err = await sendError(wa.send(msg(), { signal: signal() }));
    assert.deepEqual([err.kind, err.code], ['permanent', code]);
  }
  const expired = createWhatsAppChannel({
    apiUrl: peer.apiUrl,
    token: 'EAAGexpired-token-987654321',
    phoneNumberId: PHONE_ID,
    template: undefined,
    templateLanguage: 'en',
    attachmentMaxBytes: 1e9,
    timeoutMs: 5_000,
  });
  t.after(() => expired.close());
  const err = await sendError(expired.send(msg(), { signal: signal() }));
  assert.deepEqual([err.kind, err.code], ['permanent', 'whatsapp-190']);
  const seen = JSON.stringify({ m: err.message, s: err.stack, ...err });
  assert.doesNotMatch(seen, /EAAG|987654321|0123456789/);
});

test('HTTP 503 without a Graph error is transient', async (t) => {
  const { peer, wa, msg } = await setup(t);
  peer.fail('media', { code: 0, status: 503 });
  const err = await sendError(wa.send(msg(), { signal: signal() }));
  assert.deepEqual([err.kind, err.code], ['transient', 'http-503']);
});

test('no answer to the message is unknown; no answer to the upload is transient (nothing was sent)', async (t) => {
  const { peer, wa, msg } = await setup(t, { timeoutMs: 300 });
  peer.hang('messages');
  const lost = await sendError(wa.send(msg(), { signal: signal() }));
  assert.deepEqual([lost.kind, lost.code], ['unknown', 'timeout']);
  peer.hang('media');
  const upload = await sendError(wa.send(msg(), { signal: signal() }));
  assert.deepEqual([upload.kind, upload.code], ['transient', 'timeout']);
});

test('addresses are E.164 numbers', async (t) => {
  const { wa } = await setup(t);
  assert.equal(wa.validateAddress('+33612345678'), undefined);
  for (const bad of ['0612345678', '+0612345678', '33612345678', '+33 6 12 34 56 78', '+1234']) {
    assert.ok(wa.validateAddress(bad), bad);
  }
});
