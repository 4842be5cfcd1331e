/** How a Graph API answer of the WhatsApp Cloud API ends an attempt. Pure. */
import { classifyHttpStatus, parseRetryAfter, scrub } from './channel-fns.ts';
import { ChannelError } from './channel-types.ts';
import type { HttpAnswer, Phase } from './http-call.ts';
import { parseJson } from './http-call.ts';

/**
 * Codes that mean "not now": throughput (130429), pair rate limit (131056: one message every few
 * seconds to the same number), "something went wrong" (131000), service unavailable (131016),
 * temporary API errors (1, 2), application and account rate limits (4, 80007).
 */
const TRANSIENT = new Set([1, 2, 4, 80007, 130429, 131000, 131016, 131056]);
/** The pair rate limit allows about one message per 6 seconds to one number; Graph sends no Retry-After. */
const PAIR_RATE_LIMIT_MS = 6_000;

interface GraphError {
  code?: unknown;
  message?: unknown;
  error_subcode?: unknown;
}

/** undefined for a success; otherwise the ChannelError the answer means. */
export function classifyGraphAnswer(
  answer: HttpAnswer,
  phase: Phase,
  what: string,
  secrets: string[],
): ChannelError | undefined {
  const statusKind = classifyHttpStatus(answer.status);
  const body = parseJson(answer.text) as { error?: GraphError } | undefined;
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
  if (!statusKind) {
    if (body && typeof body === 'object' && !body.error) return undefined;
    // A 2xx we cannot read: on the sending call, it may well have been sent.
    return new ChannelError(
      phase === 'deliver' ? 'unknown' : 'transient',
      'bad-answer',
      `${what}: HTTP ${answer.status} without a readable answer`,
    );
  }
  const code = typeof body?.error?.code === 'number' ? body.error.code : undefined;
  if (code === undefined) {
    return new ChannelError(
      statusKind,
      `http-${answer.status}`,
      `${what}: HTTP ${answer.status}`,
      retryAfterMs,
    );
  }
  const said = typeof body?.error?.message === 'string' ? scrub(body.error.message, secrets, 200) : '';
  const kind = TRANSIENT.has(code) || statusKind === 'transient' ? 'transient' : 'permanent';
  return new ChannelError(
    kind,
    `whatsapp-${code}`,
    `${what}: error ${code}${said ? ` ${said}` : ''}`,
    kind === 'transient' ? (retryAfterMs ?? (code === 131056 ? PAIR_RATE_LIMIT_MS : undefined)) : undefined,
  );
}
