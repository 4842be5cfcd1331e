/** Catalog answers of our API (ids are opaque strings here, whatever the upstream sent). */
import { z } from 'zod';

export const Store = z
  .object({
    id: z.string(),
    name: z.string(),
    city: z.string(),
    region: z.string(),
    employees: z.number().int(),
  })
  .meta({ id: 'Store' });

export const Product = z
  .object({
    id: z.string(),
    sku: z.string(),
    name: z.string(),
    category: z.string(),
    brand: z.string(),
    price: z.number(),
    cost: z.number().nullable().describe('unit cost; null when the system of record does not know it'),
  })
  .meta({ id: 'Product' });

export const CacheMeta = z
  .object({
    fetchedAt: z.iso.datetime().describe('when this data was read from the system of record'),
    cache: z.enum(['hit', 'miss', 'stale']),
    stale: z.boolean().describe('true when the system of record failed and older data is served'),
    staleReason: z.string().optional(),
  })
  .meta({ id: 'CacheMeta' });

const paging = {
  limit: z.coerce.number().int().min(1).max(5000).default(100),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
};

/** A repeatable query parameter: `?region=A&region=B` or `?region=A,B`. */
export const repeatable = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) =>
      v === undefined
        ? undefined
        : (Array.isArray(v) ? v : [v])
            .flatMap((s) => s.split(','))
            .map((s) => s.trim())
            .filter(Boolean),
    )
    .pipe(z.array(item).max(500).optional());

export const StoresQuery = z.object({
  region: repeatable(z.string().max(200)).describe('only stores of these regions (repeatable)'),
  city: repeatable(z.string().max(200)).describe('only stores of these cities (repeatable)'),
  ...paging,
});

export const ProductsQuery = z.object({
  category: repeatable(z.string().max(200)).describe('only these categories (repeatable)'),
  brand: repeatable(z.string().max(200)).describe('only these brands (repeatable)'),
  q: z.string().trim().min(1).max(200).optional().describe('case-insensitive substring of name or SKU'),
  ...paging,
});

const listOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      items: z.array(item),
      total: z.number().int().describe('items matching the filters, before paging'),
      limit: z.number().int(),
      offset: z.number().int(),
      meta: CacheMeta,
    })
    .meta({ id });

export const StoreList = listOf(Store, 'StoreList');
export const ProductList = listOf(Product, 'ProductList');
export type StoresQuery = z.output<typeof StoresQuery>;
export type ProductsQuery = z.output<typeof ProductsQuery>;
