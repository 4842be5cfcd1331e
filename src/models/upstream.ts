/**
 * Schemas of the system of record's REST API (openapi/upstream.yaml).
 *
 * Every answer the upstream client receives is parsed with these: a malformed answer becomes an
 * UpstreamInvalidResponse error (502) naming the bad field, never a NaN further down.
 * Ids may arrive as strings or integers; they are treated as opaque strings from here on.
 */
import { z } from 'zod';

/** An opaque id: the upstream may send strings or integers. */
export const UpstreamId = z
  .union([z.string().min(1).max(200), z.number().int().safe()])
  .transform((v) => String(v));

/** A finite amount of money or quantity (JSON has no NaN, but it has 1e999 → Infinity). */
const finite = () => z.number().finite();

export const BusinessDate = z.iso.date();

export const UpstreamStore = z.object({
  id: UpstreamId,
  name: z.string(),
  city: z.string(),
  region: z.string(),
  employees: z.number().int().nonnegative(),
});
export type UpstreamStore = z.output<typeof UpstreamStore>;

export const UpstreamProduct = z.object({
  id: UpstreamId,
  sku: z.string().min(1),
  name: z.string(),
  category: z.string(),
  brand: z.string(),
  price: finite().nonnegative(),
  cost: finite().nonnegative().nullish(),
});
export type UpstreamProduct = z.output<typeof UpstreamProduct>;

export const UpstreamSaleLine = z.object({
  id: UpstreamId,
  orderId: UpstreamId,
  soldAt: z.iso.datetime({ offset: true }),
  storeId: UpstreamId,
  productId: UpstreamId,
  quantity: finite(),
  unitPrice: finite(),
  amount: finite(),
  unitCost: finite().nullish(),
});
export type UpstreamSaleLine = z.output<typeof UpstreamSaleLine>;

/** A Spring Data `Page` of sale lines. */
export const UpstreamSalesPage = z.object({
  content: z.array(UpstreamSaleLine),
  number: z.number().int().nonnegative(),
  size: z.number().int().positive(),
  totalElements: z.number().int().nonnegative(),
  totalPages: z.number().int().nonnegative(),
  last: z.boolean(),
});
export type UpstreamSalesPage = z.output<typeof UpstreamSalesPage>;

export const UpstreamStockItem = z.object({
  storeId: UpstreamId,
  productId: UpstreamId,
  quantity: finite(),
  reorderLevel: finite().nonnegative(),
});
export type UpstreamStockItem = z.output<typeof UpstreamStockItem>;

/** What `POST /products/bulk` accepts: a product, with `id` optional (the SKU identifies it). */
export const UpstreamProductInput = UpstreamProduct.extend({ id: UpstreamId.optional() });
export type UpstreamProductInput = z.input<typeof UpstreamProductInput>;

/** What `POST /stock/bulk` accepts: a stock item, upserted by (storeId, productId). */
export const UpstreamStockInput = UpstreamStockItem;
export type UpstreamStockInput = z.input<typeof UpstreamStockInput>;

/** What `POST /sales/bulk` accepts: a sale line as `GET /sales` serves it; its id must be new. */
export const UpstreamSaleLineInput = UpstreamSaleLine;
export type UpstreamSaleLineInput = z.input<typeof UpstreamSaleLineInput>;

export const UpstreamBulkResult = z.object({
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  failed: z.array(z.object({ index: z.number().int().nonnegative(), message: z.string() })),
});
export type UpstreamBulkResult = z.output<typeof UpstreamBulkResult>;

export const UpstreamStores = z.array(UpstreamStore);
export const UpstreamProducts = z.array(UpstreamProduct);
export const UpstreamStock = z.array(UpstreamStockItem);
