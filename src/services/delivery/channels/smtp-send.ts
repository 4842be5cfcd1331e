/**
 * One SMTP transaction for one recipient, with its outcome classified.
 *
 * Built on nodemailer's SMTPConnection rather than its transport because the transport cannot tell
 * "the server never got the message" from "the connection died after the message was sent": both
 * come back as a connection error. Here the message is a stream that marks the moment the client
 * starts reading it, which nodemailer does only after the server answered DATA with 354. A failure
 * without a reply code before that point is `transient` (nothing was sent); after it, `unknown`.
 * A reply code is always an explicit answer: 4yz transient, 5yz permanent.
 */
import { Readable } from 'node:stream';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { classifySmtpCode, scrub } from './channel-fns.ts';
import { ChannelError } from './channel-types.ts';

export interface SmtpTarget {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
  /** from the URL's query, as nodemailer reads it: `?requireTLS=true&tls.rejectUnauthorized=false` */
  requireTLS?: boolean;
  ignoreTLS?: boolean;
  tls?: Record<string, unknown>;
  /** shown in messages and logs instead of SMTP_URL, which may hold a password */
  label: string;
}

export function smtpTargetFromUrl(smtpUrl: string): SmtpTarget {
  const o = parseConnectionUrl(smtpUrl);
  const secure = Boolean(o.secure);
  const host = o.host ?? 'localhost';
  const port = o.port ?? (secure ? 465 : 587);
  return {
    host,
    port,
    secure,
    auth: o.auth?.user ? { user: o.auth.user, pass: o.auth.pass } : undefined,
    requireTLS: o.requireTLS === true,
    ignoreTLS: o.ignoreTLS === true,
    tls: o.tls,
    label: `${secure ? 'smtps' : 'smtp'}://${host}:${port}`,
  };
}

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

interface SmtpFailure {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
}

function classify(err: SmtpFailure, handedOver: boolean, target: SmtpTarget): ChannelError {
  const secrets = [target.auth?.pass, target.auth?.user];
  if (typeof err.responseCode === 'number' && err.responseCode >= 400) {
    const reply = scrub(err.response ?? String(err.responseCode), secrets);
    return new ChannelError(
      classifySmtpCode(err.responseCode),
      `smtp-${err.responseCode}`,
      `${target.label} answered: ${reply}`,
    );
  }
  const sys = err.originalCode ?? err.code;
  if (!handedOver && sys && NOT_CONNECTED.has(sys)) {
    return new ChannelError('transient', 'connect-failed', `${target.label}: could not connect (${sys})`);
  }
  const aborted = err.code === 'EABORT';
  const code = aborted ? 'aborted' : err.code === 'ETIMEDOUT' ? 'timeout' : 'connection-lost';
  const what = aborted
    ? 'the attempt was aborted'
    : code === 'timeout'
      ? 'no answer in time'
      : `the connection ended (${err.code ?? 'error'})`;
  if (handedOver) {
    return new ChannelError(
      'unknown',
      code,
      `${target.label}: ${what} after the message was sent; it may have been delivered`,
    );
  }
  return new ChannelError('transient', code, `${target.label}: ${what} before the message was sent`);
}

export function smtpSend(
  target: SmtpTarget,
  envelope: { from: string; to: string[] },
  raw: Buffer,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<string> {
  const conn = new SMTPConnection({
    host: target.host,
    port: target.port,
    secure: target.secure,
    requireTLS: target.requireTLS,
    ignoreTLS: target.ignoreTLS,
    tls: target.tls,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
  });
  let handedOver = false;
  const message = new Readable({
    read() {
      handedOver = true;
      this.push(raw);
      this.push(null);
    },
  });
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  return new Promise<string>((resolve, reject) => {
    let done = false;
    const finish = (err: SmtpFailure | null, response?: string) => {
      if (done) return;
      done = true;
      deadline.removeEventListener('abort', onAbort);
      if (err) {
        conn.close();
        reject(classify(err, handedOver, target));
      } else {
        conn.quit();
        resolve(response ?? '');
      }
    };
    const onAbort = () => finish({ code: signal.aborted ? 'EABORT' : 'ETIMEDOUT' } satisfies SmtpFailure);
    if (deadline.aborted) return finish({ code: 'EABORT' });
    deadline.addEventListener('abort', onAbort, { once: true });
    conn.on('error', (err) => finish(err as SmtpFailure));
    const send = () =>
      conn.send(envelope, message, (err, info) =>
        err ? finish(err as SmtpFailure) : finish(null, info.response),
      );
    conn.connect((err) => {
      if (err) return finish(err as SmtpFailure);
      // As nodemailer's transport does: log in only when the server offers AUTH.
      if (!target.auth || !conn.allowsAuth) return send();
      conn.login(target.auth, (loginErr) => (loginErr ? finish(loginErr as SmtpFailure) : send()));
    });
  });
}
