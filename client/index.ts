/**
 * A typed client of the SalesFlow API for the React dashboard (or any TypeScript caller), on
 * openapi-fetch: paths, parameters, bodies and answers are checked against client/schema.d.ts,
 * which `npm run client` generates from openapi/openapi.json.
 *
 *   const api = createSalesflowClient({ baseUrl: 'https://analytics.example.com', apiKey });
 *   const { data, error } = await api.GET('/api/v1/analytics/sales', { params: { query: { groupBy: 'store' } } });
 *
 * `error` is the RFC 9457 problem the API answered (typed per status where the document says so).
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.d.ts';

export type { components, operations, paths };
export type SalesflowClient = Client<paths>;

export interface SalesflowClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** the API's origin, e.g. https://analytics.example.com (the paths carry /api/v1) */
  baseUrl: string;
  /** sent as X-API-Key on every request */
  apiKey: string;
}

export function createSalesflowClient({
  baseUrl,
  apiKey,
  headers,
  ...rest
}: SalesflowClientOptions): SalesflowClient {
  const client = createClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, ''), headers, ...rest });
  // A middleware rather than a default header: no per-call `headers` can drop the key by accident.
  client.use({
    onRequest({ request }) {
      request.headers.set('x-api-key', apiKey);
      return request;
    },
  });
  return client;
}
