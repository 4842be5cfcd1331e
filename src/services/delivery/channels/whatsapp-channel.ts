/**
 * WhatsApp channel over the WhatsApp Business Cloud API (Graph API), never a browser.
 *
 * With the PDF attached: upload it (`POST /{phone-number-id}/media`, multipart), then send a
 * `document` message with the media id, the file name and a caption. With the files as a link: a
 * text message with the link; a message without files (an alert) is a text message too. Outside
 * the 24-hour customer service window the API refuses both with 131047 (nothing was sent), and the
 * channel sends the approved template WHATSAPP_TEMPLATE instead, with the document as its header
 * parameter and the subject as its body variable {{1}}.
 *
 * Errors are Graph errors, `{error: {message, type, code, error_subcode?, error_data?, fbtrace_id}}`,
 * classified by `code` as Meta advises (titles in `message` are being deprecated).
 */
import { readFile } from 'node:fs/promises';
// undici's own FormData: the global one belongs to Node's bundled undici and cannot be sent by this one.
import { FormData } from 'undici';
import { attachFiles, e164Error, INCOMPLETE_NOTE, kpiLine, plainSummary } from './channel-fns.ts';
import {
  ChannelError,
  type DeliveryChannel,
  type DeliveryMessage,
  type SendOutcome,
} from './channel-types.ts';
import { createHttpAgent, type HttpAnswer, httpCall, type Phase, parseJson } from './http-call.ts';
import { classifyGraphAnswer } from './whatsapp-errors.ts';

export interface WhatsAppChannelOptions {
  /** WHATSAPP_API_URL, https://graph.facebook.com/v21.0 */
  apiUrl: string;
  token: string;
  phoneNumberId: string;
  /** an approved template with a document header and one body variable; unset = no fallback */
  template: string | undefined;
  templateLanguage: string;
  attachmentMaxBytes: number;
  timeoutMs: number;
}

const OUTSIDE_WINDOW = 131047;

function caption(message: DeliveryMessage): string {
  const lines = [message.subject];
  if (message.incomplete) lines.push(`⚠ ${INCOMPLETE_NOTE}`);
  lines.push(...message.headline.map(kpiLine));
  const text = lines.join('\n');
  return text.length > 1024 ? `${text.slice(0, 1023)}…` : text;
}

export function createWhatsAppChannel(opts: WhatsAppChannelOptions): DeliveryChannel {
  const agent = createHttpAgent(opts.timeoutMs);
  const base = `${opts.apiUrl.replace(/\/+$/, '')}/${encodeURIComponent(opts.phoneNumberId)}`;
  const auth = { authorization: `Bearer ${opts.token}` };

  async function graph(
    path: 'media' | 'messages',
    body: string | FormData,
    phase: Phase,
    what: string,
    signal: AbortSignal,
  ): Promise<{ answer: HttpAnswer; json: Record<string, unknown> }> {
    const answer = await httpCall(
      agent,
      {
        url: `${base}/${path}`,
        headers: typeof body === 'string' ? { ...auth, 'content-type': 'application/json' } : auth,
        body,
        phase,
        what,
      },
      signal,
      opts.timeoutMs,
    );
    const err = classifyGraphAnswer(answer, phase, what, [opts.token]);
    if (err) throw err;
    return { answer, json: (parseJson(answer.text) ?? {}) as Record<string, unknown> };
  }

  async function upload(file: DeliveryMessage['files'][number], signal: AbortSignal): Promise<string> {
    const bytes = await readFile(file.path).catch(() => {
      throw new ChannelError('permanent', 'file-missing', `the report file ${file.filename} cannot be read`);
    });
    const form = new FormData();
    form.append('messaging_product', 'whatsapp');
    form.append('type', file.contentType);
    form.append('file', new Blob([bytes], { type: file.contentType }), file.filename);
    const { json } = await graph('media', form, 'prepare', 'WhatsApp media upload', signal);
    if (typeof json.id !== 'string') {
      throw new ChannelError('transient', 'bad-answer', 'WhatsApp media upload: no media id in the answer');
    }
    return json.id;
  }

  async function message(payload: Record<string, unknown>, what: string, signal: AbortSignal) {
    const { json } = await graph(
      'messages',
      JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', ...payload }),
      'deliver',
      what,
      signal,
    );
    const id = (json.messages as { id?: unknown }[] | undefined)?.[0]?.id;
    if (typeof id !== 'string') {
      throw new ChannelError('unknown', 'bad-answer', `${what}: accepted without a message id`);
    }
    return id;
  }

  return {
    kind: 'whatsapp',
    validateAddress: e164Error,
    async send(msg, { signal }): Promise<SendOutcome> {
      const to = msg.recipient.address;
      const pdf = msg.files.find((f) => f.contentType === 'application/pdf');
      const attached = pdf !== undefined && attachFiles({ ...msg, files: [pdf] }, opts.attachmentMaxBytes);
      let document: Record<string, string> | undefined;
      let first: Record<string, unknown>;
      if (attached && pdf) {
        document = { id: await upload(pdf, signal), filename: pdf.filename };
        first = { to, type: 'document', document: { ...document, caption: caption(msg) } };
      } else if (msg.link || msg.files.length === 0) {
        // with the files as a link, or a message that has none (an alert): a text message
        document = pdf && msg.link ? { link: msg.link.url, filename: pdf.filename } : undefined;
        const body = `${msg.subject}\n\n${plainSummary(msg, true)}`.slice(0, 4096);
        first = { to, type: 'text', text: { body, preview_url: false } };
      } else {
        throw new ChannelError('permanent', 'nothing-to-send', 'WhatsApp needs a PDF or a download link');
      }
      try {
        return { providerMessageId: await message(first, 'WhatsApp message', signal) };
      } catch (err) {
        if (!(err instanceof ChannelError) || err.code !== `whatsapp-${OUTSIDE_WINDOW}`) throw err;
        if (!opts.template || !document) {
          throw new ChannelError(
            'permanent',
            err.code,
            opts.template
              ? 'outside the 24-hour window and there is no document for the template header'
              : 'outside the 24-hour window and WHATSAPP_TEMPLATE is not set',
          );
        }
        const id = await message(
          {
            to,
            type: 'template',
            template: {
              name: opts.template,
              language: { code: opts.templateLanguage },
              components: [
                { type: 'header', parameters: [{ type: 'document', document }] },
                { type: 'body', parameters: [{ type: 'text', text: msg.subject.slice(0, 1024) }] },
              ],
            },
          },
          'WhatsApp template message',
          signal,
        );
        return { providerMessageId: id, detail: 'sent as template (outside the 24-hour window)' };
      }
    },
    close: () => agent.close(),
  };
}
