import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AckBody,
  AlertDetail,
  AlertIdParams,
  AlertList,
  AlertListQuery,
  AlertRecord,
  CheckAnswer,
  CheckBody,
  SnoozeBody,
} from '../models/alert-book.ts';
import { BacktestAnswer, BacktestQuery } from '../models/alerts.ts';
import { problemResponses } from '../models/problem.ts';
import { alertRuleRoutes } from './alert-rule-routes.ts';
import { alertSilenceRoutes } from './alert-silence-routes.ts';

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
          'Runs the enabled rules (or the one named by `rule`, enabled or not: this is how a rule is tuned) day by ' +
          "day from `from` to `to`, honouring each rule's pending periods, without notifying anyone. Each alert has " +
          'its score, severity, money at stake, the days a notification would have gone out, and the explanation of ' +
          'the day it fired. Stock rules only run when `to` is yesterday: the system of record keeps no stock history.',
        querystring: BacktestQuery,
        response: { 200: BacktestAnswer, ...problemResponses(400, 401, 403, 429, 502, 503) },
      },
    },
    async (request) => app.services.alertChecks.backtest(request.query),
  );

  app.post(
    '/alerts/check',
    {
      // The scheduler's endpoint: detection may read weeks of days, and recipients are sent to.
      config: { role: 'analyst', deadline: false },
      schema: {
        operationId: 'checkAlerts',
        tags: ['alerts'],
        summary: 'Check a day: detect, move alerts through their lifecycle, notify each recipient once',
        description:
          'Detects `date` (default yesterday in BUSINESS_TZ) with the enabled rules; alerts open as `pending`, fire ' +
          "after the rule's `pendingPeriods` days in a row and resolve on the first normal day. Each recipient gets " +
          'one message with every alert that started firing, still fires past its `repeatInterval`, or resolved ' +
          '(when the rule has `notifyOnResolve`), most severe first. Checking the same day again sends nothing. ' +
          'Answers the alerts the check changed and the deliveries it made.',
        body: CheckBody,
        response: { 200: CheckAnswer, ...problemResponses(400, 401, 403, 429, 502, 503, 504) },
      },
    },
    async (request) => app.services.alertChecks.check(request.body ?? {}),
  );

  app.get(
    '/alerts',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'listAlerts',
        tags: ['alerts'],
        summary: 'Alerts, the latest anomalies first',
        querystring: AlertListQuery,
        response: { 200: AlertList, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => app.services.alertInbox.list(request.query),
  );

  await app.register(alertRuleRoutes);
  await app.register(alertSilenceRoutes);

  app.get(
    '/alerts/:alertId',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'getAlert',
        tags: ['alerts'],
        summary: 'An alert, with the daily series of its metric around it',
        params: AlertIdParams,
        response: { 200: AlertDetail, ...problemResponses(400, 401, 403, 404, 429, 502, 503, 504) },
      },
    },
    async (request) => app.services.alertInbox.get(request.params.alertId),
  );

  app.post(
    '/alerts/:alertId/ack',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'acknowledgeAlert',
        tags: ['alerts'],
        summary: 'Acknowledge an alert: no more repeats of it in this episode (its resolution is still sent)',
        params: AlertIdParams,
        body: AckBody,
        response: { 200: AlertRecord, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) =>
      app.services.alertInbox.acknowledge(
        request.params.alertId,
        request.body?.by ?? `key:${request.principal?.keyId ?? 'unknown'}`,
      ),
  );

  app.post(
    '/alerts/:alertId/snooze',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'snoozeAlert',
        tags: ['alerts'],
        summary: 'Snooze an alert: no notification about it until then (`until: null` ends the snooze)',
        params: AlertIdParams,
        body: SnoozeBody,
        response: { 200: AlertRecord, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.alertInbox.snooze(request.params.alertId, request.body),
  );
};
