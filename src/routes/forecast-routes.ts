import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ForecastAnswer, ForecastRequest } from '../models/forecast.ts';
import { problemResponses } from '../models/problem.ts';

export const forecastRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/ml/forecast',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'forecast',
        tags: ['forecast'],
        summary: 'Forecast revenue, units or orders, with intervals and a backtest against a naive forecast',
        description:
          'Models: seasonal regression (trend + day-of-week or month-of-year dummies, optionally on log(1+y)), ' +
          'linear trend, seasonal naive; `auto` picks the lowest rolling-origin backtest MASE. Intervals come from ' +
          'the empirical backtest errors at each step ahead. 422 when there is no usable history.',
        body: ForecastRequest,
        response: { 200: ForecastAnswer, ...problemResponses(400, 401, 403, 422, 429, 502, 503, 504) },
      },
    },
    async (request) => app.services.forecast.forecast(request.body),
  );
};
