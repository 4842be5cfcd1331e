import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { SalesAnswer, SalesQuery, StockAnswer, StockQuery } from '../models/analytics.ts';
import { problemResponses } from '../models/problem.ts';
import { answerMeta, sendAnswer } from './route-helpers.ts';

const errors = problemResponses(400, 401, 403, 429, 502, 503, 504);

export const analyticsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/analytics/sales',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'salesAnalytics',
        tags: ['analytics'],
        summary: 'Sales KPIs, breakdowns by up to two dimensions, comparison and daily trend',
        description:
          'Computed from day partitions of the system of record (synced on demand). Money is rounded to cents ' +
          'in the answer only. `meta.complete` is false while a day of the window is open or could not be re-read; ' +
          '`meta.stale` (with `X-Cache: STALE` and `Warning: 110`) when older data was served because the system ' +
          'of record failed or did not answer within the request deadline.',
        querystring: SalesQuery,
        response: { 200: SalesAnswer, ...errors },
      },
    },
    async (request, reply) => sendAnswer(reply, await app.services.salesAnalytics.salesJson(request.query)),
  );

  app.get(
    '/analytics/stock',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'stockAnalytics',
        tags: ['analytics'],
        summary: 'Stock KPIs, statuses, days of cover and value by category',
        description:
          'status: out (quantity ≤ 0), low (≤ reorder level), ok. avgDailyUnits = units sold over the 28 days ' +
          'ending yesterday / 28; daysOfCover = quantity / avgDailyUnits (null without sales).',
        querystring: StockQuery,
        response: { 200: StockAnswer, ...errors },
      },
    },
    async (request, reply) => answerMeta(reply, await app.services.stockAnalytics.stock(request.query)),
  );
};
