/**
 * Prometheus metrics: times every request by its route pattern (`/api/v1/reports/status/:jobId`,
 * never the URL, so one route is one series), and serves the text format at GET /metrics to an
 * admin key or to `METRICS_TOKEN` as a bearer token (a scraper's credential that opens nothing else).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import type { Metrics } from '../lib/metrics.ts';
import { roleAtLeast } from './auth.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function bearer(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  return typeof auth === 'string' && /^bearer\s+/i.test(auth)
    ? auth.replace(/^bearer\s+/i, '').trim()
    : undefined;
}

export function registerMetrics(app: FastifyInstance, metrics: Metrics, metricsToken: string | undefined) {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        // Unmatched URLs (404s, scanners) share one series instead of one per URL.
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  const tokenDigest = metricsToken ? digest(metricsToken) : undefined;
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      onRequest: async (request) => {
        const token = bearer(request);
        if (tokenDigest && token && timingSafeEqual(digest(token), tokenDigest)) return;
        const principal = request.principal;
        if (!principal) {
          throw new UnauthorizedError(
            'GET /metrics needs an admin key (X-API-Key) or METRICS_TOKEN as Authorization: Bearer <token>.',
          );
        }
        if (!roleAtLeast(principal.role, 'admin')) {
          throw new ForbiddenError(`GET /metrics needs the admin role; the key has ${principal.role}.`);
        }
      },
    },
    async (_request, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    },
  );
}
