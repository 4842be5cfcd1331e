/** The channels' pure helpers: classification, Retry-After, the attach rule, the e-mail body. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attachFiles,
  classifyHttpStatus,
  classifySmtpCode,
  httpsUrlError,
  messageIdFor,
  parseRetryAfter,
  redactUrl,
  scrub,
} from '../src/services/delivery/channels/channel-fns.ts';
import type { DeliveryFile } from '../src/services/delivery/channels/channel-types.ts';
import { renderEmailHtml, renderEmailText } from '../src/services/delivery/channels/email-body.ts';
import { deliveryMessage } from './helpers/delivery.ts';

const file = (bytes: number): DeliveryFile => ({
  filename: 'r.pdf',
  contentType: 'application/pdf',
  path: '/x/r.pdf',
  bytes,
});

test('Retry-After: delta-seconds or an HTTP date, in ms; nonsense is ignored', () => {
  const now = Date.parse('2026-12-03T07:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(['3'], now), 3_000);
  assert.equal(parseRetryAfter('Thu, 03 Dec 2026 07:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Thu, 03 Dec 2026 06:00:00 GMT', now), 0, 'a date in the past: now');
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-5', now), undefined);
});

test('HTTP and SMTP codes', () => {
  assert.equal(classifyHttpStatus(200), undefined);
  assert.equal(classifyHttpStatus(204), undefined);
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(classifyHttpStatus(s), 'transient', String(s));
  for (const s of [400, 401, 403, 404, 410, 413, 422])
    assert.equal(classifyHttpStatus(s), 'permanent', String(s));
  for (const c of [421, 450, 451, 452]) assert.equal(classifySmtpCode(c), 'transient');
  for (const c of [535, 550, 552, 553, 554]) assert.equal(classifySmtpCode(c), 'permanent');
});

test('the Message-ID is a stable function of the ledger key', () => {
  assert.equal(messageIdFor('a:b:c'), messageIdFor('a:b:c'));
  assert.notEqual(messageIdFor('a:b:c'), messageIdFor('a:b:d'));
  assert.match(messageIdFor('x'), /^<[0-9a-f]{32}@salesflow>$/);
});

test('attach rule: link when asked or over the limit, attached otherwise, never a link that does not exist', () => {
  const max = 1000;
  assert.equal(attachFiles(deliveryMessage([file(900)]), max), true);
  assert.equal(attachFiles(deliveryMessage([file(600), file(600)]), max), false, 'the total counts');
  assert.equal(attachFiles(deliveryMessage([file(10)], { attach: 'link' }), max), false);
  assert.equal(attachFiles(deliveryMessage([file(5000)], { attach: 'always' }), max), true);
  assert.equal(attachFiles(deliveryMessage([file(5000)], { link: undefined }), max), true, 'no link: attach');
  assert.equal(attachFiles(deliveryMessage([]), max), false);
});

test('URLs: https (http only to this machine); messages show only origin and first segment', () => {
  assert.equal(httpsUrlError('https://example.com/hook'), undefined);
  assert.equal(httpsUrlError('http://127.0.0.1:8080/hook'), undefined);
  assert.ok(httpsUrlError('http://example.com/hook'));
  assert.ok(httpsUrlError('ftp://example.com/'));
  assert.ok(httpsUrlError('not a url'));
  assert.equal(
    redactUrl('https://hooks.slack.com/services/T0/B0/secret?x=1'),
    'https://hooks.slack.com/services/…',
  );
  assert.equal(scrub('token abc123xyz leaked', ['abc123xyz']), 'token [redacted] leaked');
});

test('the HTML escapes what it shows, and says when the data is incomplete', () => {
  const msg = deliveryMessage([file(10)], {
    subject: 'Store <b>7</b> & co',
    headline: [{ label: 'Rev<script>', value: '"1"', change: { text: '<+1%>', direction: 'up' } }],
    text: 'line 1\nline <2>',
    incomplete: true,
  });
  const html = renderEmailHtml(msg, true);
  assert.match(html, /Store &lt;b&gt;7&lt;\/b&gt; &amp; co/);
  assert.match(html, /Rev&lt;script&gt;/);
  assert.match(html, /&quot;1&quot;/);
  assert.match(html, /▲&nbsp;&lt;\+1%&gt;/);
  assert.match(html, /line 1<br>line &lt;2&gt;/);
  assert.match(html, /Incomplete data\./);
  assert.doesNotMatch(html, /<script>|<b>7/);
  const text = renderEmailText(msg, false);
  assert.match(text, /^Store <b>7<\/b> & co\n\nWARNING: Incomplete data/);
  assert.match(text, /Download the report: https:/);
});
