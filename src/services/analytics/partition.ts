/**
 * A day partition: one business day of sales aggregated per (store, product) cell, plus the order
 * baskets that exact distinct-order counts at any level need. Built once per day by the sync step,
 * stored in the cache in a columnar binary encoding, and scanned as typed arrays by queries.
 *
 * Ids are dictionary-encoded per partition (`storeIds`, `productIds`): dense integers index typed
 * arrays, and a partition never depends on a global dictionary another process would have to share.
 */
import { createHash } from 'node:crypto';
import type { UpstreamSaleLine } from '../../models/upstream.ts';
import { toScaled } from './kpi-fns.ts';

export interface PartitionData {
  /** business day number (days since 1970-01-01) */
  day: number;
  /** epoch ms when the lines were read from the system of record */
  fetchedAt: number;
  /** the day was over (in the business time zone) when it was fetched */
  closed: boolean;
  lineCount: number;
  /** lines whose soldAt falls on another business day than the one asked for (upstream misconfigured) */
  offDayLines: number;
  storeIds: string[];
  productIds: string[];
  /** cells: one per (store, product) with sales that day; indexes are into storeIds / productIds */
  cellStore: Int32Array;
  cellProduct: Int32Array;
  units: Float64Array;
  /** Σ amount, scaled (kpi-fns MONEY_SCALE) */
  revenue: Float64Array;
  /** Σ quantity × unitCost over lines that carry a unitCost, scaled */
  costKnown: Float64Array;
  /** Σ quantity over lines without unitCost: costed with the product's cost at query time */
  unitsNoCost: Float64Array;
  lines: Int32Array;
  /** distinct orders containing the cell's product in the cell's store */
  orders: Int32Array;
  /** order baskets: order i holds cells basketCell[basketStart[i] .. basketStart[i + 1]) (distinct) */
  basketStart: Int32Array;
  basketCell: Int32Array;
  /** content hash: changes when any figure of the day changes */
  version: string;
}

const CELL_KEY_STRIDE = 2 ** 21; // products per store key space; store * stride + product < 2^53

/**
 * Aggregates the validated lines of one business day. `dayStart`/`dayEnd` (epoch ms) bound the day
 * in the business time zone: a line outside is counted in `offDayLines` (and still aggregated here,
 * since the system of record said it belongs to this day).
 */
export function createPartitionBuilder(day: number, dayStart: number, dayEnd: number) {
  const storeIndex = new Map<string, number>();
  const productIndex = new Map<string, number>();
  const storeIds: string[] = [];
  const productIds: string[] = [];
  const cellIndex = new Map<number, number>();
  const cellStore: number[] = [];
  const cellProduct: number[] = [];
  const units: number[] = [];
  const revenue: number[] = [];
  const costKnown: number[] = [];
  const unitsNoCost: number[] = [];
  const lines: number[] = [];
  const orders: number[] = [];
  const orderIndex = new Map<string, number>();
  const baskets: number[][] = [];
  let lineCount = 0;
  let offDayLines = 0;
  // Lines of a receipt arrive together, and stores in runs: remember the last lookups.
  let lastOrderId = '';
  let lastOrder = -1;
  let lastStoreId = '';
  let lastStore = -1;

  function idOf(map: Map<string, number>, list: string[], id: string): number {
    let i = map.get(id);
    if (i === undefined) {
      i = list.length;
      map.set(id, i);
      list.push(id);
    }
    return i;
  }

  return {
    add(line: UpstreamSaleLine): void {
      lineCount++;
      const at = Date.parse(line.soldAt);
      if (!(at >= dayStart && at < dayEnd)) offDayLines++;
      let s = lastStore;
      if (line.storeId !== lastStoreId) {
        s = idOf(storeIndex, storeIds, line.storeId);
        lastStoreId = line.storeId;
        lastStore = s;
      }
      const p = idOf(productIndex, productIds, line.productId);
      const key = s * CELL_KEY_STRIDE + p;
      let c = cellIndex.get(key);
      if (c === undefined) {
        c = cellStore.length;
        cellIndex.set(key, c);
        cellStore.push(s);
        cellProduct.push(p);
        units.push(0);
        revenue.push(0);
        costKnown.push(0);
        unitsNoCost.push(0);
        lines.push(0);
        orders.push(0);
      }
      units[c]! += line.quantity;
      revenue[c]! += toScaled(line.amount);
      if (line.unitCost !== undefined && line.unitCost !== null)
        costKnown[c]! += toScaled(line.quantity * line.unitCost);
      else unitsNoCost[c]! += line.quantity;
      lines[c]!++;
      let o = lastOrder;
      if (line.orderId !== lastOrderId) {
        const known = orderIndex.get(line.orderId);
        if (known === undefined) {
          o = baskets.length;
          orderIndex.set(line.orderId, o);
          baskets.push([]);
        } else o = known;
        lastOrderId = line.orderId;
        lastOrder = o;
      }
      const basket = baskets[o]!;
      if (!basket.includes(c)) {
        basket.push(c);
        orders[c]!++;
      }
    },

    get lineCount() {
      return lineCount;
    },

    finish(fetchedAt: number, closed: boolean): PartitionData {
      const basketStart = new Int32Array(baskets.length + 1);
      let total = 0;
      for (let i = 0; i < baskets.length; i++) {
        basketStart[i] = total;
        total += baskets[i]!.length;
      }
      basketStart[baskets.length] = total;
      const basketCell = new Int32Array(total);
      let k = 0;
      for (const basket of baskets) for (const c of basket) basketCell[k++] = c;
      const data: PartitionData = {
        day,
        fetchedAt,
        closed,
        lineCount,
        offDayLines,
        storeIds,
        productIds,
        cellStore: Int32Array.from(cellStore),
        cellProduct: Int32Array.from(cellProduct),
        units: Float64Array.from(units),
        revenue: Float64Array.from(revenue),
        costKnown: Float64Array.from(costKnown),
        unitsNoCost: Float64Array.from(unitsNoCost),
        lines: Int32Array.from(lines),
        orders: Int32Array.from(orders),
        basketStart,
        basketCell,
        version: '',
      };
      data.version = contentVersion(encodeBody(data));
      return data;
    },
  };
}

