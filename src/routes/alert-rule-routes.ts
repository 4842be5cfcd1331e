import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlertRuleBody, AlertRuleList, RuleIdParams } from '../models/alert-book.ts';
import { AlertRule } from '../models/alerts.ts';
import { problemResponses } from '../models/problem.ts';

export const alertRuleRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/alerts/rules',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'createAlertRule',
        tags: ['alerts'],
        summary: 'Create an alert rule',
        description:
          'A metric (`revenue`, `units`, `orders`, or the stock rules `stock_out`, `below_reorder`, `low_cover`), a ' +
          'level, filters, thresholds, a severity mapping, recipients (channel, address, `slice`), `pendingPeriods`, ' +
          '`repeatInterval`, `notifyOnResolve` and `enabled`. A bad field, or an address its channel cannot take, is ' +
          'a 400 naming it; an id in use is a 409.',
        body: AlertRuleBody,
        response: { 201: AlertRule, ...problemResponses(400, 401, 403, 409, 429, 503) },
      },
    },
    async (request, reply) => reply.code(201).send(await app.services.alertRules.create(request.body)),
  );

  app.get(
    '/alerts/rules',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'listAlertRules',
        tags: ['alerts'],
        summary: 'Alert rules, oldest first (a fresh install has the default rules)',
        response: { 200: AlertRuleList, ...problemResponses(401, 403, 429, 503) },
      },
    },
    async () => {
      const items = await app.services.alertRules.list();
      return { items, total: items.length };
    },
  );

  app.get(
    '/alerts/rules/:ruleId',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'getAlertRule',
        tags: ['alerts'],
        summary: 'An alert rule',
        params: RuleIdParams,
        response: { 200: AlertRule, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.alertRules.get(request.params.ruleId),
  );

  app.put(
    '/alerts/rules/:ruleId',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'replaceAlertRule',
        tags: ['alerts'],
        summary: 'Replace an alert rule (the whole rule; its id stays)',
        params: RuleIdParams,
        body: AlertRuleBody,
        response: { 200: AlertRule, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.alertRules.replace(request.params.ruleId, request.body),
  );

  app.delete(
    '/alerts/rules/:ruleId',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'deleteAlertRule',
        tags: ['alerts'],
        summary: 'Delete an alert rule (its open alerts resolve at the next check, silently)',
        params: RuleIdParams,
        response: { 204: z.null().describe('deleted'), ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await app.services.alertRules.remove(request.params.ruleId);
      return reply.code(204).send(null);
    },
  );
};
