/**
 * The OpenAPI document, built from the routes' zod schemas: served at /openapi.json, browsable at
 * /docs, committed as openapi/openapi.json (npm run openapi; a test fails when it is stale).
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';

export const API_VERSION = '0.1.0';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Documents a multipart/form-data body that the handler reads itself, as a stream (a body
     * schema would make fastify validate a body it never buffers). `file` becomes binary.
     */
    multipartBody?: z.ZodObject;
  }
}

const PROBLEM_DESCRIPTIONS: Record<string, string> = {
  '400': 'Invalid request: `errors[]` names every bad field',
  '401': 'No valid API key',
  '403': 'The key’s role is too low',
  '404': 'Not found',
  '413': 'Payload too large',
  '415': 'Unsupported media type',
  '422': 'Understood, but cannot be processed',
  '429': 'Rate limit exceeded (see Retry-After)',
  '502': 'The system of record failed or sent an invalid answer',
  '503': 'A dependency is unavailable',
  '504': 'The system of record timed out',
};

type Json = Record<string, unknown>;

function removeUnreferencedInputSchemas(doc: Json): Json {
  const schemas = (doc.components as { schemas?: Record<string, unknown> } | undefined)?.schemas;
  if (!schemas) return doc;
  // zod emits an input and an output variant of every named schema; keep only the variants in use
  // (repeat: removing one can leave another unreferenced).
  for (let removed = true; removed; ) {
    removed = false;
    const text = JSON.stringify(doc);
    for (const name of Object.keys(schemas)) {
      const refs = text.split(`"#/components/schemas/${name}"`).length - 1;
      const selfRefs = JSON.stringify(schemas[name]).split(`"#/components/schemas/${name}"`).length - 1;
      if (name.endsWith('Input') && refs === selfRefs) {
        delete schemas[name];
        removed = true;
      }
    }
  }
  return doc;
}

const SAFE_INT_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * What the JSON Schema writer adds that an OpenAPI 3.1 document does without: zod writes ±2^53−1 as
 * the bounds of every `.int()` (Swagger UI then shows the maximum as every integer's example), and
 * each component carries `$schema` and a fragment `$id` (not a valid `$id` in JSON Schema 2020-12).
 */
function tidySchemas(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) tidySchemas(item);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Json;
  if (o.maximum === SAFE_INT_BOUND) delete o.maximum;
  if (o.minimum === -SAFE_INT_BOUND) delete o.minimum;
  if (typeof o.$schema === 'string') delete o.$schema;
  if (typeof o.$id === 'string' && o.$id.startsWith('#')) delete o.$id;
  for (const value of Object.values(o)) tidySchemas(value);
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, where zod's `type: ["number", "null"]` is legal
      openapi: '3.1.0',
      info: {
        title: 'SalesFlow Analytics API',
        version: API_VERSION,
        description:
          'Analytics, forecasts, imports and reports in front of a retail system of record.\n\n' +
          '**Authentication**: an API key, as `X-API-Key: <key>` or `Authorization: Bearer <key>`; ' +
          'roles are viewer < analyst < admin.\n\n' +
          '**Errors**: every error is an RFC 9457 `application/problem+json` document with `type`, ' +
          '`title`, `status`, `detail`, `instance`, `requestId`, and `errors[]` naming each bad field.',
      },
      tags: [
        { name: 'catalog', description: 'Stores and products of the system of record' },
        { name: 'analytics', description: 'Sales and stock KPIs from day partitions' },
        { name: 'sync', description: 'Day partitions: sync now, and their status' },
        { name: 'forecast', description: 'Sales forecasts with intervals and backtests' },
        { name: 'reports', description: 'PDF, Excel and CSV reports, generated as jobs' },
        { name: 'imports', description: 'Excel and CSV imports of products, stock and sales' },
        { name: 'operations', description: 'Health and readiness' },
      ],
      components: {
        securitySchemes: {
          ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          Bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    transform: (input) => {
      const out = jsonSchemaTransform(input);
      const schema = out.schema as Json;
      const routeConfig = input.route.config as { role?: string; multipartBody?: z.ZodObject } | undefined;
      const role = routeConfig?.role;
      if (routeConfig?.multipartBody) {
        const body = z.toJSONSchema(routeConfig.multipartBody, { target: 'draft-2020-12' }) as Json;
        const properties = body.properties as Record<string, Json>;
        if (properties.file) properties.file = { ...properties.file, type: 'string', format: 'binary' };
        delete body.$schema;
        schema.consumes = ['multipart/form-data'];
        schema.body = body;
      }
      if (role) {
        schema.security = [{ ApiKey: [] }, { Bearer: [] }];
        schema.description = `${schema.description ? `${schema.description}\n\n` : ''}Requires the **${role}** role.`;
      }
      const responses = schema.response as Record<string, Json> | undefined;
      for (const [status, body] of Object.entries(responses ?? {})) {
        if (Number(status) >= 400 && responses) {
          responses[status] = {
            description: PROBLEM_DESCRIPTIONS[status] ?? 'Problem',
            content: { [PROBLEM_CONTENT_TYPE.split(';')[0] as string]: { schema: body } },
          };
        }
      }
      return out;
    },
    transformObject: (input) => {
      const doc = removeUnreferencedInputSchemas(jsonSchemaTransformObject(input) as Json);
      tidySchemas(doc);
      return doc;
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () =>
    app.swagger(),
  );
}
