/**
 * The client of the system of record (openapi/upstream.yaml), on an undici connection pool.
 *
 * - Timeouts far below undici's 300 s defaults: a slow upstream must not hold our requests hostage.
 * - Retries with exponential backoff (full jitter) and Retry-After, for idempotent calls only:
 *   a POST is retried only when it carries an Idempotency-Key the upstream deduplicates on.
 * - Every answer is parsed with the zod models; a malformed one is an UpstreamInvalidResponseError
 *   that names the field, never a NaN further down.
 * - Inside a request, every attempt and every pause between attempts fits in what is left of the
 *   request's deadline (lib/deadline.ts); retries share that budget. Background work has none.
 * - A circuit breaker (upstream-breaker.ts) stops paying timeouts while the upstream is down.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { Pool, errors as undiciErrors } from 'undici';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import { type FieldIssue, UpstreamInvalidResponseError, UpstreamUnavailableError } from '../errors.ts';
import { currentDeadline, type Deadline } from '../lib/deadline.ts';
import type { UpstreamCallEvent } from '../lib/metrics.ts';
import {
  UpstreamBulkResult,
  type UpstreamProductInput,
  UpstreamProducts,
  type UpstreamSaleLine,
  type UpstreamSaleLineInput,
  UpstreamSalesPage,
  UpstreamStock,
  type UpstreamStockInput,
  UpstreamStores,
} from '../models/upstream.ts';
import { type CircuitBreaker, createCircuitBreaker } from './upstream-breaker.ts';

export type UpstreamConfig = Config['upstream'];

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
/** statuses that say the upstream is in trouble (429 and 425 say it is well enough to refuse) */
const BREAKER_FAILURE_STATUS = new Set([408, 500, 502, 503, 504]);
const MAX_ISSUES_REPORTED = 10;

export interface UpstreamClientDeps {
  config: UpstreamConfig;
  logger: FastifyBaseLogger;
  /** injectable for tests; defaults to Math.random */
  random?: () => number;
  /** injectable for tests; defaults to one built from the config */
  breaker?: CircuitBreaker;
  /** told of every HTTP attempt (metrics); must not throw */
  observe?: (event: UpstreamCallEvent) => void;
}

export interface UpstreamBulkOptions {
  /** the same key for the same chunk: the upstream then applies it once however often it is sent */
  idempotencyKey?: string;
}

interface CallOptions<S extends z.ZodType> {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number>;
  body?: unknown;
  schema: S;
  /** retried on transient failures only when true */
  idempotent: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** override the retry budget (e.g. 0 for readiness probes) */
  retries?: number;
  headersTimeoutMs?: number;
  /**
   * A fast path for hot, large answers: returns the parsed value when the input is plainly valid,
   * or undefined to let the zod schema decide (and name what is wrong).
   */
  fastParse?: (json: unknown) => z.output<S> | undefined;
}

/** Turns zod issues into `content[17].amount: expected number, received string` lines. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  return issues.slice(0, MAX_ISSUES_REPORTED).map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function isTimeout(err: unknown): boolean {
  return (
    err instanceof undiciErrors.ConnectTimeoutError ||
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError
  );
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

// Strictly inside what UpstreamSaleLine accepts: a line that does not match goes to zod instead.
const SOLD_AT =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

function fastId(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 && v.length <= 200 ? v : undefined;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : undefined;
  return undefined;
}

const isFiniteNumber = Number.isFinite as (v: unknown) => v is number;

/**
 * Validates a sales page about ten times faster than zod (which parsed ~350k lines/s here, too
 * slow for the sync target), accepting only a subset of what the schema accepts; anything else
 * returns undefined and the zod schema gives the verdict and the error message. Unlike zod it keeps
 * unknown keys on the lines (nothing reads them).
 */
