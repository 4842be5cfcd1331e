import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { SyncBody, SyncReportSchema, SyncStatus } from '../models/analytics.ts';
import { problemResponses } from '../models/problem.ts';
import { resolveWindow } from '../services/analytics/sales-analytics-service.ts';

export const syncRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/sync',
    {
      // A sync is long work asked for on purpose: it keeps the upstream client's own budgets.
      config: { role: 'admin', deadline: false },
      schema: {
        operationId: 'sync',
        tags: ['sync'],
        summary: 'Sync a window of business days from the system of record now',
        description: 'Days already held and current are reused unless `force` is true. Answers when done.',
        body: SyncBody,
        response: { 200: SyncReportSchema, ...problemResponses(400, 401, 403, 429, 502, 503) },
      },
    },
    async (request) => {
      const partitions = app.services.partitions;
      const { from, to } = resolveWindow(request.body, partitions.today());
      return partitions.sync(from, to, { force: request.body.force });
    },
  );

  app.get(
    '/sync/status',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'syncStatus',
        tags: ['sync'],
        summary: 'Watermark, partitions held, last sync and last error',
        response: { 200: SyncStatus, ...problemResponses(401, 403, 429) },
      },
    },
    async () => app.services.partitions.status(),
  );
};
