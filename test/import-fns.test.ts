/**
 * The pure parts of an import: reading numbers and dates people type, mapping headers, validating
 * rows, and planning against the system of record's data.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  hasAtMostDecimals,
  parseDateTime,
  parseDecimalText,
  parseNumber,
  parseText,
} from '../src/services/imports/cell-values.ts';
import { columnLetter, mapHeader, normaliseHeader } from '../src/services/imports/import-fields.ts';
import { planImport, rowRanges } from '../src/services/imports/import-plan.ts';
import { rowSchema, rowValidator } from '../src/services/imports/import-rows.ts';

const value = <T>(p: { ok: true; value: T } | { ok: false; message: string }): T => {
  assert.ok(p.ok, p.ok ? '' : p.message);
  return p.value;
};
const message = (p: { ok: boolean; message?: string }): string => {
  assert.equal(p.ok, false, 'expected a refusal');
  return p.message ?? '';
};

describe('numbers written as text', () => {
  test('unambiguous forms are read', () => {
    const cases: [string, number, number][] = [
      ['12', 12, 2],
      ['12.5', 12.5, 2],
      ['12,5', 12.5, 2],
      ['1,234.56', 1234.56, 2],
      ['1.234,56', 1234.56, 2],
      ['1 234,56', 1234.56, 2],
      ['1\u00a0234,56', 1234.56, 2],
      ["1'234.50", 1234.5, 2],
      ['1,234,567', 1234567, 2],
      ['1.234.567', 1234567, 2],
      ['€12.50', 12.5, 2],
      ['12,50 €', 12.5, 2],
      ['EUR 3.10', 3.1, 2],
      ['-4.5', -4.5, 3],
      ['(4.50)', -4.5, 2],
      ['1,234', 1234, 2],
      ['0,125', 0.125, 3],
      ['1.234', 1.234, 3],
    ];
    for (const [text, expected, decimals] of cases) {
      assert.equal(value(parseDecimalText(text, decimals)), expected, text);
    }
  });

  test('ambiguous and malformed forms are refused with the readings spelled out', () => {
    assert.match(message(parseDecimalText('1,234', 3)), /ambiguous \(1234 or 1\.234\?\)/);
    for (const bad of ['12a', '1,23,4', '1.234,5,6', '', '--1', '1e5', 'N/A', '12,34.5']) {
      assert.match(message(parseDecimalText(bad, 2)), /is not a number/, bad);
    }
  });

  test('money keeps two decimals, and float noise is not a third decimal', () => {
    assert.ok(hasAtMostDecimals(19.99, 2));
    assert.ok(hasAtMostDecimals(0.1 + 0.2, 2) === false || hasAtMostDecimals(0.3, 2));
    assert.equal(value(parseNumber(19.99, { min: 0, maxDecimals: 2 })), 19.99);
    assert.equal(value(parseNumber(1.1 * 3, { min: 0, maxDecimals: 2 })), 3.3);
    assert.match(message(parseNumber(12.345, { min: 0, maxDecimals: 2 })), /more than 2 decimals/);
    assert.match(message(parseNumber('12.345', { min: 0, maxDecimals: 2 })), /more than 2 decimals/);
    assert.match(message(parseNumber(-1, { min: 0, maxDecimals: 2 })), /at least 0/);
    assert.match(message(parseNumber(0, { maxDecimals: 3, nonZero: true })), /must not be 0/);
    assert.match(message(parseNumber({ error: '#N/A' }, { maxDecimals: 2 })), /error #N\/A/);
    assert.match(message(parseNumber(new Date(), { maxDecimals: 2 })), /is a date/);
  });

  test('text: trimmed, numbers as their digits, length checked', () => {
    assert.equal(value(parseText('  Coffee  ', 10)), 'Coffee');
    assert.equal(value(parseText(12345, 10)), '12345');
    assert.match(message(parseText('x'.repeat(11), 10)), /longer than 10/);
  });
});

describe('dates of sale', () => {
  const tz = 'Europe/Paris';
  test('an Excel date is a wall-clock time in the business zone', () => {
    // exceljs gives the wall clock as UTC fields: 2026-03-29 01:30 in Paris is before the DST jump.
    const r = value(parseDateTime(new Date(Date.UTC(2026, 2, 29, 1, 30)), tz));
    assert.equal(r.iso, '2026-03-29T01:30:00+01:00');
    const summer = value(parseDateTime(new Date(Date.UTC(2026, 6, 1, 23, 59)), tz));
    assert.equal(summer.iso, '2026-07-01T23:59:00+02:00');
    assert.equal(summer.day, Date.UTC(2026, 6, 1) / 86_400_000);
  });

  test('an Excel serial number, ISO text with or without an offset', () => {
    // 46023.5 = 2026-01-01 12:00
    assert.equal(value(parseDateTime(46023.5, tz)).iso, '2026-01-01T12:00:00+01:00');
    assert.equal(value(parseDateTime('2026-01-01 14:30', tz)).iso, '2026-01-01T14:30:00+01:00');
    assert.equal(value(parseDateTime('2026-01-01', tz)).iso, '2026-01-01T00:00:00+01:00');
    // 23:30 UTC on 31 December is already 1 January in Paris: the business day follows the zone.
    const r = value(parseDateTime('2025-12-31T23:30:00Z', tz));
    assert.equal(r.iso, '2026-01-01T00:30:00+01:00');
    assert.equal(r.day, Date.UTC(2026, 0, 1) / 86_400_000);
  });

  test('slashed, impossible and empty dates are refused', () => {
    assert.match(message(parseDateTime('03/04/2026', tz)), /not a date this import reads/);
    assert.match(message(parseDateTime('2026-02-30 10:00', tz)), /not a valid date/);
    assert.match(message(parseDateTime(null, tz)), /is empty/);
  });

  test('dates outside the supported range are refused, years 0000-0099 included', () => {
    assert.match(message(parseDateTime('0000-01-01 10:00', tz)), /outside 1900-01-01 to 2199-12-31/);
    assert.match(message(parseDateTime('0099-12-31T10:00:00Z', tz)), /outside 1900-01-01 to 2199-12-31/);
    assert.match(message(parseDateTime('2200-01-01', tz)), /outside 1900-01-01 to 2199-12-31/);
    assert.equal(value(parseDateTime('1900-01-01 12:00', tz)).iso.slice(0, 10), '1900-01-01');
  });
});

describe('header mapping', () => {
  test('case, spaces, underscores and aliases', () => {
    assert.equal(normaliseHeader(' Product_Name '), 'productname');
    const mapped = mapHeader('products', [
      'SKU',
      'product_name',
      'CATEGORY',
      'Brand',
      'Unit Price',
      'cost price',
      'Notes',
    ]);
    assert.ok('mapping' in mapped);
    const fields = Object.fromEntries(mapped.mapping.fieldIndex);
    assert.deepEqual(fields, { sku: 0, name: 1, category: 2, brand: 3, price: 4, cost: 5 });
    assert.deepEqual(mapped.mapping.unknown, ['Notes']);
  });

  test('duplicates and missing columns are named', () => {
    const dup = mapHeader('products', ['SKU', 'Name', 'name ', 'Category', 'Price']);
    assert.ok('problem' in dup && dup.problem.kind === 'duplicate');
    assert.match(dup.problem.message, /columns B and C are both headed "name"/);
    const same = mapHeader('products', ['SKU', 'Name', 'Product Name', 'Category', 'Price']);
    assert.ok('problem' in same);
    assert.match(same.problem.message, /both mean name/);
    const missing = mapHeader('stock', ['Store', 'Qty', 'Colour']);
    assert.ok('problem' in missing && missing.problem.kind === 'missing');
    assert.deepEqual(missing.problem.missing, ['Product ID or SKU']);
    assert.match(missing.problem.message, /not recognised: "Colour"/);
  });

  test('column letters', () => {
    assert.deepEqual([0, 25, 26, 701, 702].map(columnLetter), ['A', 'Z', 'AA', 'ZZ', 'AAA']);
  });
});

describe('row validation', () => {
  const header = ['SKU', 'Name', 'Category', 'Brand', 'Price', 'Cost'];
  const mapped = mapHeader('products', header);
  assert.ok('mapping' in mapped);
  const validate = rowValidator('products', mapped.mapping, 'Europe/Paris');

  test('a good row, trimmed, with a warning when cost is above price', () => {
    const ok = validate(2, [' A-1 ', 'Tea', ' Drinks ', ' Acme ', '1,234.50', 1300]);
    assert.ok(ok.ok);
    assert.deepEqual(
      { ...ok.value },
      {
        sku: 'A-1',
        name: 'Tea',
        category: 'Drinks',
        brand: 'Acme',
        price: 1234.5,
        cost: 1300,
        id: undefined,
      },
    );
    assert.match(ok.warnings[0]?.message ?? '', /cost 1300 is above the price 1234.5/);
  });

  test('every bad cell of a row is reported with its column and value', () => {
    const bad = validate(7, [null, 'Tea', 'Drinks', null, '12.345', -1]);
    assert.ok(!bad.ok);
    assert.deepEqual(
      bad.issues.map((i) => [i.row, i.column, i.value, i.message]),
      [
        [7, 'SKU', null, 'SKU is required'],
        [7, 'Price', '12.345', 'Price has more than 2 decimals'],
        [7, 'Cost', '-1', 'Cost must be at least 0'],
      ],
    );
  });

  test('sales: amount against quantity × unit price, and the sign of returns', () => {
    const m = mapHeader('sales', ['id', 'order', 'date', 'store', 'sku', 'qty', 'unit price', 'amount']);
    assert.ok('mapping' in m);
    const v = rowValidator('sales', m.mapping, 'Europe/Paris');
    const base = ['L1', 'O1', '2026-03-01 10:00', '1', 'A-1'];
    assert.ok(v(2, [...base, 2, 2.5, 5]).ok);
    const over = v(3, [...base, 2, 2.5, 5.02]);
    assert.ok(!over.ok && /more than quantity × unit price = 5.00/.test(over.issues[0]!.message));
    const sign = v(4, [...base, -1, 2.5, 2.5]);
    assert.ok(!sign.ok && /opposite sign/.test(sign.issues[0]!.message));
    const returned = v(5, [...base, -1, 2.5, -2.5]);
    assert.ok(returned.ok);
    const discount = v(6, [...base, 2, 2.5, 2]);
    assert.ok(discount.ok && /discount over 50 %/.test(discount.warnings[0]!.message));
  });
});

describe('the fast path of row validation', () => {
  test('accepts exactly what the zod schema accepts, with the same values', () => {
    const header = [
      'id',
      'order',
      'date',
      'store',
      'product id',
      'sku',
      'qty',
      'unit price',
      'amount',
      'unit cost',
    ];
    const m = mapHeader('sales', header);
    assert.ok('mapping' in m);
    const validate = rowValidator('sales', m.mapping, 'Europe/Paris');
    const schema = rowSchema('sales', 'Europe/Paris');
    const rows: (string | number | Date | null)[][] = [
      ['L1', 'O1', '2026-03-01 10:00', '1', 'P1', null, 2, 2.5, 5, null],
      ['L2', 'O1', new Date(Date.UTC(2026, 2, 1, 10)), 1, null, 'A-1', '1,5', '2,00', 3, 1.25],
      ['L3', 'O1', 46023.5, '1', null, null, 1, 2, 2, null],
      ['L4', 'O1', '2026-03-01 10:00', '1', 'P1', null, 0, 2, 0, null],
      ['L5', 'O1', '2026-03-01 10:00', '1', 'P1', null, -2, 2, -4, null],
      ['L6', 'O1', '2026-03-01 10:00', '1', 'P1', null, 2, 2, 4.01, null],
      ['L7', null, '2026-03-01 10:00', '1', 'P1', null, 2, 2, 4, null],
      ['L8', 'O1', 'yesterday', '1', 'P1', null, 2, 2, 4, null],
      ['L9', 'O1', '2026-03-01 10:00', '1', 'P1', null, 2, 2, '4.001', null],
    ];
    for (const [i, cells] of rows.entries()) {
      const input = Object.fromEntries(m.mapping.columns.map((c) => [c.field, cells[c.index]]));
      const expected = schema.safeParse(input);
      const verdict = validate(i + 2, cells);
      assert.equal(verdict.ok, expected.success, `row ${i + 2}`);
      if (verdict.ok && expected.success) assert.deepEqual(verdict.value, expected.data, `row ${i + 2}`);
    }
  });
});

describe('plan against the system of record', () => {
  const products = [
    { id: 'P1', sku: 'A-1', name: 'Tea', category: 'Drinks', brand: 'Acme', price: 3, cost: 1 },
    { id: 'P2', sku: 'A-2', name: 'Coffee', category: 'Drinks', brand: 'Acme', price: 4, cost: null },
  ];
  const stores = [{ id: '1', name: 'S', city: 'C', region: 'R', employees: 3 }];
  const col = (f: string) => f;

  test('products: create, update with its changes, unchanged; blanks keep current values', () => {
    const plan = planImport(
      'products',
      [
        { row: 2, value: { sku: 'A-1', name: 'Tea', category: 'Drinks', price: 3 } },
        { row: 3, value: { sku: 'A-2', name: 'Coffee', category: 'Drinks', price: 4.5 } },
        { row: 4, value: { sku: 'A-3', name: 'Cocoa', category: 'Drinks', price: 5 } },
        { row: 5, value: { sku: 'A-3', name: 'Cocoa', category: 'Drinks', price: 5 } },
        { row: 6, value: { sku: 'A-4', name: 'X', category: 'Y', price: 1, id: 'P1' } },
      ],
      { stores, products },
      col,
    );
    assert.deepEqual(
      plan.planned.map((p) => [p.row, p.action]),
      [
        [2, 'unchanged'],
        [3, 'update'],
        [4, 'create'],
      ],
    );
    assert.deepEqual(plan.planned[0]!.item, {
      id: 'P1',
      sku: 'A-1',
      name: 'Tea',
      category: 'Drinks',
      brand: 'Acme',
      price: 3,
      cost: 1,
    });
    assert.deepEqual(plan.planned[1]!.changes, { price: [4, 4.5] });
    assert.deepEqual(
      plan.issues.map((i) => [i.row, i.message]),
      [
        [5, 'SKU A-3 is also on row 4: each SKU once'],
        [6, 'id P1 already belongs to SKU A-1'],
      ],
    );
  });

  test('stock: products by SKU or id, unknown stores and products refused', () => {
    const plan = planImport(
      'stock',
      [
        { row: 2, value: { storeId: '1', sku: 'A-1', quantity: 5 } },
        { row: 3, value: { storeId: '1', productId: 'P1', quantity: 6 } },
        { row: 4, value: { storeId: '9', productId: 'P1', quantity: 1 } },
        { row: 5, value: { storeId: '1', sku: 'ZZ', quantity: 1 } },
        { row: 6, value: { storeId: '1', productId: 'P2', sku: 'A-1', quantity: 1 } },
        { row: 7, value: { storeId: '1', productId: 'P2', quantity: 8, reorderLevel: 2 } },
      ],
      { stores, products, stock: [{ storeId: '1', productId: 'P2', quantity: 8, reorderLevel: 3 }] },
      col,
    );
    assert.deepEqual(
      plan.planned.map((p) => [p.row, p.action, p.item]),
      [
        [2, 'create', { storeId: '1', productId: 'P1', quantity: 5, reorderLevel: 0 }],
        [7, 'update', { storeId: '1', productId: 'P2', quantity: 8, reorderLevel: 2 }],
      ],
    );
    assert.deepEqual(
      plan.issues.map((i) => [i.row, i.message]),
      [
        [3, 'store 1, product P1 is also on row 2: once each'],
        [4, 'store 9 does not exist'],
        [5, 'no product has SKU ZZ'],
        [6, 'SKU A-1 is product P1, not P2 as the product id says'],
      ],
    );
  });

  test('sales: a recorded line is unchanged when equal, a conflict when not', () => {
    const recorded = {
      id: 'L1',
      orderId: 'O1',
      soldAt: '2026-03-01T09:00:00Z',
      storeId: '1',
      productId: 'P1',
      quantity: 1,
      unitPrice: 3,
      amount: 3,
    };
    const day = Date.UTC(2026, 2, 1) / 86_400_000;
    const line = {
      id: 'L1',
      orderId: 'O1',
      soldAt: '2026-03-01T10:00:00+01:00',
      day,
      storeId: '1',
      productId: 'P1',
      quantity: 1,
      unitPrice: 3,
      amount: 3,
    };
    const plan = planImport(
      'sales',
      [
        { row: 2, value: line },
        { row: 3, value: { ...line, id: 'L2' } },
        { row: 4, value: { ...line, id: 'L3', amount: 2 } },
      ],
      {
        stores,
        products,
        sales: new Map([
          ['L1', recorded],
          ['L3', { ...recorded, id: 'L3' }],
        ]),
      },
      col,
    );
    assert.deepEqual(
      plan.planned.map((p) => [p.row, p.action]),
      [
        [2, 'unchanged'],
        [3, 'create'],
      ],
    );
    assert.match(plan.issues[0]!.message, /L3 is already recorded with a different amount/);
  });

  test('row ranges', () => {
    assert.deepEqual(rowRanges([7, 2, 3, 4, 9]), [
      { fromRow: 2, toRow: 4 },
      { fromRow: 7, toRow: 7 },
      { fromRow: 9, toRow: 9 },
    ]);
  });
});
