import fastifyMultipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, ValidationError } from '../errors.ts';
import {
  ImportAcceptedSchema,
  ImportIdParams,
  ImportListQuerySchema,
  ImportListSchema,
  ImportOptionsSchema,
  ImportQuerySchema,
  ImportResultSchema,
  TemplateQuery,
  UploadBodyDoc,
} from '../models/imports.ts';
import { problemResponses } from '../models/problem.ts';
import { FileTooLargeError } from '../services/imports/import-errors.ts';
import { sendBytes, sendFile } from './route-helpers.ts';

const FileBody = z.any().describe('an .xlsx workbook');

export const importRoutes: FastifyPluginAsyncZod = async (app) => {
  const { maxFileBytes } = app.services.config.imports;
  // Scoped to these routes: nothing else accepts multipart bodies.
  await app.register(fastifyMultipart, {
    // One byte over the import's own limit: the service refuses the file while it arrives.
    limits: {
      fileSize: maxFileBytes + 1,
      files: 1,
      fields: 10,
      fieldSize: 1_000,
      parts: 12,
      headerPairs: 100,
    },
  });

  app.post(
    '/excel/upload',
    {
      // An inline commit pushes chunks until done; it keeps the upstream client's own budgets.
      config: { role: 'admin', multipartBody: UploadBodyDoc, deadline: false },
      schema: {
        operationId: 'uploadImport',
        tags: ['imports'],
        summary: 'Import products, stock or sales from an .xlsx or .csv file',
        description:
          'A multipart/form-data upload with one file part (`file`). Options go in the query string or in form ' +
          'fields sent before the file. `dry_run` (default) validates every row and compares it with the system of ' +
          'record; `commit` pushes the rows in chunks. Files up to IMPORT_INLINE_MAX_KB are answered at once (200); ' +
          'larger ones are queued (202) and followed at `statusUrl`. With `onError=reject_all` (default) a commit ' +
          'with any invalid row pushes nothing and answers 422 with the rows to fix.',
        querystring: ImportQuerySchema,
        response: {
          200: ImportResultSchema,
          202: ImportAcceptedSchema,
          ...problemResponses(400, 401, 403, 413, 415, 422, 429, 502, 503, 504),
        },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new AppError(
          415,
          'unsupported-media-type',
          'Unsupported media type',
          'Send the file as multipart/form-data, in a part named "file".',
        );
      }
      const fields: Record<string, string> = {};
      let outcome: Awaited<ReturnType<typeof app.services.imports.upload>> | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'field') {
            if (outcome) continue;
            fields[part.fieldname] = String(part.value);
            continue;
          }
          if (part.fieldname !== 'file') {
            part.file.resume();
            throw new ValidationError(`The file part must be named "file", not "${part.fieldname}".`, [
              { path: `form.${part.fieldname}`, message: 'unexpected file part' },
            ]);
          }
          const merged = { ...fields, ...stripUndefined(request.query) };
          const parsed = ImportOptionsSchema.safeParse(merged);
          if (!parsed.success) {
            part.file.resume();
            const errors = parsed.error.issues.map((i) => ({
              path: `${i.path[0] !== undefined && String(i.path[0]) in fields ? 'form' : 'query'}.${i.path.join('.')}`,
              message: i.message,
            }));
            throw new ValidationError(`${errors[0]?.path}: ${errors[0]?.message}`, errors);
          }
          outcome = await app.services.imports.upload({
            stream: part.file,
            fileName: part.filename || 'upload',
            options: parsed.data,
          });
        }
      } catch (err) {
        // Refused before the body was read to its end (too large, wrong type, bad option): the rest
        // must not be taken for the next request on this connection, and draining a huge upload
        // would be the very work the refusal avoids.
        if (!request.raw.complete) reply.header('connection', 'close');
        if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
          throw new FileTooLargeError(maxFileBytes);
        throw multipartProblem(err);
      }
      if (!outcome) {
        throw new ValidationError('The form has no file: send the .xlsx or .csv in a part named "file".', [
          { path: 'form.file', message: 'is required' },
        ]);
      }
      if (outcome.kind === 'queued') {
        return reply
          .code(202)
          .header('location', outcome.statusUrl)
          .send({ importId: outcome.importId, status: 'queued', statusUrl: outcome.statusUrl });
      }
      return reply.code(200).send(outcome.result);
    },
  );

  app.get(
    '/excel/imports',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'listImports',
        tags: ['imports'],
        summary: 'Past imports, newest first',
        description:
          'Filter by kind, status and the business day of the upload (`from`, `to`, inclusive). Records are kept ' +
          'IMPORT_RETENTION_DAYS, like the uploaded files.',
        querystring: ImportListQuerySchema,
        response: { 200: ImportListSchema, ...problemResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => app.services.importHistory.list(request.query),
  );

  app.get(
    '/excel/imports/:importId',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'getImport',
        tags: ['imports'],
        summary: 'The result of an import (or its progress while it runs)',
        params: ImportIdParams,
        response: { 200: ImportResultSchema, ...problemResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => app.services.imports.get(request.params.importId),
  );

  app.get(
    '/excel/imports/:importId/errors.xlsx',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'getImportErrors',
        tags: ['imports'],
        summary: 'The rows to fix, as uploaded, with an error column',
        description:
          'After a dry run or a rejected commit: every row (errors in the last column). After a commit: only ' +
          'the rows that did not reach the system of record. Fix them and upload the file again as it is.',
        params: ImportIdParams,
        response: { 200: FileBody, ...problemResponses(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (request, reply) =>
      sendFile(reply, await app.services.imports.errorsWorkbook(request.params.importId)),
  );

  app.get(
    '/excel/template',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'getImportTemplate',
        tags: ['imports'],
        summary: 'An empty workbook to fill: headers, data validation, an example row, instructions',
        querystring: TemplateQuery,
        response: { 200: FileBody, ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => sendBytes(reply, await app.services.imports.template(request.query.kind)),
  );
};

/**
 * The multipart parser's own errors are plain Errors (a 500 by default): they are the client's
 * malformed body, so they become a 400 saying what is wrong with it.
 */
function multipartProblem(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : '';
  if (code === 'FST_FILES_LIMIT')
    return new AppError(
      400,
      'bad-request',
      'Bad request',
      'Send one file per upload, in a part named "file".',
    );
  if (/boundary not found/i.test(message))
    return new AppError(
      400,
      'bad-request',
      'Bad request',
      'The multipart body has no boundary: its Content-Type must be multipart/form-data; boundary=…',
    );
  if (/unexpected end of (multipart data|form)/i.test(message))
    return new AppError(
      400,
      'bad-request',
      'Bad request',
      'The multipart body ended before its closing boundary: the upload was truncated.',
    );
  return err;
}

function stripUndefined(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
}
