/**
 * What both data sources (synthetic generator and CSV files) offer the HTTP layer, the mutable
 * product catalogue, and the assembly of Spring Data pages of sale lines.
 */
import { z } from 'zod';

export type Id = string | number;

export interface Store {
  id: Id;
  name: string;
  city: string;
  region: string;
  employees: number;
}

export interface Product {
  id: Id;
  sku: string;
  name: string;
  category: string;
  brand: string;
  price: number;
  cost?: number | null;
}

export interface StockItem {
  storeId: Id;
  productId: Id;
  quantity: number;
  reorderLevel: number;
}

/**
 * The sale lines of one business day, already serialised as UTF-8 JSON: `bytes` holds the objects
 * joined by commas, line i spans bytes[starts[i], starts[i + 1] - 1). Serving a page is then a
 * few zero-copy slices and one concatenation.
 */
export interface DayBlock {
  bytes: Buffer;
  starts: Int32Array;
  count: number;
}

export interface SalesSource {
  /** first and last business day holding data (inclusive); firstDay > lastDay when there is none */
  readonly firstDay: number;
  readonly lastDay: number;
  count(day: number): number;
  block(day: number): DayBlock;
}

export interface Dataset {
  readonly kind: 'generated' | 'csv';
  readonly tz: string;
  readonly stores: readonly Store[];
  readonly stock: readonly StockItem[];
  readonly catalogue: Catalogue;
  readonly sales: SalesSource;
  /** one line for logs: sizes and date range */
  summary(): string;
}

export function emptyBlock(): DayBlock {
  return { bytes: Buffer.alloc(0), starts: new Int32Array(1), count: 0 };
}

/** Packs already-serialised lines into a DayBlock. */
export function packBlock(lines: readonly string[]): DayBlock {
  const starts = new Int32Array(lines.length + 1);
  let pos = 0;
  for (let i = 0; i < lines.length; i++) {
    starts[i] = pos;
    pos += Buffer.byteLength(lines[i]!) + 1;
  }
  starts[lines.length] = pos;
  return { bytes: Buffer.from(lines.join(',')), starts, count: lines.length };
}

export interface SalesPageRequest {
  fromDay: number;
  toDay: number;
  page: number;
  size: number;
  /** replace the first line's amount with a string, for fault injection */
  corruptFirstLine?: boolean;
}

const CONTENT_OPEN = Buffer.from('{"content":[');
const COMMA = Buffer.from(',');

/**
 * Builds the JSON of one page directly from the day blocks: only the days the page touches are
 * generated, the others contribute their (memoised) counts.
 */
export function buildSalesPage(sales: SalesSource, req: SalesPageRequest): Buffer {
  const lo = Math.max(req.fromDay, sales.firstDay);
  const hi = Math.min(req.toDay, sales.lastDay);
  let total = 0;
  for (let d = lo; d <= hi; d++) total += sales.count(d);

  const parts: Buffer[] = [CONTENT_OPEN];
  let skip = req.page * req.size;
  let wanted = skip < total ? Math.min(req.size, total - skip) : 0;
  for (let d = lo; d <= hi && wanted > 0; d++) {
    const n = sales.count(d);
    if (skip >= n) {
      skip -= n;
      continue;
    }
    const block = sales.block(d);
    const end = Math.min(n, skip + wanted);
    let slice = block.bytes.subarray(block.starts[skip]!, block.starts[end]! - 1);
    if (parts.length === 1 && req.corruptFirstLine) {
      slice = Buffer.from(slice.toString().replace(/"amount":[^,}]*/, '"amount":"12.5x"'));
    }
    if (parts.length > 1) parts.push(COMMA);
    parts.push(slice);
    wanted -= end - skip;
    skip = 0;
  }
  const totalPages = Math.ceil(total / req.size);
  parts.push(
    Buffer.from(
      `],"number":${req.page},"size":${req.size},"totalElements":${total},"totalPages":${totalPages},` +
        `"last":${req.page >= totalPages - 1}}`,
    ),
  );
  return Buffer.concat(parts);
}

const idSchema = z.union([z.string().min(1).max(200), z.number().int().safe()]);

/** What the system of record accepts for a product; stricter than what the client tolerates. */
const productInput = z.object({
  id: idSchema.optional(),
  sku: z.string().trim().min(1).max(100),
  name: z.string().min(1).max(500),
  category: z.string().min(1).max(200),
  brand: z.string().max(200),
  price: z.number().finite().nonnegative(),
  cost: z.number().finite().nonnegative().nullish(),
});

/** Keeps the field order of the contract in the JSON, id first. */
function toProduct(id: Id, item: z.output<typeof productInput>): Product {
  const product: Product = {
    id,
    sku: item.sku,
    name: item.name,
    category: item.category,
    brand: item.brand,
    price: item.price,
  };
  if (item.cost !== undefined) product.cost = item.cost;
  return product;
}

export interface BulkResult {
  created: number;
  updated: number;
  failed: { index: number; message: string }[];
}

function issueText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** The product list, upsertable by SKU; its JSON is cached until the next change. */
export class Catalogue {
  private readonly items: Product[];
  private readonly bySku = new Map<string, number>();
  private readonly byId = new Map<string, number>();
  private nextSeq: number;
  private json: string | undefined;

  constructor(products: readonly Product[]) {
    this.items = products.map((p) => ({ ...p }));
    this.items.forEach((p, i) => {
      this.bySku.set(p.sku, i);
      this.byId.set(String(p.id), i);
    });
    this.nextSeq = this.items.length + 1;
  }

  get size(): number {
    return this.items.length;
  }

  list(): readonly Product[] {
    return this.items;
  }

  toJSON(): string {
    this.json ??= JSON.stringify(this.items);
    return this.json;
  }

  /** Applies the valid items, reports the invalid ones by index; never throws on bad items. */
  upsert(input: readonly unknown[]): BulkResult {
    const result: BulkResult = { created: 0, updated: 0, failed: [] };
    input.forEach((raw, index) => {
      const parsed = productInput.safeParse(raw);
      if (!parsed.success) {
        result.failed.push({ index, message: issueText(parsed.error) });
        return;
      }
      const item = parsed.data;
      const existing = this.bySku.get(item.sku);
      if (existing !== undefined) {
        const current = this.items[existing]!;
        if (item.id !== undefined && String(item.id) !== String(current.id)) {
          result.failed.push({
            index,
            message: `id ${item.id} does not match sku ${item.sku} (which has id ${current.id})`,
          });
          return;
        }
        this.items[existing] = toProduct(current.id, item);
        result.updated++;
        return;
      }
      if (item.id !== undefined && this.byId.has(String(item.id))) {
        result.failed.push({ index, message: `id ${item.id} already belongs to another sku` });
        return;
      }
      const id = item.id ?? this.newId();
      this.items.push(toProduct(id, item));
      this.bySku.set(item.sku, this.items.length - 1);
      this.byId.set(String(id), this.items.length - 1);
      result.created++;
    });
    if (result.created || result.updated) this.json = undefined;
    return result;
  }

  private newId(): string {
    for (;;) {
      const id = `P${String(this.nextSeq++).padStart(5, '0')}`;
      if (!this.byId.has(id)) return id;
    }
  }
}
