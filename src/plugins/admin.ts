/**
 * The operators' pages under /admin: Bull Board (the job queues, shared mode) at /admin/queues.
 *
 * A browser cannot send X-API-Key, so an admin signs in once at /admin/login: the form posts the
 * key, which comes back as an HttpOnly, SameSite=Strict cookie scoped to /admin (Secure over
 * HTTPS). No session is stored: every request checks the key as the API does, so revoking the key
 * in API_KEYS signs the browser out, on every instance. The cookie is read under /admin only, so it
 * opens nothing else; scripts may still send X-API-Key.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyEntry } from '../config.ts';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.ts';
import { bullmqPrefix } from '../jobs/job-queue-factory.ts';
import { createKeyResolver, roleAtLeast } from './auth.ts';
import { sendProblem } from './problem.ts';

export const ADMIN_COOKIE = 'salesflow_admin';
const COOKIE_MAX_AGE_S = 8 * 3600;
const QUEUES_PATH = '/admin/queues';

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(message?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SalesFlow admin sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin:.3rem 0}
.error{color:#a00}</style></head>
<body><h1>SalesFlow admin</h1>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/admin/login">
<label for="key">Admin API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></body></html>`;
}

export interface AdminPluginOptions {
  apiKeys: ApiKeyEntry[];
}

export async function adminPlugin(app: FastifyInstance, { apiKeys }: AdminPluginOptions): Promise<void> {
  const resolve = createKeyResolver(apiKeys);
  const services = app.services;

  // The sign-in form posts urlencoded; only here.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4_096 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  // None of these pages belongs in the API's OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });

  app.get('/admin/login', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(loginPage()),
  );

  app.post('/admin/login', async (request, reply) => {
    const key = (request.body as Record<string, string> | undefined)?.key?.trim();
    const principal = resolve(key);
    if (!key || !principal || !roleAtLeast(principal.role, 'admin')) {
      return reply
        .code(401)
        .type('text/html; charset=utf-8')
        .send(loginPage(principal ? 'This key does not have the admin role.' : 'This key is not valid.'));
    }
    const secure = request.protocol === 'https' ? '; Secure' : '';
    reply.header(
      'set-cookie',
      `${ADMIN_COOKIE}=${encodeURIComponent(key)}; Path=/admin; Max-Age=${COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Strict${secure}`,
    );
    return reply.redirect(`${QUEUES_PATH}/`, 303);
  });

  app.post('/admin/logout', async (_request, reply) => {
    reply.header('set-cookie', `${ADMIN_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict`);
    return reply.redirect('/admin/login', 303);
  });

  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = request.principal ?? resolve(cookieValue(request, ADMIN_COOKIE));
      if (principal && roleAtLeast(principal.role, 'admin')) return;
      // A person at a browser is sent to the sign-in form; scripts get a problem.
      if (request.method === 'GET' && request.headers.accept?.includes('text/html') && !principal) {
        return reply.redirect('/admin/login', 303);
      }
      // Answered here, not thrown: Bull Board's routes have their own error handler.
      const error = principal
        ? new ForbiddenError(`The queue dashboard needs the admin role; the key has ${principal.role}.`)
        : new UnauthorizedError(
            'The queue dashboard needs an admin key: sign in at /admin/login, or send X-API-Key.',
          );
      return sendProblem(reply, request, error.status, error.code, error.title, error.message);
    });

    const { config, redis } = services;
    if (!config.redis || !redis) {
      scope.get(QUEUES_PATH, async () => {
        throw new NotFoundError(
          'The queue dashboard needs shared mode (REDIS_URL): in embedded mode jobs run inside the API process.',
        );
      });
      return;
    }
    const prefix = bullmqPrefix(config.redis.keyPrefix);
    // The board's own Queue objects on the API's Redis connection (closed with the app, the
    // connection itself is the container's).
    const queues = Object.keys(services.processors).map(
      (name) => new Queue(name, { connection: redis, prefix }),
    );
    scope.addHook('onClose', async () => {
      await Promise.allSettled(queues.map((q) => q.close()));
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(QUEUES_PATH);
    createBullBoard({
      queues: queues.map((q) => new BullMQAdapter(q)),
      serverAdapter,
      options: { uiConfig: { boardTitle: 'SalesFlow jobs' } },
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUES_PATH });
  });
}
