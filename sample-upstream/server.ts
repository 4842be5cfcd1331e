/**
 * The sample system of record: a small Fastify server answering the upstream contract
 * (openapi/upstream.yaml) from generated or CSV data, with fault injection for tests.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isValidTimeZone, parseDay } from '../src/lib/calendar.ts';
import { loadCsvDataset } from './csv-dataset.ts';
import {
  type BulkResult,
  buildSalesPage,
  type Dataset,
  type Refusal,
  type SalesPageRequest,
} from './dataset.ts';
import { type FaultConfig, FaultPatch, Faults, sendError } from './faults.ts';
import { type GeneratorOptions, generateDataset } from './generator.ts';

export interface SampleUpstreamOptions extends GeneratorOptions {
  /** 0 picks a free port; default 8081 */
  port?: number;
  host?: string;
  /** path prefix of every route, e.g. `/api/v1`; default none */
  prefix?: string;
  /** when set, data routes require `Authorization: Bearer <token>` */
  token?: string;
  /** serve the CSV files of this directory instead of generated data */
  dataDir?: string;
  /** an already loaded dataset (tests share one between servers) */
  dataset?: Dataset;
  /** faults active from the start */
  faults?: Partial<FaultConfig>;
  logger?: boolean;
}

export interface SampleUpstream {
  app: FastifyInstance;
  dataset: Dataset;
  faults: Faults;
}

export interface RunningSampleUpstream extends SampleUpstream {
  /** base URL including the prefix, what the client is configured with */
  url: string;
  /** scheme, host and port only */
  origin: string;
  close(): Promise<void>;
}

const DEFAULT_PAGE_SIZE = 1000;
const MAX_PAGE_SIZE = 10_000;
const MAX_PAGE = 1_000_000_000;
const IDEMPOTENCY_KEYS_KEPT = 1000;
const JSON_TYPE = 'application/json; charset=utf-8';

export function normalisePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').trim().replace(/\/+$/, '');
  if (!trimmed) return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export async function loadDataset(options: SampleUpstreamOptions): Promise<Dataset> {
  if (options.dataset) return options.dataset;
  const tz = options.tz ?? 'Europe/Paris';
  if (!isValidTimeZone(tz))
    throw new Error(`unknown time zone ${tz} (expected an IANA name such as Europe/Paris)`);
  if (options.dataDir) return loadCsvDataset(options.dataDir, tz);
  return generateDataset({ ...options, tz });
}

type Query = Record<string, string | string[] | undefined>;

