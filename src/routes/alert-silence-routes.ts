import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  Silence,
  SilenceCreate,
  SilenceIdParams,
  SilenceList,
  SilenceListQuery,
} from '../models/alert-book.ts';
import { problemResponses } from '../models/problem.ts';

export const alertSilenceRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/alerts/silences',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'createSilence',
        tags: ['alerts'],
        summary: 'Silence the alerts of a rule, an entity, or both, until a time',
        description:
          'While a silence is in force, matching alerts still open, fire and resolve, but nobody is notified; a ' +
          'firing alert is notified at the first check after the silence ends.',
        body: SilenceCreate,
        response: { 201: Silence, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await app.services.alertSilences.create(
            request.body,
            `key:${request.principal?.keyId ?? 'unknown'}`,
          ),
        ),
  );

  app.get(
    '/alerts/silences',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'listSilences',
        tags: ['alerts'],
        summary: 'Silences, newest first',
        querystring: SilenceListQuery,
        response: { 200: SilenceList, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => app.services.alertSilences.list(request.query),
  );

  app.get(
    '/alerts/silences/:silenceId',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'getSilence',
        tags: ['alerts'],
        summary: 'A silence',
        params: SilenceIdParams,
        response: { 200: Silence, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.alertSilences.get(request.params.silenceId),
  );

  app.delete(
    '/alerts/silences/:silenceId',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'deleteSilence',
        tags: ['alerts'],
        summary: 'End a silence now (delete it)',
        params: SilenceIdParams,
        response: { 204: z.null().describe('deleted'), ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await app.services.alertSilences.remove(request.params.silenceId);
      return reply.code(204).send(null);
    },
  );
};
