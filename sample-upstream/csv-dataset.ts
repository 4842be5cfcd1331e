/**
 * A dataset read from four CSV files (stores, products, sales, stock) instead of generated.
 * Every row is validated; the first bad one stops the load with an error naming file, line and
 * field. Sales are held in memory, bucketed by business day in the configured time zone, and
 * their soldAt re-rendered with the local offset as the contract promises.
 */
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { formatDay, formatLocalIso, isValidTimeZone } from '../src/lib/calendar.ts';
import {
  Catalogue,
  type Dataset,
  type DayBlock,
  emptyBlock,
  type Id,
  type Product,
  packBlock,
  References,
  SalesBook,
  type SalesSource,
  StockBook,
  type StockItem,
  type Store,
} from './dataset.ts';

export class CsvDataError extends Error {
  override readonly name = 'CsvDataError';
}

type Row = Record<string, string>;

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const CANONICAL_INT = /^(0|[1-9]\d{0,14})$/;

/** Reads one row's fields, failing with file, line and field named. */
class Fields {
  constructor(
    private readonly file: string,
    private readonly line: number,
    private readonly row: Row,
  ) {}

  fail(field: string, message: string): never {
    throw new CsvDataError(`${this.file} line ${this.line}: field "${field}" ${message}`);
  }

  raw(field: string): string {
    return this.row[field] ?? '';
  }

  text(field: string, { optional = false } = {}): string {
    const v = this.raw(field);
    if (!v && !optional) this.fail(field, 'is empty');
    return v;
  }

  /** Canonical integers become JSON numbers, as an upstream with numeric keys would send them. */
  id(field: string): Id {
    const v = this.text(field);
    if (v.length > 200) this.fail(field, 'is longer than 200 characters');
    return CANONICAL_INT.test(v) ? Number(v) : v;
  }

  /** A reference to a row of another file, returned with that row's id typing. */
  ref(field: string, known: ReadonlyMap<string, Id>, what: string): Id {
    const v = this.text(field);
    const id = known.get(v);
    if (id === undefined) this.fail(field, `refers to unknown ${what} ${v}`);
    return id;
  }

  number(field: string, { min }: { min?: number } = {}): number {
    const v = this.raw(field);
    if (!NUMBER.test(v)) this.fail(field, `must be a number, got ${JSON.stringify(v)}`);
    const n = Number(v);
    if (!Number.isFinite(n)) this.fail(field, `must be a finite number, got ${JSON.stringify(v)}`);
    if (min !== undefined && n < min) this.fail(field, `must be ≥ ${min}, got ${v}`);
    return n;
  }

  optionalNumber(field: string, opts: { min?: number } = {}): number | undefined {
    return this.raw(field) === '' ? undefined : this.number(field, opts);
  }

  integer(field: string, opts: { min?: number } = {}): number {
    const n = this.number(field, opts);
    if (!Number.isSafeInteger(n)) this.fail(field, `must be an integer, got ${this.raw(field)}`);
    return n;
  }

  instant(field: string): number {
    const v = this.raw(field);
    const ms = ISO_DATETIME.test(v) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) {
      this.fail(
        field,
        `must be an ISO-8601 date-time with an offset (e.g. 2026-03-29T10:15:00+02:00), got ${JSON.stringify(v)}`,
      );
    }
    return ms;
  }
}

