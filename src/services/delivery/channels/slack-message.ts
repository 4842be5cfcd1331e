/** The Slack message (Block Kit) for a delivery, and how Slack's answers are classified. Pure. */
import { ARROWS, classifyHttpStatus, INCOMPLETE_NOTE, kpiLine, parseRetryAfter } from './channel-fns.ts';
import { ChannelError, type DeliveryMessage } from './channel-types.ts';
import { type HttpAnswer, type Phase, parseJson } from './http-call.ts';

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
  const parsed = parseJson(answer.text);
  const body = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  if (body?.ok === true && answer.status < 300) return body;
  const statusKind = classifyHttpStatus(answer.status);
  if (!body || typeof body.error !== 'string') {
    if (statusKind) {
      throw new ChannelError(
        statusKind,
        `http-${answer.status}`,
        `${what}: HTTP ${answer.status}`,
        retryAfterMs,
      );
    }
    throw new ChannelError(
      phase === 'deliver' ? 'unknown' : 'transient',
      'bad-answer',
      `${what}: HTTP ${answer.status} without a readable answer`,
    );
  }
  const error = /^[a-z0-9_]{1,64}$/.test(body.error) ? body.error : 'unknown_error';
  const code = `slack-${error}`;
  if (TRY_LATER.has(error) || statusKind === 'transient') {
    throw new ChannelError('transient', code, `${what}: ${error}`, retryAfterMs);
  }
  if (MAYBE_DONE.has(error)) {
    throw new ChannelError(phase === 'deliver' ? 'unknown' : 'transient', code, `${what}: ${error}`);
  }
  throw new ChannelError('permanent', code, `${what}: ${error}`);
}
