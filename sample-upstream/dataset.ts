/**
 * What both data sources (synthetic generator and CSV files) offer the HTTP layer, the mutable
 * books the bulk routes write to (catalogue, stock, added sale lines), and the assembly of Spring
 * Data pages of sale lines.
 */
import { z } from 'zod';
import { formatLocalIso } from '../src/lib/calendar.ts';

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
  /** whether a line with this id exists; must not build any day's lines to answer */
  hasLine(id: string): boolean;
}

export interface Dataset {
  readonly kind: 'generated' | 'csv';
  readonly tz: string;
  readonly stores: readonly Store[];
  readonly stock: StockBook;
  readonly catalogue: Catalogue;
  readonly sales: SalesBook;
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

/** What became of one item of a bulk request. */
export type ItemOutcome = 'created' | 'updated' | { failed: string };

/** Says why an item is refused before it is even looked at (fault injection), or undefined. */
export type Refusal = (raw: unknown) => string | undefined;

/** Applies the items one by one and reports the failed ones by index; never throws on bad items. */
function applyBulk(input: readonly unknown[], applyOne: (raw: unknown) => ItemOutcome, refuse?: Refusal) {
  const result: BulkResult = { created: 0, updated: 0, failed: [] };
  input.forEach((raw, index) => {
    const refused = refuse?.(raw);
    const outcome = refused !== undefined ? { failed: refused } : applyOne(raw);
    if (outcome === 'created') result.created++;
    else if (outcome === 'updated') result.updated++;
    else result.failed.push({ index, message: outcome.failed });
  });
  return result;
}

function issueText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/**
 * A list the bulk routes upsert into: copied from its source, served as JSON cached until the next
 * change. Subclasses say how one raw item is applied.
 */
abstract class UpsertableList<T extends object> {
  protected readonly items: T[];
  private json: string | undefined;

  constructor(items: readonly T[]) {
    this.items = items.map((item) => ({ ...item }));
  }

  get size(): number {
    return this.items.length;
  }

  list(): readonly T[] {
    return this.items;
  }

  toJSON(): string {
    this.json ??= JSON.stringify(this.items);
    return this.json;
  }

  /** Applies the valid items, reports the invalid ones by index; never throws on bad items. */
  upsert(input: readonly unknown[], refuse?: Refusal): BulkResult {
    const result = applyBulk(input, (raw) => this.upsertOne(raw), refuse);
    if (result.created || result.updated) this.json = undefined;
    return result;
  }

  protected abstract upsertOne(raw: unknown): ItemOutcome;
}

/** The product list, upsertable by SKU; its JSON is cached until the next change. */
export class Catalogue extends UpsertableList<Product> {
  private readonly bySku = new Map<string, number>();
  private readonly byId = new Map<string, number>();
  private nextSeq: number;

  constructor(products: readonly Product[]) {
    super(products);
    this.items.forEach((p, i) => {
      this.bySku.set(p.sku, i);
      this.byId.set(String(p.id), i);
    });
    this.nextSeq = this.items.length + 1;
  }

  /** The id of the product `id` refers to (compared as strings), as the catalogue types it. */
  idOf(id: Id): Id | undefined {
    const i = this.byId.get(String(id));
    return i === undefined ? undefined : this.items[i]!.id;
  }

  protected upsertOne(raw: unknown): ItemOutcome {
    const parsed = productInput.safeParse(raw);
    if (!parsed.success) return { failed: issueText(parsed.error) };
    const item = parsed.data;
    const existing = this.bySku.get(item.sku);
    if (existing !== undefined) {
      const current = this.items[existing]!;
      if (item.id !== undefined && String(item.id) !== String(current.id)) {
        return { failed: `id ${item.id} does not match sku ${item.sku} (which has id ${current.id})` };
      }
      this.items[existing] = toProduct(current.id, item);
      return 'updated';
    }
    if (item.id !== undefined && this.byId.has(String(item.id))) {
      return { failed: `id ${item.id} already belongs to another sku` };
    }
    const id = item.id ?? this.newId();
    this.items.push(toProduct(id, item));
    this.bySku.set(item.sku, this.items.length - 1);
    this.byId.set(String(id), this.items.length - 1);
    return 'created';
  }

  private newId(): string {
    for (;;) {
      const id = `P${String(this.nextSeq++).padStart(5, '0')}`;
      if (!this.byId.has(id)) return id;
    }
  }
}

/**
 * What stock items and sale lines may refer to: the stores, and the catalogue as it is now (a
 * product created by a bulk upsert can be stocked and sold right away).
 */
export class References {
  private readonly storeIds: ReadonlyMap<string, Id>;

  constructor(
    stores: readonly Store[],
    private readonly catalogue: Catalogue,
  ) {
    this.storeIds = new Map(stores.map((s) => [String(s.id), s.id]));
  }

  /**
   * The ids as the store and product themselves type them, so that `/stock` and `/sales` keep
   * the typing of `/stores` and `/products` whatever the writer sent; or a failed item's message.
   */
  resolve(storeId: Id, productId: Id): { storeId: Id; productId: Id } | { failed: string } {
    const store = this.storeIds.get(String(storeId));
    if (store === undefined) return { failed: `storeId: unknown store ${storeId}` };
    const product = this.catalogue.idOf(productId);
    if (product === undefined) return { failed: `productId: unknown product ${productId}` };
    return { storeId: store, productId: product };
  }
}

const finite = () => z.number().finite();

const stockInput = z.object({
  storeId: idSchema,
  productId: idSchema,
  quantity: finite(),
  reorderLevel: finite().nonnegative(),
});

/** The stock items, upsertable by (storeId, productId); its JSON is cached until the next change. */
export class StockBook extends UpsertableList<StockItem> {
  private readonly byPair = new Map<string, number>();