async function readCsv(
  dir: string,
  file: string,
  columns: readonly string[],
  onRow: (fields: Fields) => void,
): Promise<void> {
  const path = join(dir, file);
  if (!existsSync(path)) throw new CsvDataError(`${file}: not found in the data directory`);
  const parser = createReadStream(path).pipe(
    parse({ columns: true, bom: true, trim: true, skip_empty_lines: true, info: true }),
  );
  let checkedHeader = false;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Row; info: { lines: number } }>) {
      if (!checkedHeader) {
        const missing = columns.filter((c) => !(c in record));
        if (missing.length) {
          throw new CsvDataError(
            `${file} line 1: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
          );
        }
        checkedHeader = true;
      }
      onRow(new Fields(file, info.lines, record));
    }
  } catch (err) {
    if (err instanceof CsvDataError) throw err;
    const e = err as { message?: string; lines?: number };
    throw new CsvDataError(`${file}${e.lines ? ` line ${e.lines}` : ''}: ${e.message ?? String(err)}`);
  }
}

class CsvSales implements SalesSource {
  readonly firstDay: number;
  readonly lastDay: number;

  constructor(
    private readonly days: Map<number, DayBlock>,
    private readonly ids: ReadonlySet<string>,
  ) {
    const keys = [...days.keys()];
    this.firstDay = keys.length ? Math.min(...keys) : 1;
    this.lastDay = keys.length ? Math.max(...keys) : 0;
  }

  count(day: number): number {
    return this.days.get(day)?.count ?? 0;
  }

  block(day: number): DayBlock {
    return this.days.get(day) ?? emptyBlock();
  }

  hasLine(id: string): boolean {
    return this.ids.has(id);
  }
}

export interface CsvDataset extends Dataset {
  readonly kind: 'csv';
  readonly dir: string;
}

export async function loadCsvDataset(dir: string, tz = 'Europe/Paris'): Promise<CsvDataset> {
  if (!isValidTimeZone(tz)) throw new CsvDataError(`unknown time zone ${tz}`);
  if (!existsSync(dir)) throw new CsvDataError(`data directory not found: ${dir}`);

  const stores: Store[] = [];
  const storeIds = new Map<string, Id>();
  await readCsv(dir, 'stores.csv', ['id', 'name', 'city', 'region', 'employees'], (f) => {
    const id = f.id('id');
    if (storeIds.has(String(id))) f.fail('id', `duplicates store ${id}`);
    storeIds.set(String(id), id);
    stores.push({
      id,
      name: f.text('name'),
      city: f.text('city'),
      region: f.text('region'),
      employees: f.integer('employees', { min: 0 }),
    });
  });

  const products: Product[] = [];
  const productIds = new Map<string, Id>();
  const skus = new Set<string>();
  await readCsv(dir, 'products.csv', ['id', 'sku', 'name', 'category', 'brand', 'price', 'cost'], (f) => {
    const id = f.id('id');
    if (productIds.has(String(id))) f.fail('id', `duplicates product ${id}`);
    const sku = f.text('sku');
    if (skus.has(sku)) f.fail('sku', `duplicates sku ${sku}`);
    productIds.set(String(id), id);
    skus.add(sku);
    const product: Product = {
      id,
      sku,
      name: f.text('name'),
      category: f.text('category'),
      brand: f.text('brand', { optional: true }),
      price: f.number('price', { min: 0 }),
    };
    const cost = f.optionalNumber('cost', { min: 0 });
    if (cost !== undefined) product.cost = cost;
    products.push(product);
  });

  const byDay = new Map<number, string[]>();
  const lineIds = new Set<string>();
  let lineCount = 0;
  await readCsv(
    dir,
    'sales.csv',
    ['id', 'orderId', 'soldAt', 'storeId', 'productId', 'quantity', 'unitPrice', 'amount', 'unitCost'],
    (f) => {
      const id = f.id('id');
      if (lineIds.has(String(id))) f.fail('id', `duplicates sale line ${id}`);
      lineIds.add(String(id));
      const orderId = f.id('orderId');
      const { day, iso } = formatLocalIso(f.instant('soldAt'), tz);
      const storeId = f.ref('storeId', storeIds, 'store');
      const productId = f.ref('productId', productIds, 'product');
      const line: Record<string, unknown> = {
        id,
        orderId,
        soldAt: iso,
        storeId,
        productId,
        quantity: f.number('quantity'),
        unitPrice: f.number('unitPrice'),
        amount: f.number('amount'),
      };
      const unitCost = f.optionalNumber('unitCost');
      // Absent rather than null: clients must handle the missing field, as with the generator.
      if (unitCost !== undefined) line.unitCost = unitCost;
      let bucket = byDay.get(day);
      if (!bucket) {
        bucket = [];
        byDay.set(day, bucket);
      }
      bucket.push(JSON.stringify(line));
      lineCount++;
    },
  );

  const stock: StockItem[] = [];
  await readCsv(dir, 'stock.csv', ['storeId', 'productId', 'quantity', 'reorderLevel'], (f) => {
    const storeId = f.ref('storeId', storeIds, 'store');
    const productId = f.ref('productId', productIds, 'product');
    stock.push({
      storeId,
      productId,
      quantity: f.number('quantity'),
      reorderLevel: f.number('reorderLevel', { min: 0 }),
    });
  });

  const blocks = new Map<number, DayBlock>();
  for (const [day, lines] of byDay) blocks.set(day, packBlock(lines));
  const catalogue = new Catalogue(products);
  const references = new References(stores, catalogue);
  const sales = new SalesBook(new CsvSales(blocks, lineIds), tz, references);
  const stockBook = new StockBook(stock, references);

  return {
    kind: 'csv',
    dir,
    tz,
    stores,
    stock: stockBook,
    catalogue,
    sales,
    summary() {
      const lines = lineCount + sales.addedLines;
      const range = lines ? ` over ${formatDay(sales.firstDay)}..${formatDay(sales.lastDay)}` : '';
      return (
        `CSV data: ${stores.length} stores, ${catalogue.size} products, ${lines} sale lines${range} (${tz}), ` +
        `${stockBook.size} stock items`
      );
    },
  };
}
