/**
 * GET /metrics on a port of its own, for processes without the API's HTTP server (src/worker.ts):
 * in shared mode the workers run the jobs, so their durations and failures are counted there.
 * With a token, only `Authorization: Bearer <token>` is answered; without one, keep the port on
 * a private network.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './lib/metrics.ts';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export async function serveMetrics(options: {
  metrics: Metrics;
  host: string;
  port: number;
  token: string | undefined;
}): Promise<MetricsServer> {
  const expected = options.token ? digest(options.token) : undefined;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    const auth = req.headers.authorization ?? '';
    const given = /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : '';
    if (expected && !timingSafeEqual(digest(given), expected)) {
      res
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
        .end('GET /metrics needs METRICS_TOKEN as Authorization: Bearer <token>\n');
      return;
    }
    options.metrics.scrape().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
