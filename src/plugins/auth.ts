/**
 * API keys mapped to roles (viewer < analyst < admin). A route declares the role it needs in its
 * config (`config: { role: 'viewer' }`); routes without one are public (health, docs).
 *
 * Identification and authorisation are two hooks so the rate limiter, registered between them,
 * can count per key for known keys and per address for everything else (including guesses).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ApiKeyEntry, ROLES, type Role, sha256Hex } from '../config.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the least role that may call the route; absent = public */
    role?: Role;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export interface Principal {
  role: Role;
  /** a short, non-secret id of the key (prefix of its hash) for logs and rate limits */
  keyId: string;
}

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header.trim();
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  return undefined;
}

export function createKeyResolver(keys: ApiKeyEntry[]) {
  const entries = keys.map((k) => ({
    hash: Buffer.from(k.hash, 'hex'),
    role: k.role,
    id: k.hash.slice(0, 12),
  }));
  return (key: string | undefined): Principal | undefined => {
    if (!key || key.length > 512) return undefined;
    const hash = Buffer.from(sha256Hex(key), 'hex');
    // Compare against every entry in constant time per entry: no early exit that tells which matched.
    let found: Principal | undefined;
    for (const entry of entries) {
      if (timingSafeEqual(entry.hash, hash)) found = { role: entry.role, keyId: entry.id };
    }
    return found;
  };
}

/** Sets `request.principal` for a valid key; never rejects (that is `authorize`'s job). */
export function registerIdentify(app: FastifyInstance, keys: ApiKeyEntry[]): void {
  const resolve = createKeyResolver(keys);
  app.decorateRequest('principal', undefined);
  // Callback hooks here and below: an async hook costs a promise per request, and with the request
  // deadline's AsyncLocalStorage every promise pays its hooks too.
  app.addHook('onRequest', (request, _reply, done) => {
    request.principal = resolve(presentedKey(request));
    done();
  });
}

/**
 * Adds bindings to the request's logger. Fastify gives each request a logger of its own, so pino's
 * `setBindings` on it touches no other request, and costs a fraction of a child logger per request
 * (about 12 µs under load, a tenth of a cached answer). Without it (no logging: the shared
 * null logger), a child as before.
 */
function addBindings(request: FastifyRequest, bindings: Record<string, string>): void {
  const log = request.log as FastifyRequest['log'] & { setBindings?: (b: Record<string, string>) => void };
  if (typeof log.setBindings === 'function') log.setBindings(bindings);
  else request.log = request.log.child(bindings);
}

/**
 * Adds the role check to every route that declares one. It is attached per route (onRoute) after
 * the rate limiter's own per-route hook, so failed guesses are counted before they are refused.
 */
export function registerAuthorize(app: FastifyInstance): void {
  /** The refusal, or undefined when the request may go on. */
  const refusal = (request: FastifyRequest): Error | undefined => {
    const needed = request.routeOptions.config.role;
    if (!needed) return undefined;
    const principal = request.principal;
    if (!principal) {
      return new UnauthorizedError(
        presentedKey(request)
          ? 'The API key is not valid.'
          : 'A valid API key is required: send it as X-API-Key or Authorization: Bearer <key>.',
      );
    }
    if (!roleAtLeast(principal.role, needed)) {
      return new ForbiddenError(`This operation needs the ${needed} role; the key has ${principal.role}.`);
    }
    addBindings(request, { keyId: principal.keyId });
    return undefined;
  };
  const authorize = (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    const refused = refusal(request);
    if (refused) done(refused);
    else done();
  };
  app.addHook('onRoute', (route) => {
    if (!route.config?.role) return;
    const existing = route.onRequest
      ? Array.isArray(route.onRequest)
        ? route.onRequest
        : [route.onRequest]
      : [];
    route.onRequest = [...existing, authorize];
  });
}
