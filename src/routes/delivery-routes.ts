import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  DeliveryIdParams,
  DeliveryListQuery,
  DeliveryListSchema,
  DeliverySchema,
  DryRunSchema,
  ResendAcceptedSchema,
  RunAcceptedSchema,
  RunIdParams,
  RunListQuery,
  RunListSchema,
  RunRequestSchema,
  RunSchema,
} from '../models/deliveries.ts';
import { problemResponses } from '../models/problem.ts';
import { ScheduleIdParams } from '../models/schedules.ts';

export const deliveryRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/schedules/:id/run',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'runSchedule',
        tags: ['schedules'],
        summary: 'Run a schedule now, or plan it (dryRun)',
        description:
          'Sends the period (default: the one a fire now would cover) to every recipient who does not have it yet: ' +
          'the ledger never sends a recipient the same period twice. A dry run sends nothing and lists who would get ' +
          "which file, with each recipient's slice.",
        params: ScheduleIdParams,
        body: RunRequestSchema,
        response: {
          200: DryRunSchema,
          202: RunAcceptedSchema,
          ...problemResponses(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { period, dryRun } = request.body;
      if (dryRun) return app.services.deliveries.plan(id, period);
      return reply.code(202).send(await app.services.deliveries.start(id, period));
    },
  );

  app.get(
    '/schedules/:id/runs',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'listScheduleRuns',
        tags: ['schedules'],
        summary: "A schedule's execution log, newest first, with each recipient's outcome",
        params: ScheduleIdParams,
        querystring: RunListQuery,
        response: { 200: RunListSchema, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.deliveries.runs(request.params.id, request.query),
  );

  app.get(
    '/schedules/:id/runs/:runId',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'getScheduleRun',
        tags: ['schedules'],
        summary: 'One run of a schedule',
        params: RunIdParams,
        response: { 200: RunSchema, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.deliveries.runOf(request.params.id, request.params.runId),
  );

  app.get(
    '/deliveries',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'listDeliveries',
        tags: ['deliveries'],
        summary:
          'The delivery ledger, newest first: one row per (schedule or alert, period, recipient, channel)',
        querystring: DeliveryListQuery,
        response: { 200: DeliveryListSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => app.services.deliveries.deliveries(request.query),
  );

  app.get(
    '/deliveries/:deliveryId',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'getDelivery',
        tags: ['deliveries'],
        summary: 'One delivery',
        params: DeliveryIdParams,
        response: { 200: DeliverySchema, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.deliveries.delivery(request.params.deliveryId),
  );

  app.post(
    '/deliveries/:deliveryId/resend',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'resendDelivery',
        tags: ['deliveries'],
        summary: 'Send a delivery again, on purpose',
        description:
          'An `unknown` delivery may have reached its recipient (a timeout after the provider had it): it is ' +
          'never resent by itself. This sends it once more, under its ledger key; a `sent` one (the recipient ' +
          'lost it) goes as a new copy with a Message-ID of its own. While it is in progress: 409.',
        params: DeliveryIdParams,
        response: { 202: ResendAcceptedSchema, ...problemResponses(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await app.services.deliveries.resend(request.params.deliveryId)),
  );
};