  constructor(
    items: readonly StockItem[],
    private readonly references: References,
  ) {
    super(items);
    this.items.forEach((s, i) => {
      this.byPair.set(pairKey(s.storeId, s.productId), i);
    });
  }

  protected upsertOne(raw: unknown): ItemOutcome {
    const parsed = stockInput.safeParse(raw);
    if (!parsed.success) return { failed: issueText(parsed.error) };
    const item = parsed.data;
    const ids = this.references.resolve(item.storeId, item.productId);
    if ('failed' in ids) return ids;
    const key = pairKey(ids.storeId, ids.productId);
    const existing = this.byPair.get(key);
    if (existing !== undefined) {
      const current = this.items[existing]!;
      current.quantity = item.quantity;
      current.reorderLevel = item.reorderLevel;
      return 'updated';
    }
    this.items.push({ ...ids, quantity: item.quantity, reorderLevel: item.reorderLevel });
    this.byPair.set(key, this.items.length - 1);
    return 'created';
  }
}

function pairKey(storeId: Id, productId: Id): string {
  // NUL cannot be confused with a character of either id.
  return `${storeId}\u0000${productId}`;
}

/** What the system of record accepts for a sale line: a line as `GET /sales` serves it. */
const saleLineInput = z.object({
  id: idSchema,
  orderId: idSchema,
  soldAt: z.iso.datetime({ offset: true }),
  storeId: idSchema,
  productId: idSchema,
  quantity: finite(),
  unitPrice: finite(),
  amount: finite(),
  unitCost: finite().nullish(),
});

/** A few lines added to one business day, kept serialised like the day's own lines. */
interface AddedDay {
  lines: string[];
  packed: DayBlock | undefined;
}

/**
 * The sale lines: those of the source (generated or loaded, never rewritten) plus the lines added
 * by `POST /sales/bulk`, which follow their business day's own lines in the order they came, so
 * that pages stay stable. Ids are unique across both.
 */
export class SalesBook<S extends SalesSource = SalesSource> implements SalesSource {
  private readonly added = new Map<number, AddedDay>();
  private readonly addedIds = new Set<string>();
  private lo: number;
  private hi: number;

  constructor(
    readonly base: S,
    private readonly tz: string,
    private readonly references: References,
  ) {
    this.lo = base.firstDay;
    this.hi = base.lastDay;
  }

  get firstDay(): number {
    return this.lo;
  }

  get lastDay(): number {
    return this.hi;
  }

  /** lines added through the bulk route */
  get addedLines(): number {
    return this.addedIds.size;
  }

  count(day: number): number {
    return this.base.count(day) + (this.added.get(day)?.lines.length ?? 0);
  }

  block(day: number): DayBlock {
    const own = this.base.block(day);
    const extra = this.added.get(day);
    if (!extra) return own;
    extra.packed ??= packBlock(extra.lines);
    return own.count === 0 ? extra.packed : concatBlocks(own, extra.packed);
  }

  hasLine(id: string): boolean {
    return this.addedIds.has(id) || this.base.hasLine(id);
  }

  /** Adds the valid lines; an id seen before (in the data, or earlier in this request) fails. */
  insert(input: readonly unknown[], refuse?: Refusal): BulkResult {
    return applyBulk(input, (raw) => this.insertOne(raw), refuse);
  }

  private insertOne(raw: unknown): ItemOutcome {
    const parsed = saleLineInput.safeParse(raw);
    if (!parsed.success) return { failed: issueText(parsed.error) };
    const item = parsed.data;
    const id = String(item.id);
    if (this.hasLine(id)) return { failed: `duplicate: sale line ${id} already exists` };
    const ids = this.references.resolve(item.storeId, item.productId);
    if ('failed' in ids) return ids;
    const at = Date.parse(item.soldAt);
    if (Number.isNaN(at)) return { failed: `soldAt: not a date-time: ${item.soldAt}` };
    // Served like every other line: on its business day in the dataset's zone, with the local offset.
    const { day, iso } = formatLocalIso(at, this.tz);
    const line: Record<string, unknown> = {
      id: item.id,
      orderId: item.orderId,
      soldAt: iso,
      storeId: ids.storeId,
      productId: ids.productId,
      quantity: item.quantity,
      unitPrice: item.unitPrice,
      amount: item.amount,
    };
    if (item.unitCost !== undefined) line.unitCost = item.unitCost;
    let extra = this.added.get(day);
    if (!extra) {
      extra = { lines: [], packed: undefined };
      this.added.set(day, extra);
    }
    extra.lines.push(JSON.stringify(line));
    extra.packed = undefined;
    this.addedIds.add(id);
    if (this.lo > this.hi) {
      this.lo = day;
      this.hi = day;
    } else {
      this.lo = Math.min(this.lo, day);
      this.hi = Math.max(this.hi, day);
    }
    return 'created';
  }
}

/** `a` then `b` as one block (both non-empty); b's offsets move past a's bytes and the comma. */
function concatBlocks(a: DayBlock, b: DayBlock): DayBlock {
  const shift = a.starts[a.count]!;
  const starts = new Int32Array(a.count + b.count + 1);
  starts.set(a.starts.subarray(0, a.count));
  for (let i = 0; i <= b.count; i++) starts[a.count + i] = b.starts[i]! + shift;
  return { bytes: Buffer.concat([a.bytes, COMMA, b.bytes]), starts, count: a.count + b.count };
}