// --- Binary encoding --------------------------------------------------------------------------
// "SFP1" | u32 header length | header JSON | padding to 8 | Float64 columns | Int32 columns.
// Columns are written in a fixed order; lengths come from the header.

const MAGIC = 'SFP1';
const F64_COLUMNS = ['units', 'revenue', 'costKnown', 'unitsNoCost'] as const;
const I32_CELL_COLUMNS = ['cellStore', 'cellProduct', 'lines', 'orders'] as const;

interface Header {
  day: number;
  fetchedAt: number;
  closed: boolean;
  lineCount: number;
  offDayLines: number;
  cells: number;
  orders: number;
  basket: number;
  storeIds: string[];
  productIds: string[];
  version: string;
}

function contentVersion(body: Buffer): string {
  return createHash('sha1').update(body).digest('base64url').slice(0, 16);
}

/** The columns and dictionaries (not fetchedAt: re-fetching an unchanged day keeps its version). */
function encodeBody(d: PartitionData): Buffer {
  return encodeWith(d, { fetchedAt: 0, closed: false, version: '' });
}

function encodeWith(
  d: PartitionData,
  volatile: { fetchedAt: number; closed: boolean; version: string },
): Buffer {
  const header: Header = {
    day: d.day,
    fetchedAt: volatile.fetchedAt,
    closed: volatile.closed,
    lineCount: d.lineCount,
    offDayLines: d.offDayLines,
    cells: d.cellStore.length,
    orders: d.basketStart.length - 1,
    basket: d.basketCell.length,
    storeIds: d.storeIds,
    productIds: d.productIds,
    version: volatile.version,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = 8 + headerBytes.length;
  const dataStart = Math.ceil(headerEnd / 8) * 8;
  const n = header.cells;
  const size =
    dataStart +
    F64_COLUMNS.length * n * 8 +
    I32_CELL_COLUMNS.length * n * 4 +
    (header.orders + 1) * 4 +
    header.basket * 4;
  const out = Buffer.alloc(size);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(headerBytes.length, 4);
  headerBytes.copy(out, 8);
  let pos = dataStart;
  const put = (arr: Float64Array | Int32Array) => {
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    out.set(bytes, pos);
    pos += arr.byteLength;
  };
  for (const col of F64_COLUMNS) put(d[col]);
  for (const col of I32_CELL_COLUMNS) put(d[col]);
  put(d.basketStart);
  put(d.basketCell);
  return out;
}

export function encodePartition(d: PartitionData): Buffer {
  return encodeWith(d, { fetchedAt: d.fetchedAt, closed: d.closed, version: d.version });
}

export class PartitionDecodeError extends Error {
  override name = 'PartitionDecodeError';
}

export function decodePartition(buf: Buffer): PartitionData {
  if (buf.length < 8 || buf.toString('latin1', 0, 4) !== MAGIC)
    throw new PartitionDecodeError('not a partition');
  const headerLength = buf.readUInt32LE(4);
  const header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as Header;
  const dataStart = Math.ceil((8 + headerLength) / 8) * 8;
  // Typed array views need 8-byte alignment. A Buffer of our own (embedded cache) is aligned and is
  // viewed in place, zero-copy; one from Redis may sit at any offset of a pool and is copied.
  const absolute = buf.byteOffset + dataStart;
  let backing: ArrayBuffer;
  let pos: number;
  if (absolute % 8 === 0) {
    backing = buf.buffer as ArrayBuffer;
    pos = absolute;
  } else {
    backing = new ArrayBuffer(buf.length - dataStart);
    new Uint8Array(backing).set(buf.subarray(dataStart));
    pos = 0;
  }
  const end = pos + (buf.length - dataStart);
  const f64 = (len: number) => {
    const a = new Float64Array(backing, pos, len);
    pos += len * 8;
    return a;
  };
  const i32 = (len: number) => {
    const a = new Int32Array(backing, pos, len);
    pos += len * 4;
    return a;
  };
  const n = header.cells;
  const [units, revenue, costKnown, unitsNoCost] = [f64(n), f64(n), f64(n), f64(n)];
  const [cellStore, cellProduct, lines, orders] = [i32(n), i32(n), i32(n), i32(n)];
  const basketStart = i32(header.orders + 1);
  const basketCell = i32(header.basket);
  if (pos !== end) throw new PartitionDecodeError('partition length does not match its header');
  const data: PartitionData = {
    day: header.day,
    fetchedAt: header.fetchedAt,
    closed: header.closed,
    lineCount: header.lineCount,
    offDayLines: header.offDayLines,
    storeIds: header.storeIds,
    productIds: header.productIds,
    cellStore,
    cellProduct,
    units,
    revenue,
    costKnown,
    unitsNoCost,
    lines,
    orders,
    basketStart,
    basketCell,
    version: header.version,
  };
  return data;
}

/** Approximate bytes held by a decoded partition (for the in-memory budget). */
export function partitionBytes(d: PartitionData): number {
  const n = d.cellStore.length;
  return (
    n * (4 * 8 + 4 * 4) +
    d.basketStart.byteLength +
    d.basketCell.byteLength +
    (d.storeIds.length + d.productIds.length) * 40 +
    512
  );
}