export function fastParseSalesPage(json: unknown): UpstreamSalesPage | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const page = json as Record<string, unknown>;
  const { content, number, size, totalElements, totalPages, last } = page;
  if (!Array.isArray(content) || typeof last !== 'boolean') return undefined;
  for (const n of [number, totalElements, totalPages])
    if (!Number.isSafeInteger(n) || (n as number) < 0) return undefined;
  if (!Number.isSafeInteger(size) || (size as number) < 1) return undefined;
  for (let i = 0; i < content.length; i++) {
    const l = content[i] as Record<string, unknown> | null;
    if (typeof l !== 'object' || l === null) return undefined;
    const id = fastId(l.id);
    const orderId = fastId(l.orderId);
    const storeId = fastId(l.storeId);
    const productId = fastId(l.productId);
    const { soldAt, quantity, unitPrice, amount, unitCost } = l;
    if (id === undefined || orderId === undefined || storeId === undefined || productId === undefined)
      return undefined;
    // The pattern pins every field's range, so only the day of the month can still be impossible.
    if (typeof soldAt !== 'string' || !SOLD_AT.test(soldAt)) return undefined;
    if (soldAt.charCodeAt(8) > 50 || (soldAt[8] === '2' && soldAt[9] === '9')) {
      const y = Number(soldAt.slice(0, 4));
      const m = Number(soldAt.slice(5, 7));
      if (Number(soldAt.slice(8, 10)) > new Date(Date.UTC(y, m, 0)).getUTCDate()) return undefined;
    }
    if (!isFiniteNumber(quantity) || !isFiniteNumber(unitPrice) || !isFiniteNumber(amount)) return undefined;
    if (unitCost !== undefined && unitCost !== null && !isFiniteNumber(unitCost)) return undefined;
    // Valid: make the ids strings in place rather than copy ten million objects (GC was 17 % of a sync).
    l.id = id;
    l.orderId = orderId;
    l.storeId = storeId;
    l.productId = productId;
  }
  const lines = content as UpstreamSaleLine[];
  return {
    content: lines,
    number: number as number,
    size: size as number,
    totalElements: totalElements as number,
    totalPages: totalPages as number,
    last,
  };
}

function deadlineError(what: string, deadline: Deadline, tries: number, lastError: string) {
  const after =
    tries > 0
      ? ` after ${tries} attempt${tries > 1 ? 's' : ''}${lastError ? ` (last: ${lastError})` : ''}`
      : '';
  return new UpstreamUnavailableError(
    `${what}: no answer within the request deadline of ${deadline.budgetMs} ms${after}`,
    { timeout: true },
  );
}

