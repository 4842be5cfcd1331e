/**
 * Row validation: one zod schema per kind turns the mapped cells of a row into the typed record
 * pushed to the system of record, or into issues naming the row, the column and the value.
 * Rules that need the system of record's data (does this store exist? is this SKU new?) live in
 * import-diff.ts; these are the ones a row can be judged on alone.
 */
import { z } from 'zod';
import {
  echoValue,
  isBlank,
  MAX_CELL_TEXT,
  type NumberRule,
  type Parsed,
  parseDateTime,
  parseNumber,
  parseText,
} from './cell-values.ts';
import { columnLetter, FIELDS, type HeaderMapping, type ImportKind } from './import-fields.ts';
import type { CellValue } from './sheet-reader.ts';
import { TEXT_KEPT } from './xml-guard.ts';

export interface RowIssue {
  row: number;
  /** the header of the column as written in the file; null for a row-level issue */
  column: string | null;
  value: string | null;
  message: string;
}

export interface ProductRow {
  sku: string;
  name: string;
  category: string;
  /** undefined: blank or no column, keep what the system of record has */
  brand?: string;
  price: number;
  cost?: number;
  id?: string;
}

export interface StockRow {
  storeId: string;
  productId?: string;
  sku?: string;
  quantity: number;
  reorderLevel?: number;
}

export interface SaleRow {
  id: string;
  orderId: string;
  /** ISO-8601 with the business zone's offset */
  soldAt: string;
  /** business day number of soldAt */
  day: number;
  storeId: string;
  productId?: string;
  sku?: string;
  quantity: number;
  unitPrice: number;
  amount: number;
  unitCost?: number;
}

export interface RowTypes {
  products: ProductRow;
  stock: StockRow;
  sales: SaleRow;
}

type Cell = CellValue | undefined;

/**
 * The rules of one field: how a cell becomes its value. Both the zod schema (which names what is
 * wrong) and the fast path of rowValidator (which only says yes) are built from these, so they
 * cannot disagree.
 */
interface FieldRule {
  required: boolean;
  parse: (cell: CellValue) => Parsed<unknown>;
}

/** A rule spanning fields, on a row whose fields are all valid; names the field it blames. */
type CrossRule = (v: Record<string, unknown>) => { path: string; message: string } | undefined;

const MONEY = { min: 0, maxDecimals: 2 } as const;
const UNIT_MONEY = { min: 0, maxDecimals: 4 } as const;
const ID = 200;

const text = (max: number, required = true): FieldRule => ({ required, parse: (c) => parseText(c, max) });
const num = (rule: NumberRule, required = true): FieldRule => ({
  required,
  parse: (c) => parseNumber(c, rule),
});

/** A row must name its product one way or the other. */
const needsProduct: CrossRule = (v) =>
  v.productId === undefined && v.sku === undefined
    ? { path: 'productId', message: 'needs a product id or a SKU' }
    : undefined;

const amountMatchesPrice: CrossRule = (v) => {
  const quantity = v.quantity as number;
  const amount = v.amount as number;
  const list = quantity * (v.unitPrice as number);
  if (amount !== 0 && Math.sign(amount) !== Math.sign(quantity)) {
    return {
      path: 'amount',
      message: `has the opposite sign of the quantity (${quantity}): a return has both negative`,
    };
  }
  // Sub-cent differences are rounding in the till, not errors.
  if (Math.abs(amount) > Math.abs(list) + 0.005) {
    return { path: 'amount', message: `is more than quantity × unit price = ${list.toFixed(2)}` };
  }
  return undefined;
};

interface KindRules {
  fields: Record<string, FieldRule>;
  cross: CrossRule[];
}

function rulesOf(kind: ImportKind, tz: string): KindRules {
  if (kind === 'products') {
    return {
      fields: {
        sku: text(100),
        name: text(500),
        category: text(200),
        brand: text(200, false),
        price: num(MONEY),
        cost: num(UNIT_MONEY, false),
        id: text(ID, false),
      },
      cross: [],
    };
  }
  if (kind === 'stock') {
    return {
      fields: {
        storeId: text(ID),
        productId: text(ID, false),
        sku: text(100, false),
        quantity: num({ maxDecimals: 3 }),
        reorderLevel: num({ min: 0, maxDecimals: 3 }, false),
      },
      cross: [needsProduct],
    };
  }
  return {
    fields: {
      id: text(ID),
      orderId: text(ID),
      soldAt: { required: true, parse: (c) => parseDateTime(c, tz) },
      storeId: text(ID),
      productId: text(ID, false),
      sku: text(100, false),
      quantity: num({ maxDecimals: 3, nonZero: true }),
      unitPrice: num(UNIT_MONEY),
      amount: num({ maxDecimals: 2 }),
      unitCost: num(UNIT_MONEY, false),
    },
    cross: [needsProduct, amountMatchesPrice],
  };
}

/** soldAt parses to {iso, day}; the row keeps both, flat. */
function finish(kind: ImportKind, v: Record<string, unknown>): Record<string, unknown> {
  if (kind !== 'sales') return v;
  const { soldAt, ...rest } = v as { soldAt: { iso: string; day: number } };
  return { ...rest, soldAt: soldAt.iso, day: soldAt.day };
}

