/**
 * One HTTP request of a channel, with the network failures classified.
 *
 * A request either never reached the provider (connection refused, DNS, connect timeout: nothing was
 * sent, so `transient`), or it did and no answer came back (a reset, a timeout, an abort). For the
 * request that delivers the message that second case is `unknown`: the provider may have accepted
 * it. For a preparing step (a media upload, an upload URL) nothing reached the recipient yet, so it
 * stays `transient`. The answer itself (any status) is returned for the channel to judge.
 */
import { Agent, type Dispatcher, type FormData, request } from 'undici';
import { redactUrl } from './channel-fns.ts';
import { ChannelError } from './channel-types.ts';

export type Phase = 'prepare' | 'deliver';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function createHttpAgent(timeoutMs: number): Agent {
  return new Agent({
    // Shorter than the attempt's deadline, so a connection that never opens ends as a connect
    // failure (nothing sent) rather than as a deadline with an unknown outcome.
    connect: { timeout: Math.max(50, Math.min(Math.floor(timeoutMs / 2), 10_000)) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // One attempt means one attempt: no pipelining surprises, no reuse of a half-dead socket.
    pipelining: 1,
  });
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ABORT_ERR') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export async function httpCall(
  dispatcher: Dispatcher,
  req: {
    url: string;
    method?: 'POST' | 'GET';
    headers?: Record<string, string>;
    body?: string | Buffer | FormData;
    phase: Phase;
    /** names the step in messages, e.g. "WhatsApp media upload" */
    what: string;
  },
  signal: AbortSignal,
  timeoutMs: number,
): Promise<HttpAnswer> {
  if (signal.aborted) {
    throw new ChannelError('transient', 'aborted', `${req.what}: aborted before anything was sent`);
  }
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  try {
    const res = await request(req.url, {
      method: req.method ?? 'POST',
      headers: req.headers,
      body: req.body as Dispatcher.DispatchOptions['body'],
      signal: both,
      dispatcher,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  } catch (err) {
    const code = errorCode(err);
    const where = `${req.what} (${redactUrl(req.url)})`;
    if (code && NOT_CONNECTED.has(code)) {
      throw new ChannelError('transient', 'connect-failed', `${where}: could not connect (${code})`);
    }
    const timedOut = timeout.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    const why = timedOut ? 'timeout' : signal.aborted ? 'aborted' : 'no-answer';
    const said = timedOut
      ? `no answer within ${timeoutMs} ms`
      : signal.aborted
        ? 'the attempt was aborted'
        : `the connection ended without an answer (${code ?? 'network error'})`;
    if (req.phase === 'deliver') {
      throw new ChannelError('unknown', why, `${where}: ${said}; the message may have been delivered`);
    }
    throw new ChannelError('transient', why, `${where}: ${said}; nothing was delivered`);
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
