/**
 * Requests in flight, so that shutdown can answer those still running when its grace period ends:
 * a 503 problem with Retry-After (the client retries elsewhere) rather than a dropped connection.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** answers every request still running with a 503 problem; returns how many */
    refuseInFlight(retryAfterSeconds: number): number;
  }
}

export function registerInFlight(app: FastifyInstance): void {
  const running = new Set<FastifyReply>();
  app.addHook('onRequest', (_request, reply, done) => {
    running.add(reply);
    reply.raw.once('close', () => running.delete(reply));
    done();
  });
  app.addHook('onResponse', (_request, reply, done) => {
    running.delete(reply);
    done();
  });
  app.decorate('refuseInFlight', (retryAfterSeconds: number) => {
    const refused = [...running];
    running.clear();
    for (const reply of refused) {
      if (reply.sent || reply.raw.headersSent) {
        // Half an answer cannot be turned into an error: end it, so the client sees it cut.
        reply.raw.destroy();
        continue;
      }
      reply.header('retry-after', String(retryAfterSeconds)).header('connection', 'close');
      sendProblem(
        reply,
        reply.request,
        503,
        'shutting-down',
        'Service unavailable',
        'The server is shutting down and this request did not finish in time; retry it.',
      );
    }
    return refused.length;
  });
}
