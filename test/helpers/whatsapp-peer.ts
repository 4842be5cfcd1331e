/**
 * A local WhatsApp Business Cloud API: `POST /{phone-number-id}/media` (multipart) and
 * `POST /{phone-number-id}/messages` (JSON), checking the bearer token, the upload and the message
 * shape, and answering Graph errors as Meta documents them:
 * `{error: {message, type, code, error_data: {messaging_product, details}, fbtrace_id}}`.
 *
 * Scripts: `fail('messages', {code: 131056})` answers the next message with that error;
 * `outsideWindow(number)` answers 131047 to anything but a template for that number;
 * `hang('messages')` reads the next request and never answers.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Failure {
  code: number;
  status?: number;
  headers?: Record<string, string>;
}

export interface StoredMedia {
  id: string;
  filename: string;
  type: string;
  bytes: Buffer;
}

const MESSAGES: Record<number, [string, string]> = {
  100: ['Invalid parameter', 'Parameter value is not valid'],
  190: ['Error validating access token: Session has expired', ''],
  130429: ['Rate limit hit', 'Cloud API message throughput has been reached.'],
  131000: ['Something went wrong', 'Message failed to send due to an unknown error.'],
  131026: ['Message undeliverable', 'Unable to deliver message.'],
  131047: [
    'Re-engagement message',
    'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  ],
  131056: [
    '(Business Account, Consumer Account) pair rate limit hit',
    'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
  ],
};

function graphError(res: ServerResponse, f: Failure) {
  if (f.code === 0) {
    // a proxy in front of the API, not the API: no Graph error body
    res.writeHead(f.status ?? 503, { 'content-type': 'text/plain', ...f.headers });
    return res.end('Service Unavailable');
  }
  const [title, details] = MESSAGES[f.code] ?? ['Error', ''];
  const status = f.status ?? (f.code === 190 ? 401 : 400);
  res.writeHead(status, { 'content-type': 'application/json', ...f.headers });
  res.end(
    JSON.stringify({
      error: {
        message: `(#${f.code}) ${title}`,
        type: 'OAuthException',
        code: f.code,
        ...(f.code === 190 ? { error_subcode: 463 } : {}),
        error_data: { messaging_product: 'whatsapp', details },
        fbtrace_id: 'AbCdEfGhIjKl',
      },
    }),
  );
}

export async function startWhatsAppPeer(t: TestContext, opts: { token: string; phoneNumberId: string }) {
  const media = new Map<string, StoredMedia>();
  const messages: Record<string, unknown>[] = [];
  const requests: { path: string; authorized: boolean }[] = [];
  const failures: Record<'media' | 'messages', Failure[]> = { media: [], messages: [] };
  const hangs: Record<'media' | 'messages', number> = { media: 0, messages: 0 };
  const outside = new Set<string>();
  const problems: string[] = [];

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const authorized = req.headers.authorization === `Bearer ${opts.token}`;
    requests.push({ path, authorized });
    const match = /^\/v21\.0\/(\d+)\/(media|messages)$/.exec(path);
    if (req.method !== 'POST' || !match) return graphError(res, { code: 100, status: 404 });
    if (!authorized) return graphError(res, { code: 190 });
    if (match[1] !== opts.phoneNumberId) return graphError(res, { code: 100 });
    const what = match[2] as 'media' | 'messages';
    if (hangs[what] > 0) {
      hangs[what]--;
      return; // the request was read; no answer ever comes
    }
    const failure = failures[what].shift();
    if (failure) return graphError(res, failure);

    if (what === 'media') {
      // The same multipart parser as fetch(): a malformed body throws here.
      const form = await new Response(body, {
        headers: { 'content-type': req.headers['content-type'] ?? '' },
      }).formData();
      const file = form.get('file');
      if (form.get('messaging_product') !== 'whatsapp' || typeof form.get('type') !== 'string') {
        problems.push('media: messaging_product and type are required');
        return graphError(res, { code: 100 });
      }
      if (!(file instanceof Blob) || file.type !== form.get('type')) {
        problems.push('media: file must be a file part with the declared type');
        return graphError(res, { code: 100 });
      }
      const id = `${900000000000000 + media.size + 1}`;
      media.set(id, {
        id,
        filename: (file as File).name,
        type: file.type,
        bytes: Buffer.from(await file.arrayBuffer()),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ id }));
    }

    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(body.toString('utf8'));
    } catch {
      problems.push('messages: body is not JSON');
      return graphError(res, { code: 100 });
    }
    const to = String(msg.to ?? '');
    const doc = (msg.document ?? {}) as { id?: string };
    const okShape =
      msg.messaging_product === 'whatsapp' &&
      /^\+?[1-9]\d{6,14}$/.test(to) &&
      ((msg.type === 'document' && typeof doc.id === 'string' && media.has(doc.id)) ||
        (msg.type === 'text' && typeof (msg.text as { body?: unknown })?.body === 'string') ||
        (msg.type === 'template' && typeof (msg.template as { name?: unknown })?.name === 'string'));
    if (!okShape) {
      problems.push(`messages: bad message ${JSON.stringify(msg)}`);
      return graphError(res, { code: 100 });
    }
    if (msg.type !== 'template' && outside.has(to)) return graphError(res, { code: 131047 });
    messages.push(msg);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: to.replace('+', '') }],
        messages: [{ id: `wamid.HBgL${messages.length}` }],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    apiUrl: `http://127.0.0.1:${port}/v21.0`,
    media,
    messages,
    requests,
    /** shape problems the fake found; a test asserts it stays empty */
    problems,
    fail(what: 'media' | 'messages', ...f: Failure[]) {
      failures[what].push(...f);
    },
    hang(what: 'media' | 'messages') {
      hangs[what]++;
    },
    outsideWindow(number: string) {
      outside.add(number);
    },
  };
}
