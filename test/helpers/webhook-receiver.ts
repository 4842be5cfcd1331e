/**
 * A webhook receiver on 127.0.0.1 that verifies `X-Salesflow-Signature` the way a customer would,
 * with its own HMAC code (not the service's), refuses bad signatures with 401 and keeps what it
 * accepted. Scripts: `answer({status: 503, headers: {'retry-after': '5'}})` for the next request,
 * `answer('reset')` to read the body and destroy the socket without an answer.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  raw: string;
  timestamp: number;
}

type Scripted = { status: number; headers?: Record<string, string> } | 'reset';

export async function startWebhookReceiver(t: TestContext, secret: string) {
  const accepted: Received[] = [];
  const refused: string[] = [];
  const script: Scripted[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const next = script.shift();
    if (next === 'reset') return req.socket.destroy();
    const header = String(req.headers['x-salesflow-signature'] ?? '');
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    const expected = m ? createHmac('sha256', secret).update(`${m[1]}.${raw}`).digest('hex') : '';
    if (!m || m[2] !== expected) {
      refused.push(header);
      res.writeHead(401).end();
      return;
    }
    if (next) {
      res.writeHead(next.status, next.headers).end();
      return;
    }
    accepted.push({ headers: req.headers, body: JSON.parse(raw), raw, timestamp: Number(m[1]) });
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"received":true}');
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
    url: `http://127.0.0.1:${port}/hooks/salesflow?token=receiver-query-secret`,
    accepted,
    refused,
    answer(...s: Scripted[]) {
      script.push(...s);
    },
  };
}
