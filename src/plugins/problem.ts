/**
 * The one error handler: every failure leaves as RFC 9457 problem+json with the request id.
 * 4xx answers say what to fix; 5xx answers never leak internals (they are logged instead).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, type FieldIssue } from '../errors.ts';
import { PROBLEM_TYPE_BASE, type Problem } from '../models/problem.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

const STATUS_TITLES: Record<number, [string, string]> = {
  400: ['bad-request', 'Bad request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  408: ['request-timeout', 'Request timeout'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  429: ['rate-limited', 'Too many requests'],
  500: ['internal', 'Internal server error'],
  503: ['unavailable', 'Service unavailable'],
};

function titleFor(status: number): [string, string] {
  return (
    STATUS_TITLES[status] ??
    (status >= 500 ? ['internal', 'Internal server error'] : ['bad-request', 'Bad request'])
  );
}

/** `query.groupBy`, `body.items.3.price`, from fastify's validation context and instance path. */
function fieldPath(context: string | undefined, instancePath: string): string {
  const where = context === 'querystring' ? 'query' : (context ?? 'request');
  const rest = instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  return rest ? `${where}.${rest}` : where;
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  status: number,
  code: string,
  title: string,
  detail: string | undefined,
  extensions: Record<string, unknown> = {},
): FastifyReply {
  const body: Problem = {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title,
    status,
    ...(detail ? { detail } : {}),
    instance: request.url.split('?')[0],
    requestId: request.id,
    ...extensions,
  };
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify).send(body);
}

/**
 * Errors Node's HTTP parser meets before there is a request (a head over the header size limit, a
 * request timing out, garbage): no route runs, so fastify would answer plain JSON. The same problem
 * shape as every other error, written straight to the socket, which then closes.
 */
export function clientErrorProblem(
  this: { log: { trace(obj: object, msg: string): void } },
  err: NodeJS.ErrnoException,
  socket: Socket,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'request-header-fields-too-large',
          'The request line and headers exceed the size this server accepts.',
        ]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request-timeout', 'The request did not arrive in time.']
        : [400, 'bad-request', 'The request is not valid HTTP.'];
  const title = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${code}`, title, status, detail });
  this.log.trace({ err }, `client error ${status}`);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors: FieldIssue[] = error.validation.map((v) => ({
        path: fieldPath(error.validationContext, v.instancePath),
        message: v.message ?? 'is invalid',
      }));
      const first = errors[0];
      return sendProblem(
        reply,
        request,
        400,
        'validation-failed',
        'Invalid request',
        first ? `${first.path}: ${first.message}` : 'The request is invalid.',
        { errors },
      );
    }

    if (error instanceof AppError) {
      if (error.status >= 500) request.log.warn({ err: error }, error.message);
      if (typeof error.extensions.retryAfterSeconds === 'number') {
        reply.header('retry-after', String(error.extensions.retryAfterSeconds));
      }
      return sendProblem(
        reply,
        request,
        error.status,
        error.code,
        error.title,
        error.message,
        error.extensions,
      );
    }

    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause?.issues }, 'response does not match its schema');
      const [code, title] = titleFor(500);
      return sendProblem(reply, request, 500, code, title, 'The server failed to build its answer.');
    }

    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    const [code, title] = titleFor(status);
    if (status >= 500) {
      request.log.error({ err: error }, 'unhandled error');
      return sendProblem(
        reply,
        request,
        status,
        code,
        title,
        'An unexpected error occurred; it has been logged.',
      );
    }
    // Fastify's own client errors (body too large, bad JSON, wrong media type, proto poisoning)
    // carry messages that are safe and useful to show.
    return sendProblem(reply, request, status, code, title, error.message);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      404,
      'not-found',
      'Not found',
      `No route ${request.method} ${request.url.split('?')[0]}.`,
    ),
  );
}
