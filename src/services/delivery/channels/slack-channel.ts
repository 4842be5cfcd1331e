/**
 * Slack channel, two kinds of address:
 * - an incoming webhook URL: one message with the headline KPIs and the signed link (webhooks cannot
 *   carry files);
 * - a channel id (C…, G…, D…) with SLACK_BOT_TOKEN: the files upload v2 flow
 *   (files.getUploadURLExternal, the bytes to the upload URL, files.completeUploadExternal with the
 *   summary as initial_comment), or chat.postMessage with the link when the files go as a link.
 *
 * The webhook URL is itself a secret (whoever has it can post): it never appears in a message.
 */
import { readFile } from 'node:fs/promises';
import {
  attachFiles,
  classifyHttpStatus,
  httpsUrlError,
  keyDigest,
  parseRetryAfter,
  redactUrl,
} from './channel-fns.ts';
import { ChannelError, type DeliveryChannel, type DeliveryMessage } from './channel-types.ts';
import { createHttpAgent, httpCall } from './http-call.ts';
import { checkSlackAnswer, slackBlocks, slackText } from './slack-message.ts';

export interface SlackChannelOptions {
  /** unset: only incoming webhook addresses work */
  botToken: string | undefined;
  /** SLACK_API_URL, https://slack.com/api */
  apiUrl: string;
  attachmentMaxBytes: number;
  timeoutMs: number;
}

const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;

export function createSlackChannel(opts: SlackChannelOptions): DeliveryChannel {
  const agent = createHttpAgent(opts.timeoutMs);
  const api = opts.apiUrl.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${opts.botToken}` };

  async function viaWebhook(message: DeliveryMessage, signal: AbortSignal) {
    const where = `Slack webhook (${redactUrl(message.recipient.address)})`;
    const answer = await httpCall(
      agent,
      {
        url: message.recipient.address,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: slackText(message, true), blocks: slackBlocks(message, true) }),
        phase: 'deliver',
        what: 'Slack webhook',
      },
      signal,
      opts.timeoutMs,
    );
    const kind = classifyHttpStatus(answer.status);
    if (kind) {
      // Webhooks answer errors as short text codes: invalid_payload, channel_not_found, no_service...
      const said = /^[a-z_]{1,64}$/.test(answer.text.trim()) ? answer.text.trim() : `http_${answer.status}`;
      throw new ChannelError(
        kind,
        `slack-${said}`,
        `${where}: HTTP ${answer.status} ${said}`,
        kind === 'transient' ? parseRetryAfter(answer.headers['retry-after']) : undefined,
      );
    }
    return { providerMessageId: `slack-webhook:${keyDigest(message.key).slice(0, 32)}` };
  }

  async function uploadOne(file: DeliveryMessage['files'][number], signal: AbortSignal): Promise<string> {
    const bytes = await readFile(file.path).catch(() => {
      throw new ChannelError('permanent', 'file-missing', `the report file ${file.filename} cannot be read`);
    });
    const step1 = await httpCall(
      agent,
      {
        url: `${api}/files.getUploadURLExternal`,
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ filename: file.filename, length: String(bytes.length) }).toString(),
        phase: 'prepare',
        what: 'Slack files.getUploadURLExternal',
      },
      signal,
      opts.timeoutMs,
    );
    const got = checkSlackAnswer(step1, 'prepare', 'Slack files.getUploadURLExternal');
    const uploadUrl = got.upload_url;
    const fileId = got.file_id;
    if (typeof uploadUrl !== 'string' || typeof fileId !== 'string') {
      throw new ChannelError('transient', 'bad-answer', 'Slack files.getUploadURLExternal: no upload_url');
    }
    // The upload URL is pre-signed: the bot token is not sent there.
    const step2 = await httpCall(
      agent,
      {
        url: uploadUrl,
        headers: { 'content-type': file.contentType },
        body: bytes,
        phase: 'prepare',
        what: 'Slack file upload',
      },
      signal,
      opts.timeoutMs,
    );
    const kind = classifyHttpStatus(step2.status);
    if (kind) {
      throw new ChannelError(
        kind,
        `http-${step2.status}`,
        `Slack file upload: HTTP ${step2.status}`,
        parseRetryAfter(step2.headers['retry-after']),
      );
    }
    return fileId;
  }

  async function viaBot(message: DeliveryMessage, signal: AbortSignal) {
    if (!attachFiles(message, opts.attachmentMaxBytes)) {
      const answer = await httpCall(
        agent,
        {
          url: `${api}/chat.postMessage`,
          headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify({
            channel: message.recipient.address,
            text: slackText(message, true),
            blocks: slackBlocks(message, true),
          }),
          phase: 'deliver',
          what: 'Slack chat.postMessage',
        },
        signal,
        opts.timeoutMs,
      );
      const body = checkSlackAnswer(answer, 'deliver', 'Slack chat.postMessage');
      return {
        providerMessageId: `slack:${String(body.channel ?? message.recipient.address)}:${String(body.ts)}`,
      };
    }
    const ids: string[] = [];
    for (const file of message.files) ids.push(await uploadOne(file, signal));
    const answer = await httpCall(
      agent,
      {
        url: `${api}/files.completeUploadExternal`,
        headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({
          files: ids.map((id, i) => ({ id, title: message.files[i]?.filename })),
          channel_id: message.recipient.address,
          initial_comment: slackText(message, false),
        }),
        phase: 'deliver',
        what: 'Slack files.completeUploadExternal',
      },
      signal,
      opts.timeoutMs,
    );
    checkSlackAnswer(answer, 'deliver', 'Slack files.completeUploadExternal');
    return { providerMessageId: `slack-files:${ids.join(',')}`, detail: `${ids.length} file(s) shared` };
  }

  return {
    kind: 'slack',
    validateAddress(address) {
      if (CHANNEL_ID.test(address)) {
        return opts.botToken
          ? undefined
          : 'a Slack channel id needs SLACK_BOT_TOKEN; give an incoming webhook URL';
      }
      return httpsUrlError(address)
        ? 'must be a Slack incoming webhook URL or a channel id such as C0123456789'
        : undefined;
    },
    async send(message, { signal }) {
      if (CHANNEL_ID.test(message.recipient.address)) {
        if (!opts.botToken) {
          throw new ChannelError('permanent', 'not-configured', 'a Slack channel id needs SLACK_BOT_TOKEN');
        }
        return viaBot(message, signal);
      }
      return viaWebhook(message, signal);
    },
    close: () => agent.close(),
  };
}
