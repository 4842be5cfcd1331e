/**
 * The columns each kind of import reads, their aliases, and the mapping of a header row onto them.
 * One table drives the header mapping, the validation messages, the template workbook and the
 * README's column list, so they cannot disagree.
 */

import { IMPORT_KINDS, type ImportKind } from '../../models/imports.ts';
import { displayValue } from './cell-values.ts';
import type { CellValue } from './sheet-reader.ts';

export { IMPORT_KINDS, type ImportKind };

export type FieldFormat = 'text' | 'money' | 'number' | 'datetime';

export interface FieldDef {
  key: string;
  /** the header the template writes */
  label: string;
  aliases: readonly string[];
  /** true: every row needs it; 'product': this or the other product reference (productId / sku) */
  required: boolean | 'product';
  format: FieldFormat;
  description: string;
  /** the template's example row */
  example: CellValue;
}

const productRef = (): FieldDef[] => [
  {
    key: 'productId',
    label: 'Product ID',
    aliases: ['product id', 'product', 'productid', 'item id', 'article id'],
    required: 'product',
    format: 'text',
    description: 'the product id in the system of record (or give the SKU instead)',
    example: 'P00001',
  },
  {
    key: 'sku',
    label: 'SKU',
    aliases: ['sku', 'product sku', 'product code', 'item code', 'article code', 'ean', 'barcode'],
    required: 'product',
    format: 'text',
    description: 'the product SKU (or give the product id instead)',
    example: null,
  },
];

const storeRef = (): FieldDef => ({
  key: 'storeId',
  label: 'Store ID',
  aliases: ['store id', 'store', 'store code', 'shop', 'shop id', 'location', 'location id', 'branch'],
  required: true,
  format: 'text',
  description: 'the store id in the system of record',
  example: 'EXAMPLE-STORE',
});

export const FIELDS: Record<ImportKind, readonly FieldDef[]> = {
  products: [
    {
      key: 'sku',
      label: 'SKU',
      aliases: ['sku', 'product sku', 'product code', 'item code', 'code', 'article', 'reference', 'ref'],
      required: true,
      format: 'text',
      description: 'unique product code; an existing SKU is updated, a new one created',
      example: 'EXAMPLE-SKU-001',
    },
    {
      key: 'name',
      label: 'Product Name',
      aliases: ['name', 'product name', 'product', 'title', 'item name', 'article name', 'designation'],
      required: true,
      format: 'text',
      description: 'the name shown in reports',
      example: 'Example product (delete this row)',
    },
    {
      key: 'category',
      label: 'Category',
      aliases: ['category', 'product category', 'cat', 'family', 'department'],
      required: true,
      format: 'text',
      description: 'category, e.g. Beverages',
      example: 'Beverages',
    },
    {
      key: 'brand',
      label: 'Brand',
      aliases: ['brand', 'make', 'manufacturer', 'label'],
      required: false,
      format: 'text',
      description: 'brand; blank keeps the current brand (empty for a new product)',
      example: 'Example Brand',
    },
    {
      key: 'price',
      label: 'Price',
      aliases: ['price', 'unit price', 'list price', 'sale price', 'selling price', 'retail price', 'rrp'],
      required: true,
      format: 'money',
      description: 'list price per unit, ≥ 0, at most 2 decimals',
      example: 12.5,
    },
    {
      key: 'cost',
      label: 'Cost',
      aliases: ['cost', 'unit cost', 'cost price', 'purchase price', 'buying price'],
      required: false,
      format: 'money',
      description: 'unit cost, ≥ 0; blank keeps the current cost; warned when above the price',
      example: 7.25,
    },
    {
      key: 'id',
      label: 'Product ID',
      aliases: ['id', 'product id', 'productid'],
      required: false,
      format: 'text',
      description: 'optional: the id in the system of record; must match the SKU when both exist',
      example: null,
    },
  ],
  stock: [
    storeRef(),
    ...productRef(),
    {
      key: 'quantity',
      label: 'Quantity',
      aliases: [
        'quantity',
        'qty',
        'stock',
        'on hand',
        'quantity on hand',
        'stock quantity',
        'units',
        'level',
      ],
      required: true,
      format: 'number',
      description: 'units in stock now (may be negative when the books are behind), up to 3 decimals',
      example: 40,
    },
    {
      key: 'reorderLevel',
      label: 'Reorder Level',
      aliases: ['reorder level', 'reorder point', 'reorder', 'min stock', 'minimum stock', 'safety stock'],
      required: false,
      format: 'number',
      description: 'reorder level, ≥ 0; blank keeps the current one (0 for a new item)',
      example: 10,
    },
  ],
  sales: [
    {
      key: 'id',
      label: 'Line ID',
      aliases: ['id', 'line id', 'sale line id', 'sale id', 'line', 'sales line id'],
      required: true,
      format: 'text',
      description: 'unique id of the sale line; a line already in the system of record is not added twice',
      example: 'EXAMPLE-LINE-1',
    },
    {
      key: 'orderId',
      label: 'Order ID',
      aliases: ['order id', 'order', 'receipt', 'receipt id', 'ticket', 'ticket id', 'transaction id'],
      required: true,
      format: 'text',
      description: 'groups the lines of one receipt',
      example: 'EXAMPLE-ORDER-1',
    },
    {
      key: 'soldAt',
      label: 'Sold At',
      aliases: ['sold at', 'date', 'sale date', 'datetime', 'date time', 'timestamp', 'sold on', 'time'],
      required: true,
      format: 'datetime',
      description: 'an Excel date, or 2026-03-01 14:30 (business time zone), or ISO-8601 with an offset',
      example: new Date(Date.UTC(2026, 0, 15, 14, 30)),
    },
    storeRef(),
    ...productRef(),
    {
      key: 'quantity',
      label: 'Quantity',
      aliases: ['quantity', 'qty', 'units', 'quantity sold'],
      required: true,
      format: 'number',
      description: 'units sold, negative for a return, not 0, up to 3 decimals',
      example: 2,
    },
    {
      key: 'unitPrice',
      label: 'Unit Price',
      aliases: ['unit price', 'price', 'selling price'],
      required: true,
      format: 'money',
      description: 'list price per unit, ≥ 0, at most 4 decimals',
      example: 12.5,
    },
    {
      key: 'amount',
      label: 'Amount',
      aliases: ['amount', 'total', 'line total', 'net amount', 'revenue', 'paid', 'value'],
      required: true,
      format: 'money',
      description: 'what the customer paid for the line after discounts; not above quantity × unit price',
      example: 25,
    },
    {
      key: 'unitCost',
      label: 'Unit Cost',
      aliases: ['unit cost', 'cost'],
      required: false,
      format: 'money',
      description: "optional; the product's cost is used when blank",
      example: null,
    },
  ],
};

