import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BacktestAnswer, BacktestQuery } from '../models/alerts.ts';
import { problemResponses } from '../models/problem.ts';

export const alertRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/alerts/backtest',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'backtestAlerts',
        tags: ['alerts'],
        summary: 'Replay alert detection over past days: every alert that would have fired',
        description:
          'Runs the default rules (or the one named by `rule`) day by day from `from` to `to`, honouring each ' +
          "rule's pending periods, without notifying anyone. Each alert has its score, severity, money at stake, " +
          'the days a notification would have gone out, and the explanation of the day it fired. Stock rules only ' +
          'run when `to` is yesterday: the system of record keeps no stock history.',
        querystring: BacktestQuery,
        response: { 200: BacktestAnswer, ...problemResponses(400, 401, 403, 429, 502, 503) },
      },
    },
    async (request) => app.services.alerts.backtest(request.query),
  );
};
