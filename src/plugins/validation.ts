/**
 * Fastify's validator compiler: zod's (fastify-type-provider-zod), and for the query string of a
 * route whose schema is marked pure (lib/pure-schemas.ts), the results of the last queries seen,
 * reused for the same query: a dashboard repeats the same few queries, and validating one costs as
 * much as serving its cached answer. The reused value is frozen, so a handler that tried to change
 * its query (shared with other requests) fails loudly instead of changing theirs.
 */
import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { LRUCache } from 'lru-cache';
import { isPure } from '../lib/pure-schemas.ts';

/** distinct query strings remembered per route */
const QUERIES_KEPT = 500;

type Validate = ReturnType<FastifySchemaCompiler<unknown>>;

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
}

export const memoizingValidatorCompiler: FastifySchemaCompiler<unknown> = (route) => {
  const validate = validatorCompiler(route as Parameters<typeof validatorCompiler>[0]) as Validate;
  if (route.httpPart !== 'querystring' || !isPure(route.schema)) return validate;
  const known = new LRUCache<string, { value: unknown }>({ max: QUERIES_KEPT });
  return (data: unknown) => {
    // The parsed query string: strings and arrays of strings, members in the URL's order.
    const key = JSON.stringify(data);
    const hit = known.get(key);
    if (hit) return hit;
    const result = validate(data);
    // zod's compiler answers synchronously: { value } or { error }.
    if (typeof result === 'object' && result !== null && 'value' in result && !('error' in result)) {
      deepFreeze(result.value);
      known.set(key, { value: result.value });
    }
    return result;
  };
};
