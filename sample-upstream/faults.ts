/**
 * Fault injection and request accounting for the data routes, so that the service in front can
 * be tested against a slow, flaky, broken or hanging system of record.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hash32, mulberry32, type Rng } from './generator.ts';

export const MALFORMED_TARGETS = ['stores', 'products', 'stock'] as const;
export type MalformedTarget = (typeof MALFORMED_TARGETS)[number];

export interface FaultConfig {
  /** added before every data response */
  latencyMs: number;
  /** share (0..1) of data requests answered with errorStatus, drawn from a seeded sequence */
  errorRate: number;
  errorStatus: number;
  /** sent as Retry-After with injected errors when set */
  retryAfterSeconds: number | null;
  /** the next N data requests fail, then they succeed again */
  failFirst: number;
  /** this page number of /sales carries a line whose amount is a string */
  malformedPage: number | null;
  /** this list carries an item with a field of the wrong type */
  malformed: MalformedTarget | null;
  /** data requests are accepted and never answered, until reset or close */
  hang: boolean;
  /**
   * the next N bulk writes are applied (and their answer kept under their idempotency key) but
   * answered 503, as when an answer is lost on the way back: a retry must not apply them twice
   */
  failAfterApply: number;
  /** bulk items whose JSON text contains this are refused, as a system of record refuses rows */
  refuseMatching: string | null;
}

export const REFUSED_MESSAGE = 'refused by the system of record (fault injection)';

export const DEFAULT_FAULTS: Readonly<FaultConfig> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 503,
  retryAfterSeconds: null,
  failFirst: 0,
  malformedPage: null,
  malformed: null,
  hang: false,
  failAfterApply: 0,
  refuseMatching: null,
});

/** What POST /__admin/faults accepts: any subset; null puts a field back to its default. */
export const FaultPatch = z
  .object({
    latencyMs: z.number().int().min(0).max(600_000).nullable(),
    errorRate: z.number().min(0).max(1).nullable(),
    errorStatus: z.number().int().min(400).max(599).nullable(),
    retryAfterSeconds: z.number().int().min(0).max(86_400).nullable(),
    failFirst: z.number().int().min(0).max(1_000_000).nullable(),
    malformedPage: z.number().int().min(0).nullable(),
    malformed: z.enum(MALFORMED_TARGETS).nullable(),
    hang: z.boolean().nullable(),
    failAfterApply: z.number().int().min(0).max(1_000_000).nullable(),
    refuseMatching: z.string().min(1).max(1000).nullable(),
  })
  .partial()
  .strict();
export type FaultPatch = z.infer<typeof FaultPatch>;

export interface RequestStats {
  /** data requests received per route, e.g. `GET /sales`, whatever their outcome */
  requests: Record<string, number>;
  total: number;
  injected: { errors: number; hangs: number; malformed: number; unauthorized: number };
}

/** A Spring Boot-like error body. */
export function errorBody(status: number, message: string, path: string): string {
  return JSON.stringify({
    timestamp: new Date().toISOString(),
    status,
    error: STATUS_CODES[status] ?? 'Error',
    message,
    path,
  });
}

export function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(errorBody(status, message, reply.request.url.split('?')[0] ?? '/'));
}

export class Faults {
  private config: FaultConfig;
  private rng: Rng;
  private stats: RequestStats = Faults.emptyStats();
  /** requests held by `hang` or `latencyMs`, released on reset and dropped on close */
  private readonly held = new Set<{ release: () => void; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly seed: number,
    initial: Partial<FaultConfig> = {},
    private readonly token?: string,
  ) {
    this.config = { ...DEFAULT_FAULTS, ...initial };
    this.rng = this.freshRng();
  }

  private static emptyStats(): RequestStats {
    return { requests: {}, total: 0, injected: { errors: 0, hangs: 0, malformed: 0, unauthorized: 0 } };
  }

  private freshRng(): Rng {
    return mulberry32(hash32(this.seed >>> 0, 0xfa017));
  }

  get current(): Readonly<FaultConfig> {
    return this.config;
  }

