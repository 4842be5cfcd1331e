import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ServiceUnavailableError } from '../errors.ts';
import { Problem } from '../models/problem.ts';

const Check = z.object({ ok: z.boolean(), latencyMs: z.number(), reason: z.string().optional() });

const Readiness = z
  .object({
    status: z.literal('ready'),
    mode: z.enum(['embedded', 'shared']),
    checks: z.record(z.string(), Check),
  })
  .meta({ id: 'Readiness' });

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    {
      config: { rateLimit: false },
      schema: {
        operationId: 'health',
        tags: ['operations'],
        summary: 'Liveness: the process is up and its event loop answers',
        response: { 200: z.object({ status: z.literal('ok'), uptimeSeconds: z.number() }) },
      },
    },
    async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }),
  );

  app.get(
    '/ready',
    {
      config: { rateLimit: false },
      schema: {
        operationId: 'ready',
        tags: ['operations'],
        summary: 'Readiness: the system of record (and Redis in shared mode) answer',
        description:
          'Answers 503 with the failing check and its reason when this instance should not get traffic.',
        response: { 200: Readiness, 503: Problem },
      },
    },
    async () => {
      const result = await app.services.health.readiness();
      if (!result.ready) {
        const failing = Object.entries(result.checks)
          .filter(([, c]) => !c.ok)
          .map(([name, c]) => `${name}: ${c.reason ?? 'failed'}`);
        throw new ServiceUnavailableError('not-ready', `Not ready: ${failing.join('; ')}`, {
          mode: result.mode,
          checks: result.checks,
        });
      }
      return { status: 'ready' as const, mode: result.mode, checks: result.checks };
    },
  );
};
