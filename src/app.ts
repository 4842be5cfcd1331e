/**
 * Builds the HTTP app. Tests import this; only src/server.ts listens.
 */
import { randomUUID } from 'node:crypto';
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import secureJsonParse from 'secure-json-parse';
import type { Config } from './config.ts';
import { type Container, type ContainerOverrides, createContainer } from './container.ts';
import { RateLimitedError } from './errors.ts';
import { adminPlugin } from './plugins/admin.ts';
import { registerAuthorize, registerIdentify } from './plugins/auth.ts';
import { registerDeadline } from './plugins/deadline.ts';
import { registerInFlight } from './plugins/in-flight.ts';
import { registerMetrics } from './plugins/metrics.ts';
import { registerOpenApi } from './plugins/openapi.ts';
import { clientErrorProblem, registerProblemHandlers } from './plugins/problem.ts';
import { registerSecurityHeaders } from './plugins/security-headers.ts';
import { memoizingValidatorCompiler } from './plugins/validation.ts';
import { alertRoutes } from './routes/alert-routes.ts';
import { analyticsRoutes } from './routes/analytics-routes.ts';
import { catalogRoutes } from './routes/catalog-routes.ts';
import { deliveryRoutes } from './routes/delivery-routes.ts';
import { forecastRoutes } from './routes/forecast-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { importRoutes } from './routes/import-routes.ts';
import { reportRoutes } from './routes/report-routes.ts';
import { scheduleRoutes } from './routes/schedule-routes.ts';
import { syncRoutes } from './routes/sync-routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    services: Container;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface BuildAppOptions {
  /** pino options, or false to silence (tests) */
  logger?: FastifyServerOptions['logger'];
  loggerInstance?: FastifyBaseLogger;
  overrides?: ContainerOverrides;
}

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
    // Pretty for a person at a terminal, JSON lines for log collectors.
    ...(process.stdout.isTTY && config.env !== 'production'
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  };
}

export async function buildApp(config: Config, options: BuildAppOptions = {}) {
  const app = Fastify({
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? loggerOptions(config) }),
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.trustProxy,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestTimeout: 120_000,
    return503OnClosing: true,
    clientErrorHandler: clientErrorProblem,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  // Our own JSON parser only to say *why* a body was refused (fastify's says "not valid JSON" even
  // for a __proto__ key); the parsing itself is secure-json-parse, as in fastify.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(
        null,
        secureJsonParse.parse(body as string, undefined, {
          protoAction: 'error',
          constructorAction: 'error',
        }),
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const detail = /prototype/.test(message)
        ? 'The JSON body contains a forbidden "__proto__" or "constructor.prototype" key.'
        : `The body is not valid JSON: ${message}`;
      done(Object.assign(new Error(detail), { statusCode: 400 }), undefined);
    }
  });
  app.setValidatorCompiler(memoizingValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  registerInFlight(app);
  registerDeadline(app, { budgetMs: config.http.requestDeadlineMs, staleWaitMs: config.http.staleWaitMs });

  const services = createContainer(config, app.log, options.overrides);
  try {
    // The database is migrated (under a lock) and the embedded queue's jobs read back before the
    // first request: an instance that cannot reach its database does not start half-working.
    await services.start();
  } catch (err) {
    await services.close().catch(() => {});
    await app.close().catch(() => {});
    throw err;
  }
  app.decorate('services', services);
  // Embedded mode has no worker process: the API deletes expired reports and imports itself.
  let cleanupTimer: NodeJS.Timeout | undefined;
  if (config.mode === 'embedded') {
    app.addHook('onReady', async () => {
      const cleanup = (startup = false) =>
        Promise.all([
          services.reports
            .cleanup(Date.now(), { startup })
            .catch((err: unknown) => app.log.warn({ err }, 'report cleanup failed')),
          services.imports.cleanup().catch((err: unknown) => app.log.warn({ err }, 'import cleanup failed')),
        ]);
      void cleanup(true);
      cleanupTimer = setInterval(() => cleanup(), 3_600_000);
      cleanupTimer.unref();
    });
  }
  app.addHook('onClose', async () => {
    clearInterval(cleanupTimer);
    await services.close();
  });
  // During shutdown, answers to in-flight requests close their keep-alive connection; otherwise
  // the client's idle socket would hold server.close() open until the shutdown deadline.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook, like the other per-request hooks: no promise per request.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  registerSecurityHeaders(app, {
    // The API answers JSON; the only HTML is Swagger UI, which sets its own CSP (staticCSP below).
    contentSecurityPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
  await app.register(fastifyCors, {
    origin: config.http.corsOrigins.length > 0 ? config.http.corsOrigins : false,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-request-id', 'idempotency-key'],
    exposedHeaders: ['x-request-id', 'x-cache', 'retry-after', 'content-disposition', 'warning'],
    maxAge: 600,
  });

  registerIdentify(app, config.auth.apiKeys);
  await app.register(fastifyRateLimit, {
    global: true,
    max: config.http.rateLimitMax,
    timeWindow: config.http.rateLimitWindowMs,
    // Shared mode counts across every instance; if Redis fails, serving beats refusing.
    ...(services.redis
      ? { redis: services.redis, nameSpace: `${config.redis?.keyPrefix ?? ''}ratelimit:` }
      : {}),
    skipOnError: true,
    keyGenerator: (request) => (request.principal ? `key:${request.principal.keyId}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(
        `Rate limit of ${context.max} requests per ${Math.round(config.http.rateLimitWindowMs / 1000)} s exceeded; retry in ${context.after}.`,
        Math.max(1, Math.ceil(context.ttl / 1000)),
      ),
  });
  registerAuthorize(app);
  registerMetrics(app, services.metrics, config.auth.metricsToken);

  await registerOpenApi(app);

  await app.register(healthRoutes);
  await app.register(catalogRoutes, { prefix: '/api/v1' });
  await app.register(analyticsRoutes, { prefix: '/api/v1' });
  await app.register(syncRoutes, { prefix: '/api/v1' });
  await app.register(forecastRoutes, { prefix: '/api/v1' });
  await app.register(reportRoutes, { prefix: '/api/v1' });
  await app.register(importRoutes, { prefix: '/api/v1' });
  await app.register(scheduleRoutes, { prefix: '/api/v1' });
  await app.register(deliveryRoutes, { prefix: '/api/v1' });
  await app.register(alertRoutes, { prefix: '/api/v1' });
  await app.register(adminPlugin, { apiKeys: config.auth.apiKeys });

  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
