import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Role } from '../config.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { problemResponses } from '../models/problem.ts';
import {
  DownloadByNameQuery,
  DownloadQuery,
  JobIdParams,
  ReportAccepted,
  ReportJob,
  ReportList,
  ReportListQuery,
  ReportRequestSchema,
} from '../models/reports.ts';
import { roleAtLeast } from '../plugins/auth.ts';
import { sendBytes, sendFile } from './route-helpers.ts';

const FileBody = z.any().describe('the file (PDF, XLSX or CSV)');

/**
 * A download goes to a signed link (expires and sig, checked by `verify`) or to an API key of at
 * least the viewer role; anything else is a 401 or a 403 saying why.
 */
function allowDownload(
  principal: { role: Role } | undefined,
  expires: number | undefined,
  sig: string | undefined,
  verify: () => 'valid' | 'expired' | 'invalid',
): void {
  if (sig !== undefined || expires !== undefined) {
    const verdict = verify();
    if (verdict === 'expired') throw new ForbiddenError('This download link has expired; ask for a new one.');
    if (verdict === 'invalid') throw new ForbiddenError('This download link is not valid.');
  } else if (!principal) {
    throw new UnauthorizedError();
  } else if (!roleAtLeast(principal.role, 'viewer')) {
    throw new ForbiddenError('Downloading reports needs the viewer role.');
  }
}

export const reportRoutes: FastifyPluginAsyncZod = async (app) => {
  const errors = problemResponses(400, 401, 403, 429, 502, 503, 504);

  app.post(
    '/reports/generate',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'generateReport',
        tags: ['reports'],
        summary: 'Queue a report (PDF or XLSX; sales_lines as XLSX or CSV)',
        description:
          'Answers 202 at once. The same request over the same data returns the existing job (`created: false`); ' +
          '`force: true` makes a new one. Poll `statusUrl`, then download.',
        body: ReportRequestSchema,
        response: { 202: ReportAccepted, ...errors },
      },
    },
    async (request, reply) => reply.code(202).send(await app.services.reports.generate(request.body)),
  );

  app.post(
    '/reports/render',
    {
      config: { role: 'analyst' },
      schema: {
        operationId: 'renderReport',
        tags: ['reports'],
        summary: 'Render a report now and stream it back (small reports)',
        body: ReportRequestSchema,
        response: { 200: FileBody, ...errors },
      },
    },
    async (request, reply) => {
      return sendBytes(reply, await app.services.reports.renderNow(request.body));
    },
  );

  app.get(
    '/reports/status/:jobId',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'reportStatus',
        tags: ['reports'],
        summary: 'State, progress and file of a report job',
        params: JobIdParams,
        response: { 200: ReportJob, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.reports.status(request.params.jobId),
  );

  app.get(
    '/reports',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'listReports',
        tags: ['reports'],
        summary: 'Recent report jobs, newest first',
        querystring: ReportListQuery,
        response: { 200: ReportList, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => app.services.reports.list(request.query),
  );

  app.get(
    '/reports/:jobId/download',
    {
      // Public route: a valid signature (e-mailed links) or an API key with the viewer role.
      schema: {
        operationId: 'downloadReport',
        tags: ['reports'],
        summary: 'Download a finished report (API key, or a signed link)',
        description:
          'With `expires` and `sig` from the job status `signedUrl`, no API key is needed until it expires.',
        params: JobIdParams,
        querystring: DownloadQuery,
        security: [{ ApiKey: [] }, { Bearer: [] }, {}],
        response: { 200: FileBody, ...problemResponses(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      const { expires, sig } = request.query;
      allowDownload(request.principal, expires, sig, () =>
        app.services.reports.verifySignature(jobId, expires, sig),
      );
      return sendFile(reply, await app.services.reports.fileOfJob(jobId));
    },
  );

  app.get(
    '/reports/download',
    {
      schema: {
        operationId: 'downloadReportFile',
        tags: ['reports'],
        summary: 'Download a report file by its opaque name (API key, or a signed link)',
        description:
          "With `expires` and `sig` from a delivered message's link, no API key is needed until it expires.",
        querystring: DownloadByNameQuery,
        security: [{ ApiKey: [] }, { Bearer: [] }, {}],
        response: { 200: FileBody, ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { file, expires, sig } = request.query;
      allowDownload(request.principal, expires, sig, () =>
        app.services.reports.verifyFileSignature(file, expires, sig),
      );
      return sendFile(reply, await app.services.reports.fileByName(file));
    },
  );
};
