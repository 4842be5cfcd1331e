import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../models/problem.ts';
import {
  ScheduleCreateSchema,
  ScheduleIdParams,
  ScheduleListQuery,
  ScheduleListSchema,
  SchedulePatchSchema,
  ScheduleSchema,
} from '../models/schedules.ts';

export const scheduleRoutes: FastifyPluginAsyncZod = async (app) => {
  const errors = problemResponses(400, 401, 403, 429, 502, 503);

  app.post(
    '/schedules',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'createSchedule',
        tags: ['schedules'],
        summary: 'Create a schedule: a report, when (cron in a time zone), and to whom',
        description:
          'Each recipient may have a `slice` (`storeId` or `region`): that recipient gets the report of their own ' +
          'slice, rendered once per slice. A bad cron, time zone, address or unknown store is a 400 naming the field.',
        body: ScheduleCreateSchema,
        response: { 201: ScheduleSchema, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(await app.services.schedules.create(request.body)),
  );

  app.get(
    '/schedules',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'listSchedules',
        tags: ['schedules'],
        summary: 'Schedules, oldest first',
        querystring: ScheduleListQuery,
        response: { 200: ScheduleListSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => app.services.schedules.list(request.query),
  );

  app.get(
    '/schedules/:id',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'getSchedule',
        tags: ['schedules'],
        summary: 'A schedule, with its next fire time',
        params: ScheduleIdParams,
        response: { 200: ScheduleSchema, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.schedules.get(request.params.id),
  );

  app.patch(
    '/schedules/:id',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'updateSchedule',
        tags: ['schedules'],
        summary: 'Change a schedule (the fields given replace the stored ones)',
        params: ScheduleIdParams,
        body: SchedulePatchSchema,
        response: { 200: ScheduleSchema, ...problemResponses(400, 401, 403, 404, 429, 502, 503) },
      },
    },
    async (request) => app.services.schedules.update(request.params.id, request.body),
  );

  app.delete(
    '/schedules/:id',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'deleteSchedule',
        tags: ['schedules'],
        summary: 'Delete a schedule (its delivery history stays in the ledger)',
        params: ScheduleIdParams,
        response: { 204: z.null().describe('deleted'), ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await app.services.schedules.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );
};
