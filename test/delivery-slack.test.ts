/** The Slack channel against a local Slack: incoming webhooks and the files upload v2 flow. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { type TestContext, test } from 'node:test';
import { createSlackChannel } from '../src/services/delivery/channels/slack-channel.ts';
import { deliveryMessage, reportFiles, sendError, signal } from './helpers/delivery.ts';
import { startSlackPeer } from './helpers/slack-peer.ts';

const BOT = 'xoxb-1111-2222-slacktokensecret';
const CHANNEL = 'C0123456789';

async function setup(t: TestContext, over: { botToken?: string; max?: number } = {}) {
  const peer = await startSlackPeer(t, { botToken: BOT });
  const files = await reportFiles(t);
  const slack = createSlackChannel({
    botToken: 'botToken' in over ? over.botToken : BOT,
    apiUrl: peer.apiUrl,
    attachmentMaxBytes: over.max ?? 10 * 1024 * 1024,
    timeoutMs: 5_000,
  });
  t.after(() => slack.close());
  const msg = (address: string, o: Parameters<typeof deliveryMessage>[1] = {}) =>
    deliveryMessage([files.pdf, files.xlsx], { recipient: { address }, ...o });
  return { peer, slack, files, msg };
}

test('incoming webhook: one message with the headline KPIs, their arrows and the signed link', async (t) => {
  const { peer, slack, msg } = await setup(t, { botToken: undefined });
  const out = await slack.send(msg(peer.webhookUrl, { incomplete: true }), { signal: signal() });
  assert.match(out.providerMessageId, /^slack-webhook:[0-9a-f]{32}$/);
  assert.equal(peer.webhookPosts.length, 1);
  const { text, blocks } = peer.webhookPosts[0]!.body;
  assert.match(text!, /Revenue: €12,340\.50 \(▲ \+4\.2% vs last week\)/);
  assert.match(text!, /<https:\/\/reports\.example\.com\/[^|]*\|Download the report>/);
  const json = JSON.stringify(blocks);
  assert.match(json, /"type":"header"/);
  assert.match(json, /\*Revenue\*\\n€12,340\.50 {2}▲ \+4\.2% vs last week/);
  assert.match(json, /\*Orders\*\\n318 {2}▼ -3\.1% vs last week/);
  assert.match(json, /:warning: \*Incomplete data\.\*/);
});

test('incoming webhook errors: 429 honours Retry-After (HTTP date); 404 is permanent and hides the URL', async (t) => {
  const { peer, slack, msg } = await setup(t);
  const at = new Date(Date.now() + 20_000).toUTCString();
  peer.fail('webhook', { status: 429, text: 'rate_limited', headers: { 'retry-after': at } });
  peer.fail('webhook', { status: 404, text: 'channel_not_found' });
  peer.fail('webhook', { status: 500, text: 'rollup_error' });
  const limited = await sendError(slack.send(msg(peer.webhookUrl), { signal: signal() }));
  assert.equal(limited.kind, 'transient');
  assert.ok(limited.retryAfterMs! > 15_000 && limited.retryAfterMs! <= 20_000, String(limited.retryAfterMs));
  const gone = await sendError(slack.send(msg(peer.webhookUrl), { signal: signal() }));
  assert.deepEqual([gone.kind, gone.code], ['permanent', 'slack-channel_not_found']);
  const broken = await sendError(slack.send(msg(peer.webhookUrl), { signal: signal() }));
  assert.deepEqual([broken.kind, broken.code], ['transient', 'slack-rollup_error']);
  for (const err of [limited, gone, broken]) {
    assert.doesNotMatch(JSON.stringify({ m: err.message, s: err.stack, ...err }), /secret|T0001|B0002/);
  }
  assert.equal(peer.webhookPosts.length, 0);
});