/** Columns the error workbook adds; read back without complaint when a fixed file is uploaded again. */
export const ERROR_COLUMN = 'Import errors';
const IGNORED_HEADERS = new Set(['importerrors', 'errors', 'error']);

/** `Product Name`, `product_name`, ` PRODUCT-NAME ` and `Produkt Name` with accents → `productname`. */
export function normaliseHeader(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

const aliasIndex = new Map<ImportKind, Map<string, string>>();

function aliasesOf(kind: ImportKind): Map<string, string> {
  let index = aliasIndex.get(kind);
  if (!index) {
    index = new Map();
    for (const field of FIELDS[kind]) {
      for (const name of [field.key, field.label, ...field.aliases]) {
        const norm = normaliseHeader(name);
        // The first field to claim an alias keeps it (`product id` is the id in stock and sales).
        if (!index.has(norm)) index.set(norm, field.key);
      }
    }
    aliasIndex.set(kind, index);
  }
  return index;
}

export interface MappedColumn {
  /** 0-based column index */
  index: number;
  header: string;
  field: string | null;
}

export interface HeaderMapping {
  columns: MappedColumn[];
  /** field → 0-based column index */
  fieldIndex: Map<string, number>;
  unknown: string[];
}

export type HeaderProblem =
  | { kind: 'duplicate'; message: string }
  | { kind: 'missing'; message: string; missing: string[] };

/** Excel's column letters: 0 → A, 26 → AA. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let out = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    out = String.fromCharCode(65 + r) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

/** A header as messages quote it: a pasted paragraph is not repeated in full. */
function shown(header: string): string {
  return JSON.stringify(header.length > 40 ? `${header.slice(0, 37)}…` : header);
}

function headerText(cell: CellValue | undefined): string {
  return (displayValue(cell) ?? '').trim();
}

/** How many cells of a row name a field of this kind: finds the header row under title rows. */
export function countKnownHeaders(kind: ImportKind, cells: readonly CellValue[]): number {
  const index = aliasesOf(kind);
  const seen = new Set<string>();
  for (const cell of cells) {
    const field = index.get(normaliseHeader(headerText(cell)));
    if (field) seen.add(field);
  }
  return seen.size;
}

/** Maps a header row; duplicate or missing required columns are problems that stop the import. */
export function mapHeader(
  kind: ImportKind,
  cells: readonly CellValue[],
): { mapping: HeaderMapping } | { problem: HeaderProblem } {
  const index = aliasesOf(kind);
  const columns: MappedColumn[] = [];
  const fieldIndex = new Map<string, number>();
  const unknown: string[] = [];
  const seenHeaders = new Map<string, number>();
  for (let i = 0; i < cells.length; i++) {
    const header = headerText(cells[i]);
    if (header === '') continue;
    const norm = normaliseHeader(header);
    const earlier = seenHeaders.get(norm);
    if (earlier !== undefined) {
      return {
        problem: {
          kind: 'duplicate',
          message:
            `columns ${columnLetter(earlier)} and ${columnLetter(i)} are both headed ${shown(header)}: ` +
            'rename or delete one of them',
        },
      };
    }
    seenHeaders.set(norm, i);
    if (IGNORED_HEADERS.has(norm)) continue;
    const field = index.get(norm) ?? null;
    if (field !== null) {
      const other = fieldIndex.get(field);
      if (other !== undefined) {
        const otherHeader = headerText(cells[other]);
        return {
          problem: {
            kind: 'duplicate',
            message:
              `columns ${columnLetter(other)} (${shown(otherHeader)}) and ${columnLetter(i)} ` +
              `(${shown(header)}) both mean ${field}: keep one of them`,
          },
        };
      }
      fieldIndex.set(field, i);
    } else unknown.push(header);
    columns.push({ index: i, header, field });
  }
  const fields = FIELDS[kind];
  const missing = fields.filter((f) => f.required === true && !fieldIndex.has(f.key)).map((f) => f.label);
  const productRefs = fields.filter((f) => f.required === 'product');
  if (productRefs.length > 0 && !productRefs.some((f) => fieldIndex.has(f.key))) {
    missing.push(productRefs.map((f) => f.label).join(' or '));
  }
  if (missing.length > 0) {
    return {
      problem: {
        kind: 'missing',
        missing,
        message:
          `the ${kind} sheet has no column for ${missing.join(', ')}` +
          (unknown.length ? ` (columns not recognised: ${unknown.slice(0, 10).map(shown).join(', ')})` : '') +
          `; the template (GET /api/v1/excel/template?kind=${kind}) shows the expected headers`,
      },
    };
  }
  return { mapping: { columns, fieldIndex, unknown } };
}
