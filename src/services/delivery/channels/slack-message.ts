/** The Slack message (Block Kit) for a delivery, and how Slack's answers are classified. Pure. */
import { ARROWS, INCOMPLETE_NOTE, kpiLine, parseRetryAfter } from './channel-fns.ts';
import { ChannelError, type DeliveryMessage } from './channel-types.ts';
import type { HttpAnswer, Phase } from './http-call.ts';

/** Slack's mrkdwn needs only these three escaped. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Plain text: the notification preview, and the only text of clients without blocks. */
export function slackText(message: DeliveryMessage, withLink: boolean): string {
  const lines = [`*${escapeMrkdwn(message.subject)}*`];
  if (message.incomplete) lines.push(`:warning: ${escapeMrkdwn(INCOMPLETE_NOTE)}`);
  lines.push(...message.headline.map((k) => escapeMrkdwn(kpiLine(k))));
  if (message.text) lines.push(escapeMrkdwn(message.text));
  if (withLink && message.link) {
    lines.push(`<${message.link.url}|Download the report> (until ${escapeMrkdwn(message.link.expiresAt)})`);
  }
  return lines.join('\n');
}

export function slackBlocks(message: DeliveryMessage, withLink: boolean): unknown[] {
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: message.subject.slice(0, 150), emoji: true } },
  ];
  if (message.incomplete) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `:warning: *Incomplete data.* ${escapeMrkdwn(INCOMPLETE_NOTE)}` },
    });
  }
  // A section holds at most 10 fields.
  for (let i = 0; i < message.headline.length; i += 10) {
    blocks.push({
      type: 'section',
      fields: message.headline.slice(i, i + 10).map((k) => ({
        type: 'mrkdwn',
        text:
          `*${escapeMrkdwn(k.label)}*\n${escapeMrkdwn(k.value)}` +
          (k.change ? `  ${ARROWS[k.change.direction]} ${escapeMrkdwn(k.change.text)}` : ''),
      })),
    });
  }
  if (message.text) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: escapeMrkdwn(message.text).slice(0, 3000) },
    });
  }
  if (withLink && message.link) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `<${message.link.url}|Download the report> (the link works until ${escapeMrkdwn(message.link.expiresAt)})`,
      },
    });
  }
  return blocks;
}

// Slack's own words for these: "it's possible some aspect of the operation succeeded before the error
// was raised". On the call that shares the message that is an unknown outcome, not a failure.
const MAYBE_DONE = new Set(['internal_error', 'fatal_error']);
const TRY_LATER = new Set(['ratelimited', 'service_unavailable', 'request_timeout']);

/** Throws the ChannelError a Web API answer means; returns its JSON body when `ok: true`. */
export function checkSlackAnswer(answer: HttpAnswer, phase: Phase, what: string): Record<string, unknown> {
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  if (answer.status === 429 || answer.status >= 500 || body === undefined || typeof body !== 'object') {
    if (answer.status === 429 || answer.status >= 500) {
      throw new ChannelError(
        'transient',
        `http-${answer.status}`,
        `${what}: HTTP ${answer.status}`,
        retryAfterMs,
      );
    }
    if (answer.status >= 400) {
      throw new ChannelError('permanent', `http-${answer.status}`, `${what}: HTTP ${answer.status}`);
    }
    throw new ChannelError(
      phase === 'deliver' ? 'unknown' : 'transient',
      'bad-answer',
      `${what}: HTTP ${answer.status} without a readable answer`,
    );
  }
  if (body.ok === true) return body;
  const error =
    typeof body.error === 'string' && /^[a-z0-9_]{1,64}$/.test(body.error) ? body.error : 'unknown_error';
  const code = `slack-${error}`;
  if (TRY_LATER.has(error)) throw new ChannelError('transient', code, `${what}: ${error}`, retryAfterMs);
  if (MAYBE_DONE.has(error)) {
    throw new ChannelError(phase === 'deliver' ? 'unknown' : 'transient', code, `${what}: ${error}`);
  }
  throw new ChannelError('permanent', code, `${what}: ${error}`);
}
