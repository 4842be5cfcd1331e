/**
 * The per-request deadline (REQUEST_DEADLINE_MS): counted from the request's arrival, entered
 * just before the handler so that every upstream call the handler makes, however deep, fits in it
 * (lib/deadline.ts). Routes that start long work on purpose (a sync, an inline import commit)
 * opt out with `config: { deadline: false }` and keep the upstream client's own budgets.
 */
import type { FastifyInstance } from 'fastify';
import { Deadline, runWithDeadline } from '../lib/deadline.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: no request deadline (long work the caller asked for) */
    deadline?: boolean;
  }
}

const arrivedAt = Symbol('arrivedAt');

export function registerDeadline(
  app: FastifyInstance,
  options: { budgetMs: number; staleWaitMs: number },
): void {
  app.addHook('onRequest', (request, _reply, done) => {
    (request as unknown as Record<symbol, number>)[arrivedAt] = performance.now();
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.routeOptions.config.deadline === false) return done();
    const started = (request as unknown as Record<symbol, number>)[arrivedAt] ?? performance.now();
    // The handler runs inside done(): it and everything it awaits see this deadline.
    runWithDeadline(new Deadline(options.budgetMs, options.staleWaitMs, started), done);
  });
}