export function createUpstreamClient({
  config,
  logger,
  random = Math.random,
  breaker: givenBreaker,
  observe,
}: UpstreamClientDeps) {
  const breaker =
    givenBreaker ??
    createCircuitBreaker({
      threshold: config.breakerThreshold,
      openMs: config.breakerOpenMs,
      onStateChange: (state, reason) =>
        (state === 'closed' ? logger.info : logger.warn).call(
          logger,
          { breaker: state, reason },
          `upstream circuit ${state}`,
        ),
    });
  const base = new URL(config.url);
  const basePath = base.pathname.replace(/\/+$/, '');
  const pool = new Pool(base.origin, {
    connections: config.connections,
    connect: { timeout: config.connectTimeoutMs },
    headersTimeout: config.headersTimeoutMs,
    bodyTimeout: config.bodyTimeoutMs,
    keepAliveTimeout: 10_000,
  });
  const authHeaders: Record<string, string> = config.token ? { authorization: `Bearer ${config.token}` } : {};

  function backoffMs(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, config.retryMaxMs);
    const ceiling = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** attempt);
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  async function call<S extends z.ZodType>(opts: CallOptions<S>): Promise<z.output<S>> {
    const qs = opts.query
      ? `?${new URLSearchParams(Object.entries(opts.query).map(([k, v]): [string, string] => [k, String(v)])).toString()}`
      : '';
    const path = `${basePath}${opts.path}${qs}`;
    const what = `${opts.method} ${opts.path}${qs}`;
    const maxRetries = opts.idempotent ? (opts.retries ?? config.retries) : 0;
    const deadline = currentDeadline();
    const signal = deadline
      ? opts.signal
        ? AbortSignal.any([opts.signal, deadline.signal])
        : deadline.signal
      : opts.signal;
    let lastError = '';
    let timedOut = false;
    const endpoint = `${opts.method} ${opts.path}`;

    for (let attempt = 0; ; attempt++) {
      if (deadline?.expired) throw deadlineError(what, deadline, attempt, lastError);
      const ticket = breaker.admit(what);
      const started = performance.now();
      const attempted = (outcome: UpstreamCallEvent['outcome']) =>
        observe?.({ endpoint, outcome, seconds: (performance.now() - started) / 1000 });
      let retryAfterMs: number | undefined;
      try {
        const res = await pool.request({
          method: opts.method,
          path,
          headers: {
            accept: 'application/json',
            ...authHeaders,
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...opts.headers,
          },
          body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
          signal,
          // Within a request, the deadline's signal ends the attempt when the budget is spent.
          headersTimeout: opts.headersTimeoutMs ?? config.headersTimeoutMs,
        });
        if (BREAKER_FAILURE_STATUS.has(res.statusCode)) ticket.failure(`HTTP ${res.statusCode}`);
        else ticket.success();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          const text = await res.body.text();
          logger.debug(
            { upstream: what, status: res.statusCode, ms: Math.round(performance.now() - started) },
            'upstream call',
          );
          try {
            const parsed = parseAnswer(what, text, opts.schema, opts.fastParse);
            attempted('ok');
            return parsed;
          } catch (err) {
            attempted('invalid');
            throw err;
          }
        }
        await res.body.dump().catch(() => {});
        attempted(res.statusCode < 500 ? 'http_4xx' : 'http_5xx');
        lastError = `answered HTTP ${res.statusCode}`;
        if (res.statusCode === 401 || res.statusCode === 403) {
          throw new UpstreamUnavailableError(
            `${what} answered HTTP ${res.statusCode}: the system of record refused our credentials (check UPSTREAM_TOKEN)`,
          );
        }
        if (!RETRYABLE_STATUS.has(res.statusCode)) {
          throw new UpstreamUnavailableError(`${what} answered HTTP ${res.statusCode}`);
        }
        retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        timedOut = false;
      } catch (err) {
        if (err instanceof UpstreamInvalidResponseError || err instanceof UpstreamUnavailableError) throw err;
        attempted(
          opts.signal?.aborted || deadline?.signal.aborted
            ? 'aborted'
            : isTimeout(err)
              ? 'timeout'
              : 'network',
        );
        if (deadline && (deadline.signal.aborted || deadline.expired)) {
          ticket.failure('no answer within the request deadline');
          throw deadlineError(what, deadline, attempt + 1, lastError);
        }
        if (opts.signal?.aborted) {
          ticket.release();
          throw err;
        }
        lastError = errorMessage(err);
        timedOut = isTimeout(err);
        ticket.failure(lastError);
      }

      if (attempt >= maxRetries) {
        const tries = attempt + 1;
        throw new UpstreamUnavailableError(
          `${what} failed after ${tries} attempt${tries > 1 ? 's' : ''}: ${lastError}`,
          { timeout: timedOut },
        );
      }
      const wait = backoffMs(attempt, retryAfterMs);
      // A retry that could not start before the deadline is not worth the wait.
      if (deadline && wait >= deadline.remainingMs())
        throw deadlineError(what, deadline, attempt + 1, lastError);
      logger.warn(
        { upstream: what, attempt: attempt + 1, waitMs: wait, reason: lastError },
        'upstream retry',
      );
      await sleep(wait, undefined, { signal });
    }
  }

  function parseAnswer<S extends z.ZodType>(
    what: string,
    text: string,
    schema: S,
    fastParse?: (json: unknown) => z.output<S> | undefined,
  ): z.output<S> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UpstreamInvalidResponseError(`${what} answered with a body that is not JSON`, [
        { path: '(root)', message: `not JSON: ${JSON.stringify(text.slice(0, 80))}` },
      ]);
    }
    const fast = fastParse?.(json);
    if (fast !== undefined) return fast;
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = describeIssues(parsed.error.issues);
      const first = issues[0];
      throw new UpstreamInvalidResponseError(
        `${what} answered with data that does not match the upstream contract` +
          (first ? `: ${first.path}: ${first.message}` : ''),
        issues,
      );
    }
    return parsed.data;
  }

  /**
   * A bulk write. Retried on transient failures only with an idempotency key, which the upstream
   * uses to answer a repeated chunk without applying it twice; without one, a lost answer would
   * turn a retry into a second write.
   */
  function postBulk(path: string, items: readonly unknown[], { idempotencyKey }: UpstreamBulkOptions) {
    // An empty key would be retried without the header that makes retrying safe.
    const key = idempotencyKey || undefined;
    return call({
      method: 'POST',
      path,
      body: items,
      schema: UpstreamBulkResult,
      idempotent: key !== undefined,
      headers: key !== undefined ? { 'idempotency-key': key } : {},
    });
  }

  async function getSalesPage(from: string, to: string, page: number, signal?: AbortSignal) {
    const answer = await call({
      method: 'GET',
      path: '/sales',
      query: { from, to, page, size: config.pageSize },
      schema: UpstreamSalesPage,
      fastParse: fastParseSalesPage,
      idempotent: true,
      signal,
    });
    if (answer.number !== page) {
      throw new UpstreamInvalidResponseError(`GET /sales page ${page} answered page ${answer.number}`, [
        { path: 'number', message: `expected ${page}, got ${answer.number}` },
      ]);
    }
    return answer;
  }

  /**
   * Yields the pages of a window in order. The first page says how many there are; the rest are
   * fetched with at most `pageConcurrency` requests in flight, a few pages ahead of the consumer, so
   * a consumer that streams (an XLSX of raw lines) never holds the whole window in memory.
   */
  async function* salesPages(from: string, to: string, signal?: AbortSignal) {
    const first = await getSalesPage(from, to, 0, signal);
    yield first;
    const total = first.totalPages;
    const inFlight = new Map<number, Promise<z.output<typeof UpstreamSalesPage>>>();
    let next = 1;
    const fill = () => {
      while (next < total && inFlight.size < config.pageConcurrency) {
        const p = getSalesPage(from, to, next, signal);
        // The consumer awaits it in order; avoid an unhandled rejection if it stops early.
        p.catch(() => {});
        inFlight.set(next, p);
        next++;
      }
    };
    try {
      for (let page = 1; page < total; page++) {
        fill();
        const current = inFlight.get(page);
        if (!current) break;
        const answer = await current;
        inFlight.delete(page);
        yield answer;
      }
    } finally {
      inFlight.clear();
    }
  }

  return {
    baseUrl: config.url,

    getStores: (signal?: AbortSignal) =>
      call({ method: 'GET', path: '/stores', schema: UpstreamStores, idempotent: true, signal }),

    getProducts: (signal?: AbortSignal) =>
      call({ method: 'GET', path: '/products', schema: UpstreamProducts, idempotent: true, signal }),

    getStock: (signal?: AbortSignal) =>
      call({ method: 'GET', path: '/stock', schema: UpstreamStock, idempotent: true, signal }),

    salesPages,

    /** Every sale line of a window [from, to] (inclusive business days), all pages. */
    async getSales(from: string, to: string, signal?: AbortSignal): Promise<UpstreamSaleLine[]> {
      const lines: UpstreamSaleLine[] = [];
      for await (const page of salesPages(from, to, signal)) {
        for (const line of page.content) lines.push(line);
      }
      return lines;
    },

    /** Upserts products by SKU. */
    bulkUpsertProducts: (items: readonly UpstreamProductInput[], options: UpstreamBulkOptions = {}) =>
      postBulk('/products/bulk', items, options),

    /** Upserts stock items by (storeId, productId). */
    bulkUpsertStock: (items: readonly UpstreamStockInput[], options: UpstreamBulkOptions = {}) =>
      postBulk('/stock/bulk', items, options),

    /** Inserts sale lines; a line whose id the upstream already holds comes back as failed (duplicate). */
    bulkInsertSales: (items: readonly UpstreamSaleLineInput[], options: UpstreamBulkOptions = {}) =>
      postBulk('/sales/bulk', items, options),

    /** One quick call, no retries: is the system of record reachable and does it accept our token? */
    async ping(): Promise<void> {
      await call({
        method: 'GET',
        path: '/stores',
        schema: UpstreamStores,
        idempotent: true,
        retries: 0,
        headersTimeoutMs: Math.min(2_000, config.headersTimeoutMs),
      });
    },

    /** Lets calls in flight finish for a moment (shutdown has already answered their requests), then cuts them. */
    async close(): Promise<void> {
      const closed = pool.close();
      const timer = setTimeout(() => void pool.destroy().catch(() => {}), 250);
      try {
        await closed.catch(() => {});
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export type UpstreamClient = ReturnType<typeof createUpstreamClient>;
