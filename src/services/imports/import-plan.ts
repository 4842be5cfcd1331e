/**
 * Compares the valid rows of a file with the system of record's current data: which rows create,
 * which update, which change nothing, and which refer to something that does not exist. The plan
 * is what a dry run shows and exactly what a commit pushes.
 */
import type {
  UpstreamProduct,
  UpstreamProductInput,
  UpstreamSaleLine,
  UpstreamSaleLineInput,
  UpstreamStockInput,
  UpstreamStockItem,
  UpstreamStore,
} from '../../models/upstream.ts';
import { MAX_ECHO_CHARS } from './cell-values.ts';
import type { ImportKind } from './import-fields.ts';
import type { ProductRow, RowIssue, RowTypes, SaleRow, StockRow } from './import-rows.ts';

export type PlanAction = 'create' | 'update' | 'unchanged';

export interface ItemTypes {
  products: UpstreamProductInput;
  stock: UpstreamStockInput;
  sales: UpstreamSaleLineInput;
}

export interface PlannedRow<K extends ImportKind> {
  row: number;
  action: PlanAction;
  /** what the bulk endpoint receives for this row */
  item: ItemTypes[K];
  /** for updates: field → [current, new] */
  changes?: Record<string, [unknown, unknown]>;
}

export interface ReferenceData {
  stores: readonly UpstreamStore[];
  products: readonly UpstreamProduct[];
  /** stock imports */
  stock?: readonly UpstreamStockItem[];
  /** sales imports: the lines already recorded on the business days the file covers, by id */
  sales?: ReadonlyMap<string, UpstreamSaleLine>;
}

export interface ValidRow<K extends ImportKind> {
  row: number;
  value: RowTypes[K];
}

export interface Plan<K extends ImportKind> {
  planned: PlannedRow<K>[];
  /** rows that are valid alone but not against the system of record or the rest of the file */
  issues: RowIssue[];
}

/** The header of a field's column in this file, for messages. */
export type ColumnOf = (field: string) => string;

function issue(row: number, column: string | null, value: unknown, message: string): RowIssue {
  const text = value === undefined || value === null ? null : String(value);
  return {
    row,
    column,
    value: text !== null && text.length > MAX_ECHO_CHARS ? `${text.slice(0, MAX_ECHO_CHARS)}…` : text,
    message,
  };
}

function diff(current: Record<string, unknown>, next: Record<string, unknown>, fields: readonly string[]) {
  const changes: Record<string, [unknown, unknown]> = {};
  let changed = false;
  for (const f of fields) {
    const a = current[f] ?? null;
    const b = next[f] ?? null;
    if (a !== b) {
      changes[f] = [a, b];
      changed = true;
    }
  }
  return changed ? changes : undefined;
}

const PRODUCT_FIELDS = ['name', 'category', 'brand', 'price', 'cost'] as const;

function planProducts(
  rows: ValidRow<'products'>[],
  ref: ReferenceData,
  columnOf: ColumnOf,
): Plan<'products'> {
  const bySku = new Map(ref.products.map((p) => [p.sku, p]));
  const skuOfId = new Map(ref.products.map((p) => [p.id, p.sku]));
  const firstRow = new Map<string, number>();
  const planned: PlannedRow<'products'>[] = [];
  const issues: RowIssue[] = [];
  for (const { row, value } of rows) {
    const p: ProductRow = value;
    const seen = firstRow.get(p.sku);
    if (seen !== undefined) {
      issues.push(issue(row, columnOf('sku'), p.sku, `SKU ${p.sku} is also on row ${seen}: each SKU once`));
      continue;
    }
    firstRow.set(p.sku, row);
    const existing = bySku.get(p.sku);
    if (p.id !== undefined) {
      if (existing && existing.id !== p.id) {
        issues.push(
          issue(
            row,
            columnOf('id'),
            p.id,
            `id ${p.id} does not match SKU ${p.sku}, which has id ${existing.id}`,
          ),
        );
        continue;
      }
      const owner = skuOfId.get(p.id);
      if (!existing && owner !== undefined) {
        issues.push(issue(row, columnOf('id'), p.id, `id ${p.id} already belongs to SKU ${owner}`));
        continue;
      }
    }
    // Blank optional cells keep what the system of record has: an upsert replaces the whole product.
    const item: UpstreamProductInput = {
      ...(existing ? { id: existing.id } : p.id !== undefined ? { id: p.id } : {}),
      sku: p.sku,
      name: p.name,
      category: p.category,
      brand: p.brand ?? existing?.brand ?? '',
      price: p.price,
    };
    const cost = p.cost ?? existing?.cost ?? undefined;
    if (cost !== undefined && cost !== null) item.cost = cost;
    if (!existing) {
      planned.push({ row, action: 'create', item });
      continue;
    }
    const changes = diff(existing, item, PRODUCT_FIELDS);
    planned.push(changes ? { row, action: 'update', item, changes } : { row, action: 'unchanged', item });
  }
  return { planned, issues };
}