function single(query: Query, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A non-negative integer query parameter, or an error message. */
function intParam(query: Query, name: string, fallback: number, min: number, max: number): number | string {
  const raw = single(query, name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    return `${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`;
  }
  return Number(raw);
}

function dateParam(query: Query, name: string): number | string {
  const raw = single(query, name);
  if (raw === undefined || raw === '') return `${name} is required (YYYY-MM-DD)`;
  return parseDay(raw) ?? `${name} must be a date as YYYY-MM-DD, got ${JSON.stringify(raw)}`;
}

/** The page request of `GET /sales`, or the message of a 400. */
function parseSalesQuery(query: Query): SalesPageRequest | string {
  const fromDay = dateParam(query, 'from');
  if (typeof fromDay === 'string') return fromDay;
  const toDay = dateParam(query, 'to');
  if (typeof toDay === 'string') return toDay;
  if (fromDay > toDay) return 'from must not be after to';
  const page = intParam(query, 'page', 0, 0, MAX_PAGE);
  if (typeof page === 'string') return page;
  const size = intParam(query, 'size', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
  if (typeof size === 'string') return size;
  return { fromDay, toDay, page, size };
}

function sendJson(reply: FastifyReply, text: string | Buffer): FastifyReply {
  return reply.type(JSON_TYPE).send(text);
}

/** The first item of a list with one field turned into a string that is not a number. */
function withBrokenFirst<T extends object>(items: readonly T[], field: keyof T): string {
  const [first, ...rest] = items;
  if (!first) return '[{"broken":true}]';
  return JSON.stringify([{ ...first, [field]: '12.5x' }, ...rest]);
}

export async function buildSampleUpstream(options: SampleUpstreamOptions = {}): Promise<SampleUpstream> {
  const dataset = await loadDataset(options);
  const faults = new Faults(options.seed ?? 42, options.faults, options.token);
  const app = Fastify({
    logger: options.logger ?? false,
    // Hung requests must not keep close() waiting.
    forceCloseConnections: true,
    bodyLimit: 64 * 1024 * 1024,
  });

  let storesJson: string | undefined;
  /** first answers of the bulk routes, by route and Idempotency-Key, oldest first */
  const idempotent = new Map<string, string>();

  app.setErrorHandler((err: { statusCode?: number; message: string }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error(err);
    return sendError(reply, status, err.message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, `no route for ${request.method} ${request.url}`),
  );
  app.addHook('onClose', async () => faults.dispose());

  await app.register(
    async (api) => {
      const data = (
        method: 'GET' | 'POST',
        path: string,
        handler: (request: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>,
      ) => {
        const route = `${method} ${path}`;
        api.route({
          method,
          url: path,
          onRequest: (request, reply) => faults.onDataRequest(request, reply, route),
          handler,
        });
      };

      data('GET', '/stores', (_request, reply) => {
        if (faults.current.malformed === 'stores') {
          faults.countMalformed();
          return sendJson(reply, withBrokenFirst(dataset.stores, 'employees'));
        }
        storesJson ??= JSON.stringify(dataset.stores);
        return sendJson(reply, storesJson);
      });

      data('GET', '/products', (_request, reply) => {
        if (faults.current.malformed === 'products') {
          faults.countMalformed();
          return sendJson(reply, withBrokenFirst(dataset.catalogue.list(), 'price'));
        }
        return sendJson(reply, dataset.catalogue.toJSON());
      });

      data('GET', '/stock', (_request, reply) => {
        if (faults.current.malformed === 'stock') {
          faults.countMalformed();
          return sendJson(reply, withBrokenFirst(dataset.stock.list(), 'quantity'));
        }
        return sendJson(reply, dataset.stock.toJSON());
      });

      data('GET', '/sales', (request, reply) => {
        const req = parseSalesQuery(request.query as Query);
        if (typeof req === 'string') return sendError(reply, 400, req);
        req.corruptFirstLine = faults.current.malformedPage === req.page;
        if (req.corruptFirstLine) faults.countMalformed();
        return sendJson(reply, buildSalesPage(dataset.sales, req));
      });

      /**
       * A bulk write: a JSON array in, a BulkResult out. A key already seen on this route answers
       * the first result again and applies nothing; the same key on another route is another key.
       */
      const bulk = (path: string, what: string, apply: (items: unknown[], refuse: Refusal) => BulkResult) => {
        const route = `POST ${path}`;
        data('POST', path, (request, reply) => {
          const rawKey = request.headers['idempotency-key'];
          const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
          const slot = key ? `${route} ${key}` : undefined;
          const previous = slot === undefined ? undefined : idempotent.get(slot);
          if (previous !== undefined) {
            return (
              faults.loseAnswer(reply) ?? sendJson(reply.header('idempotent-replayed', 'true'), previous)
            );
          }
          if (!Array.isArray(request.body)) {
            return sendError(reply, 400, `the body must be a JSON array of ${what}`);
          }
          const body = JSON.stringify(apply(request.body, faults.refusal));
          if (slot !== undefined) {
            idempotent.set(slot, body);
            // Map keeps insertion order: the first key is the oldest.
            if (idempotent.size > IDEMPOTENCY_KEYS_KEPT) idempotent.delete(idempotent.keys().next().value!);
          }
          return faults.loseAnswer(reply) ?? sendJson(reply, body);
        });
      };

      bulk('/products/bulk', 'products', (items, refuse) => dataset.catalogue.upsert(items, refuse));
      bulk('/stock/bulk', 'stock items', (items, refuse) => dataset.stock.upsert(items, refuse));
      bulk('/sales/bulk', 'sale lines', (items, refuse) => dataset.sales.insert(items, refuse));

      // Admin routes: never counted, never faulted, never behind the token.
      api.get('/__admin/faults', async () => faults.current);
      api.post('/__admin/faults', async (request, reply) => {
        const parsed = FaultPatch.safeParse(request.body ?? {});
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return sendError(reply, 400, `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
        }
        return faults.update(parsed.data);
      });
      api.post('/__admin/reset', async () => {
        faults.reset();
        return faults.current;
      });
      api.get('/__admin/stats', async () => faults.snapshot());
      api.get('/__admin/health', async () => ({ status: 'UP' }));
      api.get('/__admin/dataset', async () => ({
        kind: dataset.kind,
        tz: dataset.tz,
        summary: dataset.summary(),
        ...('anomalies' in dataset ? { anomalies: dataset.anomalies } : {}),
        ...('options' in dataset ? { options: dataset.options } : {}),
      }));
    },
    { prefix: normalisePrefix(options.prefix) },
  );

  return { app, dataset, faults };
}

/** Builds and listens (port 0 picks a free port); `url` includes the prefix. */
export async function createSampleUpstream(
  options: SampleUpstreamOptions = {},
): Promise<RunningSampleUpstream> {
  const built = await buildSampleUpstream(options);
  const host = options.host ?? '127.0.0.1';
  await built.app.listen({ port: options.port ?? 8081, host });
  const address = built.app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8081);
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    ...built,
    origin,
    url: origin + normalisePrefix(options.prefix),
    close: () => built.app.close(),
  };
}
