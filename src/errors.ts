/**
 * Typed errors. Services throw these; the one error handler (plugins/problem.ts) turns them into
 * RFC 9457 problem+json answers. Nothing else decides status codes.
 */
export interface FieldIssue {
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    /** the problem type slug, stable: clients may switch on it */
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(
    detail: string,
    readonly errors: FieldIssue[],
  ) {
    super(400, 'validation-failed', 'Invalid request', detail, { errors });
  }
}

export class NotFoundError extends AppError {
  constructor(detail: string) {
    super(404, 'not-found', 'Not found', detail);
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = 'A valid API key is required: send it as X-API-Key or Authorization: Bearer <key>.') {
    super(401, 'unauthorized', 'Unauthorized', detail);
  }
}

export class ForbiddenError extends AppError {
  constructor(detail: string) {
    super(403, 'forbidden', 'Forbidden', detail);
  }
}

export class RateLimitedError extends AppError {
  constructor(detail: string, retryAfterSeconds: number) {
    super(429, 'rate-limited', 'Too many requests', detail, { retryAfterSeconds });
  }
}

/** The system of record could not be reached, timed out, or kept answering with errors. */
export class UpstreamUnavailableError extends AppError {
  constructor(detail: string, options?: { cause?: unknown; timeout?: boolean }) {
    super(
      options?.timeout ? 504 : 502,
      options?.timeout ? 'upstream-timeout' : 'upstream-unavailable',
      options?.timeout ? 'The system of record timed out' : 'The system of record is unavailable',
      detail,
      {},
      options,
    );
  }
}

/** The circuit breaker is open: the call was not even attempted. */
export class UpstreamCircuitOpenError extends AppError {
  constructor(detail: string, retryAfterSeconds: number) {
    super(503, 'upstream-circuit-open', 'The system of record is unavailable', detail, { retryAfterSeconds });
  }
}

/** The system of record answered, but with something that does not match its contract. */
export class UpstreamInvalidResponseError extends AppError {
  constructor(
    detail: string,
    readonly issues: FieldIssue[],
  ) {
    super(502, 'upstream-invalid-response', 'The system of record sent an invalid answer', detail, {
      upstreamErrors: issues,
    });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(503, code, 'Service unavailable', detail, extensions);
  }
}