/** A row's product: by id, or by SKU through the catalogue; both given must agree. */
function resolveProduct(
  row: number,
  value: { productId?: string; sku?: string },
  byId: ReadonlyMap<string, UpstreamProduct>,
  bySku: ReadonlyMap<string, UpstreamProduct>,
  columnOf: ColumnOf,
): { productId: string } | { issue: RowIssue } {
  const fromId = value.productId !== undefined ? byId.get(value.productId) : undefined;
  const fromSku = value.sku !== undefined ? bySku.get(value.sku) : undefined;
  if (value.productId !== undefined && !fromId)
    return {
      issue: issue(row, columnOf('productId'), value.productId, `product ${value.productId} does not exist`),
    };
  if (value.sku !== undefined && !fromSku)
    return { issue: issue(row, columnOf('sku'), value.sku, `no product has SKU ${value.sku}`) };
  if (fromId && fromSku && fromId.id !== fromSku.id) {
    return {
      issue: issue(
        row,
        columnOf('sku'),
        value.sku,
        `SKU ${value.sku} is product ${fromSku.id}, not ${fromId.id} as the product id says`,
      ),
    };
  }
  return { productId: (fromId ?? fromSku)!.id };
}

function catalogueIndex(ref: ReferenceData) {
  return {
    storeIds: new Set(ref.stores.map((s) => s.id)),
    byId: new Map(ref.products.map((p) => [p.id, p])),
    bySku: new Map(ref.products.map((p) => [p.sku, p])),
  };
}

/** A stock or sale row's store must exist, and its product (by id or SKU). */
function resolveRefs(
  row: number,
  value: { storeId: string; productId?: string; sku?: string },
  index: ReturnType<typeof catalogueIndex>,
  columnOf: ColumnOf,
): { productId: string } | { issue: RowIssue } {
  if (!index.storeIds.has(value.storeId)) {
    return { issue: issue(row, columnOf('storeId'), value.storeId, `store ${value.storeId} does not exist`) };
  }
  return resolveProduct(row, value, index.byId, index.bySku, columnOf);
}