test('bot token: files upload v2 (upload URL, bytes, completion in the channel with the summary)', async (t) => {
  const { peer, slack, files, msg } = await setup(t);
  const out = await slack.send(msg(CHANNEL), { signal: signal() });
  assert.deepEqual(peer.problems, []);
  assert.deepEqual(
    peer.calls.filter((c) => !c.startsWith('/upload/')),
    ['files.getUploadURLExternal', 'files.getUploadURLExternal', 'files.completeUploadExternal'],
  );
  assert.equal(peer.shared.length, 1);
  const share = peer.shared[0]!;
  assert.equal(share.channel_id, CHANNEL);
  assert.match(
    share.initial_comment,
    /^\*Daily sales 2026-12-02 · Store 7 \(Lyon\)\*\nRevenue: €12,340\.50 \(▲/,
  );
  assert.doesNotMatch(share.initial_comment, /Download the report/, 'the files are there, no link');
  assert.deepEqual(
    share.files.map((f) => f.filename),
    [files.pdf.filename, files.xlsx.filename],
  );
  assert.deepEqual(share.files[0]!.bytes, await readFile(files.pdf.path));
  assert.deepEqual(share.files[1]!.bytes, await readFile(files.xlsx.path));
  assert.equal(out.providerMessageId, `slack-files:${share.files.map((f) => f.id).join(',')}`);
});

test('bot token with the files as a link: chat.postMessage with the link, nothing uploaded', async (t) => {
  const { peer, slack, msg } = await setup(t, { max: 10 });
  const out = await slack.send(msg(CHANNEL), { signal: signal() });
  assert.deepEqual(peer.calls, ['chat.postMessage']);
  assert.equal(peer.posts[0]!.channel, CHANNEL);
  assert.match(String(peer.posts[0]!.text), /Download the report/);
  assert.equal(out.providerMessageId, `slack:${CHANNEL}:1733212800.001`);
});

test('ok:false: ratelimited is transient with Retry-After; channel_not_found and invalid_auth are permanent', async (t) => {
  const { peer, slack, msg } = await setup(t);
  peer.fail('files.completeUploadExternal', { error: 'ratelimited', headers: { 'retry-after': '12' } });
  peer.fail('files.completeUploadExternal', { error: 'channel_not_found' });
  const limited = await sendError(slack.send(msg(CHANNEL), { signal: signal() }));
  assert.deepEqual(
    [limited.kind, limited.code, limited.retryAfterMs],
    ['transient', 'slack-ratelimited', 12_000],
  );
  const missing = await sendError(slack.send(msg(CHANNEL), { signal: signal() }));
  assert.deepEqual([missing.kind, missing.code], ['permanent', 'slack-channel_not_found']);
  assert.equal(peer.shared.length, 0);

  const wrong = createSlackChannel({
    botToken: 'xoxb-9999-wrongtokensecret',
    apiUrl: peer.apiUrl,
    attachmentMaxBytes: 1e9,
    timeoutMs: 5_000,
  });
  t.after(() => wrong.close());
  const auth = await sendError(wrong.send(msg(CHANNEL), { signal: signal() }));
  assert.deepEqual([auth.kind, auth.code], ['permanent', 'slack-invalid_auth']);
  for (const err of [limited, missing, auth]) {
    assert.doesNotMatch(JSON.stringify({ m: err.message, s: err.stack, ...err }), /xoxb|tokensecret/);
  }
});

test('internal_error on the sharing call is unknown (Slack: "some aspect may have succeeded"); on the upload URL, transient', async (t) => {
  const { peer, slack, msg } = await setup(t);
  peer.fail('files.completeUploadExternal', { error: 'internal_error' });
  const maybe = await sendError(slack.send(msg(CHANNEL), { signal: signal() }));
  assert.deepEqual([maybe.kind, maybe.code], ['unknown', 'slack-internal_error']);
  peer.fail('files.getUploadURLExternal', { error: 'internal_error' });
  const early = await sendError(slack.send(msg(CHANNEL), { signal: signal() }));
  assert.deepEqual([early.kind, early.code], ['transient', 'slack-internal_error']);
});

test('addresses: a webhook URL, or a channel id when a bot token is configured', async (t) => {
  const { slack, peer } = await setup(t, { botToken: undefined });
  assert.equal(slack.validateAddress('https://hooks.slack.com/services/T0/B0/xyz'), undefined);
  assert.equal(slack.validateAddress(peer.webhookUrl), undefined, 'http only to this machine');
  assert.match(slack.validateAddress(CHANNEL)!, /SLACK_BOT_TOKEN/);
  assert.ok(slack.validateAddress('http://hooks.example.com/x'));
  assert.ok(slack.validateAddress('#general'));
  const err = await sendError(
    slack.send(deliveryMessage([], { recipient: { address: CHANNEL } }), { signal: signal() }),
  );
  assert.equal(err.kind, 'permanent');
});
