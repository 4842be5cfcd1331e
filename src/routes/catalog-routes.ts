import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProductList, ProductsQuery, StoreList, StoresQuery } from '../models/catalog.ts';
import { problemResponses } from '../models/problem.ts';
import { cacheMeta } from './route-helpers.ts';

const errors = problemResponses(400, 401, 403, 429, 502, 503, 504);

export const catalogRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/catalog/stores',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'listStores',
        tags: ['catalog'],
        summary: 'Stores of the system of record',
        description:
          'Served through the cache; `meta.stale` is true when the system of record failed and older data is served.',
        querystring: StoresQuery,
        response: { 200: StoreList, ...errors },
      },
    },
    async (request, reply) => {
      const list = await app.services.catalog.listStores(request.query);
      return {
        items: list.items,
        total: list.total,
        limit: list.limit,
        offset: list.offset,
        meta: cacheMeta(reply, list.source),
      };
    },
  );

  app.get(
    '/catalog/products',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'listProducts',
        tags: ['catalog'],
        summary: 'Products of the system of record',
        description:
          'Served through the cache; `meta.stale` is true when the system of record failed and older data is served.',
        querystring: ProductsQuery,
        response: { 200: ProductList, ...errors },
      },
    },
    async (request, reply) => {
      const list = await app.services.catalog.listProducts(request.query);
      return {
        items: list.items.map((p) => ({ ...p, cost: p.cost ?? null })),
        total: list.total,
        limit: list.limit,
        offset: list.offset,
        meta: cacheMeta(reply, list.source),
      };
    },
  );
};