  update(patch: FaultPatch): FaultConfig {
    const next = { ...this.config };
    for (const [key, value] of Object.entries(patch) as [keyof FaultConfig, unknown][]) {
      (next as Record<string, unknown>)[key] = value === null ? DEFAULT_FAULTS[key] : value;
    }
    // Restart the error sequence so that a test sees the same outcomes whatever ran before it.
    if (patch.errorRate !== undefined) this.rng = this.freshRng();
    const wasHanging = this.config.hang;
    this.config = next;
    if (wasHanging && !next.hang) this.releaseAll();
    return next;
  }

  /** Clears faults and counters; held requests are let through and answered normally. */
  reset(): void {
    this.config = { ...DEFAULT_FAULTS };
    this.rng = this.freshRng();
    this.stats = Faults.emptyStats();
    this.releaseAll();
  }

  /** On close: pending timers must not keep the process alive. */
  dispose(): void {
    for (const h of this.held) clearTimeout(h.timer);
    this.held.clear();
  }

  snapshot(): RequestStats {
    return structuredClone(this.stats);
  }

  countMalformed(): void {
    this.stats.injected.malformed++;
  }

  /** The `refuseMatching` verdict on one bulk item: the failed item's message, or undefined. */
  readonly refusal = (raw: unknown): string | undefined => {
    const needle = this.config.refuseMatching;
    if (needle === null) return undefined;
    return (JSON.stringify(raw) ?? '').includes(needle) ? REFUSED_MESSAGE : undefined;
  };

  /**
   * Called once a bulk write has its answer: under `failAfterApply`, answers 503 instead (the
   * write stays applied) and returns the reply; otherwise returns undefined.
   */
  loseAnswer(reply: FastifyReply): FastifyReply | undefined {
    if (this.config.failAfterApply <= 0) return undefined;
    this.config.failAfterApply--;
    this.stats.injected.errors++;
    if (this.config.retryAfterSeconds !== null)
      reply.header('retry-after', String(this.config.retryAfterSeconds));
    return sendError(reply, 503, 'injected fault: applied, but the answer was lost');
  }

  private releaseAll(): void {
    const held = [...this.held];
    this.held.clear();
    for (const h of held) {
      clearTimeout(h.timer);
      h.release();
    }
  }

  private hold(reply: FastifyReply, ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const res = reply.raw;
      const gone = () => {
        // A client that gave up needs no answer: its promise is simply never settled.
        clearTimeout(entry.timer);
        this.held.delete(entry);
      };
      const entry: { release: () => void; timer?: NodeJS.Timeout } = {
        release: () => {
          res.off('close', gone);
          resolve();
        },
      };
      if (ms !== undefined) {
        entry.timer = setTimeout(() => {
          this.held.delete(entry);
          entry.release();
        }, ms);
      }
      this.held.add(entry);
      res.once('close', gone);
    });
  }

  /**
   * The onRequest hook of the data routes: counts the call, then applies in order hang, latency,
   * bearer token, failFirst and errorRate. Returns the reply when it answered.
   */
  readonly onDataRequest = async (request: FastifyRequest, reply: FastifyReply, route: string) => {
    this.stats.total++;
    this.stats.requests[route] = (this.stats.requests[route] ?? 0) + 1;

    if (this.config.hang) {
      this.stats.injected.hangs++;
      await this.hold(reply);
    }
    if (this.config.latencyMs > 0) await this.hold(reply, this.config.latencyMs);

    if (this.token !== undefined && request.headers.authorization !== `Bearer ${this.token}`) {
      this.stats.injected.unauthorized++;
      reply.header('www-authenticate', 'Bearer');
      return sendError(reply, 401, 'missing or invalid bearer token');
    }

    let fail = false;
    if (this.config.failFirst > 0) {
      this.config.failFirst--;
      fail = true;
    } else if (this.config.errorRate > 0 && this.rng() < this.config.errorRate) {
      fail = true;
    }
    if (fail) {
      this.stats.injected.errors++;
      if (this.config.retryAfterSeconds !== null)
        reply.header('retry-after', String(this.config.retryAfterSeconds));
      return sendError(reply, this.config.errorStatus, 'injected fault');
    }
    return undefined;
  };
}
