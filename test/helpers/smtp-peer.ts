/**
 * A real SMTP server (smtp-server) on 127.0.0.1 whose answers are scripted per recipient, with every
 * accepted message parsed by mailparser. Closed when the test ends.
 *
 *   const smtp = await startSmtpPeer(t, { auth: { user: 'mailer', pass: 's3cret' } });
 *   smtp.rcpt('anna@example.com', 451, 'accept');   // first RCPT deferred, the next accepted
 *   smtp.data('bob@example.com', 'hang');           // message read, never answered
 */
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type RcptAnswer = 'accept' | number;
export type DataAnswer = 'accept' | 'hang' | number;

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  parsed: ParsedMail;
}

const TEXT: Record<number, string> = {
  421: 'Service not available, closing transmission channel',
  451: 'Requested action aborted: try again later',
  452: 'Insufficient system storage',
  550: 'Mailbox unavailable',
  552: 'Message size exceeds fixed maximum message size',
  554: 'Transaction failed',
};

function smtpError(code: number): Error {
  return Object.assign(new Error(TEXT[code] ?? 'Rejected'), { responseCode: code });
}

export async function startSmtpPeer(
  t: TestContext,
  opts: {
    auth?: { user: string; pass: string } /** wait this long before answering each message */;
    delayMs?: number;
  } = {},
) {
  const received: ReceivedMail[] = [];
  const rcptScript = new Map<string, RcptAnswer[]>();
  const dataScript = new Map<string, DataAnswer[]>();
  const attempts = { rcpt: 0, data: 0 };
  const server = new SMTPServer({
    logger: false,
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    closeTimeout: 200,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
        return cb(null, { user: auth.username });
      }
      return cb(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      attempts.rcpt++;
      const answer = rcptScript.get(address.address.toLowerCase())?.shift() ?? 'accept';
      cb(answer === 'accept' ? null : smtpError(answer));
    },
    onData(stream, session, cb) {
      attempts.data++;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const to = session.envelope.rcptTo.map((a) => a.address.toLowerCase());
        const answer = dataScript.get(to[0] ?? '')?.shift() ?? 'accept';
        if (answer === 'hang') return; // read the whole message, never answer
        if (answer !== 'accept') return cb(smtpError(answer));
        const raw = Buffer.concat(chunks);
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        received.push({ envelope: { from, to }, raw, parsed: await simpleParser(raw) });
        cb(null);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const creds = opts.auth
    ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.pass)}@`
    : '';
  return {
    port,
    url: `smtp://${creds}127.0.0.1:${port}`,
    received,
    attempts,
    /** scripts the answers to the next RCPT TO commands for this address */
    rcpt(address: string, ...answers: RcptAnswer[]) {
      rcptScript.set(address.toLowerCase(), answers);
    },
    /** scripts the answers to the next messages (end of DATA) for this address */
    data(address: string, ...answers: DataAnswer[]) {
      dataScript.set(address.toLowerCase(), answers);
    },
    to(address: string) {
      return received.filter((m) => m.envelope.to.includes(address.toLowerCase()));
    },
  };
}