/** The zod schema of a kind, from its rules: blank required cells, bad values, cross-field rules. */
function schemaOf(kind: ImportKind, rules: KindRules): z.ZodType {
  const cell = z.custom<Cell>(() => true);
  const shape = Object.fromEntries(
    Object.entries(rules.fields).map(([key, rule]) => [
      key,
      cell.transform((v, ctx) => {
        if (isBlank(v)) {
          if (!rule.required) return undefined;
          ctx.addIssue({ code: 'custom', message: 'is required' });
          return z.NEVER;
        }
        const parsed = rule.parse(v ?? null);
        if (!parsed.ok) {
          ctx.addIssue({ code: 'custom', message: parsed.message });
          return z.NEVER;
        }
        return parsed.value;
      }),
    ]),
  );
  return z
    .object(shape)
    .superRefine((v, ctx) => {
      for (const rule of rules.cross) {
        const broken = rule(v);
        if (broken) ctx.addIssue({ code: 'custom', path: [broken.path], message: broken.message });
      }
    })
    .transform((v) => finish(kind, v));
}

/** The zod schema alone, for tests that hold the fast path to it. */
export function rowSchema(kind: ImportKind, tz: string): z.ZodType {
  return schemaOf(kind, rulesOf(kind, tz));
}

export type RowVerdict<K extends ImportKind> =
  | { ok: true; value: RowTypes[K]; warnings: RowIssue[] }
  | { ok: false; issues: RowIssue[] };

export type RowValidator<K extends ImportKind> = (row: number, cells: readonly CellValue[]) => RowVerdict<K>;

/**
 * A validator bound to one header mapping. Valid rows, nearly all of them, take a fast path that
 * applies the field rules directly (a zod parse per row made 1.7 KB of garbage and tripled the
 * validation time); a row that fails any rule is parsed again by the zod schema, which gives the
 * verdict and names every problem.
 */
export function rowValidator<K extends ImportKind>(
  kind: K,
  mapping: HeaderMapping,
  tz: string,
): RowValidator<K> {
  const rules = rulesOf(kind, tz);
  const schema = schemaOf(kind, rules);
  const fields = FIELDS[kind].map((f) => ({
    key: f.key,
    index: mapping.fieldIndex.get(f.key),
    rule: rules.fields[f.key]!,
  }));
  const headerOf = new Map(mapping.columns.map((c) => [c.field, c.header]));

  const fast = (cells: readonly CellValue[]): Record<string, unknown> | undefined => {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const value = f.index === undefined ? undefined : cells[f.index];
      if (isBlank(value)) {
        if (f.rule.required) return undefined;
        out[f.key] = undefined;
        continue;
      }
      const parsed = f.rule.parse(value ?? null);
      if (!parsed.ok) return undefined;
      out[f.key] = parsed.value;
    }
    for (const rule of rules.cross) if (rule(out)) return undefined;
    return finish(kind, out);
  };

  const columnName = new Map(mapping.columns.map((c) => [c.index, c.header]));
  /** Cells over Excel's own text limit, in any column (read or not): each is a row error. */
  const overlong = (row: number, cells: readonly CellValue[]): RowIssue[] => {
    const out: RowIssue[] = [];
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      if (typeof c !== 'string' || c.length <= MAX_CELL_TEXT) continue;
      const column = columnName.get(i) ?? `column ${columnLetter(i)}`;
      out.push({
        row,
        column,
        value: echoValue(c),
        // a workbook's longer texts are cut on reading (xml-guard.ts): their length is a floor
        message: `${column} holds ${c.length >= TEXT_KEPT ? `at least ${TEXT_KEPT}` : c.length} characters, more than the ${MAX_CELL_TEXT} a cell may hold`,
      });
    }
    return out;
  };

  return (row, cells) => {
    const tooLong = overlong(row, cells);
    if (tooLong.length > 0) return { ok: false, issues: tooLong };
    const quick = fast(cells);
    if (quick) {
      const value = quick as unknown as RowTypes[K];
      return { ok: true, value, warnings: rowWarnings(kind, value, row, headerOf) };
    }
    const input: Record<string, Cell> = {};
    for (const f of fields) input[f.key] = f.index === undefined ? undefined : cells[f.index];
    const parsed = schema.safeParse(input);
    if (parsed.success) {
      const value = parsed.data as RowTypes[K];
      return { ok: true, value, warnings: rowWarnings(kind, value, row, headerOf) };
    }
    const issues = parsed.error.issues.map((issue): RowIssue => {
      const key = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
      const column = key ? (headerOf.get(key) ?? key) : null;
      const index = key ? mapping.fieldIndex.get(key) : undefined;
      return {
        row,
        column,
        value: index === undefined ? null : echoValue(cells[index]),
        message: column ? `${column} ${issue.message}` : issue.message,
      };
    });
    return { ok: false, issues };
  };
}

function rowWarnings(
  kind: ImportKind,
  value: RowTypes[ImportKind],
  row: number,
  headerOf: Map<string | null, string>,
): RowIssue[] {
  if (kind === 'products') {
    const p = value as ProductRow;
    if (p.cost !== undefined && p.cost > p.price) {
      return [
        {
          row,
          column: headerOf.get('cost') ?? 'cost',
          value: String(p.cost),
          message: `cost ${p.cost} is above the price ${p.price}: sold at a loss`,
        },
      ];
    }
  } else if (kind === 'sales') {
    const s = value as SaleRow;
    const list = Math.abs(s.quantity * s.unitPrice);
    if (list > 0 && Math.abs(s.amount) < list * 0.5 - 0.005) {
      return [
        {
          row,
          column: headerOf.get('amount') ?? 'amount',
          value: String(s.amount),
          message: `amount ${s.amount} is less than half of quantity × unit price (${list.toFixed(2)}): a discount over 50 %`,
        },
      ];
    }
  }
  return [];
}