function planStock(rows: ValidRow<'stock'>[], ref: ReferenceData, columnOf: ColumnOf): Plan<'stock'> {
  const index = catalogueIndex(ref);
  const current = new Map((ref.stock ?? []).map((s) => [`${s.storeId}\u0000${s.productId}`, s]));
  const firstRow = new Map<string, number>();
  const planned: PlannedRow<'stock'>[] = [];
  const issues: RowIssue[] = [];
  for (const { row, value } of rows) {
    const s: StockRow = value;
    const product = resolveRefs(row, s, index, columnOf);
    if ('issue' in product) {
      issues.push(product.issue);
      continue;
    }
    const key = `${s.storeId}\u0000${product.productId}`;
    const seen = firstRow.get(key);
    if (seen !== undefined) {
      issues.push(
        issue(
          row,
          null,
          null,
          `store ${s.storeId}, product ${product.productId} is also on row ${seen}: once each`,
        ),
      );
      continue;
    }
    firstRow.set(key, row);
    const existing = current.get(key);
    const item: UpstreamStockInput = {
      storeId: s.storeId,
      productId: product.productId,
      quantity: s.quantity,
      reorderLevel: s.reorderLevel ?? existing?.reorderLevel ?? 0,
    };
    if (!existing) {
      planned.push({ row, action: 'create', item });
      continue;
    }
    const changes = diff(existing, item, ['quantity', 'reorderLevel']);
    planned.push(changes ? { row, action: 'update', item, changes } : { row, action: 'unchanged', item });
  }
  return { planned, issues };
}

const SALE_FIELDS = ['orderId', 'storeId', 'productId', 'quantity', 'unitPrice', 'amount'] as const;

function planSales(rows: ValidRow<'sales'>[], ref: ReferenceData, columnOf: ColumnOf): Plan<'sales'> {
  const index = catalogueIndex(ref);
  const recorded = ref.sales ?? new Map<string, UpstreamSaleLine>();
  const firstRow = new Map<string, number>();
  const planned: PlannedRow<'sales'>[] = [];
  const issues: RowIssue[] = [];
  for (const { row, value } of rows) {
    const s: SaleRow = value;
    const seen = firstRow.get(s.id);
    if (seen !== undefined) {
      issues.push(issue(row, columnOf('id'), s.id, `line id ${s.id} is also on row ${seen}: each line once`));
      continue;
    }
    firstRow.set(s.id, row);
    const product = resolveRefs(row, s, index, columnOf);
    if ('issue' in product) {
      issues.push(product.issue);
      continue;
    }
    const item: UpstreamSaleLineInput = {
      id: s.id,
      orderId: s.orderId,
      soldAt: s.soldAt,
      storeId: s.storeId,
      productId: product.productId,
      quantity: s.quantity,
      unitPrice: s.unitPrice,
      amount: s.amount,
    };
    if (s.unitCost !== undefined) item.unitCost = s.unitCost;
    const existing = recorded.get(s.id);
    if (!existing) {
      planned.push({ row, action: 'create', item });
      continue;
    }
    // Sale lines are facts: the same line again changes nothing, a different one is a conflict.
    const changes = diff(existing, item, SALE_FIELDS);
    const sameTime = Date.parse(existing.soldAt) === Date.parse(s.soldAt);
    if (!changes && sameTime) {
      planned.push({ row, action: 'unchanged', item });
      continue;
    }
    const what = [...Object.keys(changes ?? {}), ...(sameTime ? [] : ['soldAt'])].join(', ');
    issues.push(
      issue(
        row,
        columnOf('id'),
        s.id,
        `sale line ${s.id} is already recorded with a different ${what}: recorded lines cannot be changed by an import`,
      ),
    );
  }
  return { planned, issues };
}

export function planImport<K extends ImportKind>(
  kind: K,
  rows: ValidRow<K>[],
  ref: ReferenceData,
  columnOf: ColumnOf,
): Plan<K> {
  if (kind === 'products') return planProducts(rows as ValidRow<'products'>[], ref, columnOf) as Plan<K>;
  if (kind === 'stock') return planStock(rows as ValidRow<'stock'>[], ref, columnOf) as Plan<K>;
  return planSales(rows as ValidRow<'sales'>[], ref, columnOf) as Plan<K>;
}

/** Consecutive row numbers as ranges: [2,3,4,7] → 2–4, 7–7. */
export function rowRanges(rows: number[]): { fromRow: number; toRow: number }[] {
  const sorted = [...rows].sort((a, b) => a - b);
  const out: { fromRow: number; toRow: number }[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r === last.toRow + 1) last.toRow = r;
    else out.push({ fromRow: r, toRow: r });
  }
  return out;
}
