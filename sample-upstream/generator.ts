/**
 * Deterministic synthetic retail data: stores, products, stock and sale lines.
 *
 * Sale lines are never all held in memory. A day's lines are a pure function of the seed, the
 * shape options (stores, products, linesPerDay), the time zone, the anomaly windows (anchored on
 * endDate) and the date itself: not of `days`, nor of any other date. The line count of a day is
 * drawn before its lines, so counting a window never requires generating it.
 */

import { formatDay, formatOffset, offsetOnDay, parseDay, todayIn, weekday } from '../src/lib/calendar.ts';
import {
  Catalogue,
  type Dataset,
  type DayBlock,
  emptyBlock,
  type Product,
  References,
  SalesBook,
  type SalesSource,
  StockBook,
  type StockItem,
  type Store,
} from './dataset.ts';

export interface GeneratorOptions {
  seed?: number;
  stores?: number;
  products?: number;
  days?: number;
  /** average sale lines per day over all stores; default 250 per store */
  linesPerDay?: number;
  /** last business day with data, YYYY-MM-DD; default today in `tz` */
  endDate?: string;
  tz?: string;
  /** how many generated days to keep (they are regenerated on demand) */
  dayCacheSize?: number;
}

export interface Anomalies {
  storeDrop: { storeId: number; from: string; to: string; factor: number };
  productSpike: { productId: string; from: string; to: string; factor: number };
  /** lines of this brand's products carry no unitCost */
  brandWithoutUnitCost: string;
  promoDiscount: number;
}

export interface GeneratedDataset extends Dataset {
  readonly kind: 'generated';
  readonly options: Required<Omit<GeneratorOptions, 'endDate'>> & { endDate: string; startDate: string };
  readonly anomalies: Anomalies;
  /**
   * the generated lines keep selling the catalogue as generated, whatever bulk upserts change
   * afterwards; lines added through POST /sales/bulk follow them
   */
  readonly sales: SalesBook<GeneratedSales>;
}

// ---------------------------------------------------------------------------------------------
// Randomness

/** murmur3's finaliser over a few 32-bit words: decorrelates per-day and per-purpose streams. */
export function hash32(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export type Rng = () => number;

/** mulberry32: tiny, fast and good enough for synthetic data. */
export function mulberry32(seed: number): Rng {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Stream tags, so that e.g. adding a draw to the stock never shifts the sales.
const TAG_STORES = 1;
const TAG_PRODUCTS = 2;
const TAG_STOCK = 3;
const TAG_DAY_COUNT = 4;
const TAG_DAY_LINES = 5;
const TAG_PROMOS = 6;
const TAG_ANOMALIES = 7;

/** Index of the first cumulative weight above u (cum is increasing, u < cum[last]). */
function pick(cum: Float64Array, u: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function cumulative(weights: ArrayLike<number>): Float64Array {
  const cum = new Float64Array(weights.length);
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    cum[i] = acc;
  }
  return cum;
}

// ---------------------------------------------------------------------------------------------
// Reference data

const CITIES: readonly [string, string][] = [
  ['Paris', 'Île-de-France'],
  ['Lyon', 'Auvergne-Rhône-Alpes'],
  ['Marseille', "Provence-Alpes-Côte d'Azur"],
  ['Toulouse', 'Occitanie'],
  ['Bordeaux', 'Nouvelle-Aquitaine'],
  ['Lille', 'Hauts-de-France'],
  ['Nantes', 'Pays de la Loire'],
  ['Strasbourg', 'Grand Est'],
  ['Rennes', 'Bretagne'],
  ['Nice', "Provence-Alpes-Côte d'Azur"],
  ['Montpellier', 'Occitanie'],
  ['Grenoble', 'Auvergne-Rhône-Alpes'],
  ['Dijon', 'Bourgogne-Franche-Comté'],
  ['Rouen', 'Normandie'],
  ['Tours', 'Centre-Val de Loire'],
  ['Reims', 'Grand Est'],
  ['Clermont-Ferrand', 'Auvergne-Rhône-Alpes'],
  ['Brest', 'Bretagne'],
  ['Caen', 'Normandie'],
  ['Orléans', 'Centre-Val de Loire'],
  ['Metz', 'Grand Est'],
  ['Besançon', 'Bourgogne-Franche-Comté'],
  ['Limoges', 'Nouvelle-Aquitaine'],
  ['Amiens', 'Hauts-de-France'],
  ['Angers', 'Pays de la Loire'],
  ['Nîmes', 'Occitanie'],
  ['Toulon', "Provence-Alpes-Côte d'Azur"],
  ['Saint-Étienne', 'Auvergne-Rhône-Alpes'],
  ['Le Havre', 'Normandie'],
  ['Ajaccio', 'Corse'],
];
const DISTRICTS = ['Centre', 'Nord', 'Sud', 'Est', 'Ouest', 'Gare', 'Port', 'Université'];

interface CategorySpec {
  name: string;
  code: string;
  minCents: number;
  maxCents: number;
  share: number;
  nouns: readonly string[];
}

const CATEGORIES: readonly CategorySpec[] = [
  {
    name: 'Grocery',
    code: 'GRO',
    minCents: 149,
    maxCents: 1990,
    share: 0.18,
    nouns: ['Olive Oil', 'Pasta', 'Coffee Beans', 'Jam', 'Honey', 'Rice', 'Biscuits', 'Tea'],
  },
  {
    name: 'Beverages',
    code: 'BEV',
    minCents: 149,
    maxCents: 3900,
    share: 0.12,
    nouns: ['Sparkling Water', 'Apple Juice', 'Cider', 'Lemonade', 'Syrup', 'Iced Tea'],
  },
  {
    name: 'Household',
    code: 'HOU',
    minCents: 199,
    maxCents: 2900,
    share: 0.1,
    nouns: ['Dish Soap', 'Sponges', 'Laundry Pods', 'Glass Cleaner', 'Bin Bags', 'Candles'],
  },
  {
    name: 'Beauty',
    code: 'BEA',
    minCents: 249,
    maxCents: 7900,
    share: 0.1,
    nouns: ['Shampoo', 'Hand Cream', 'Soap Bar', 'Face Serum', 'Shower Gel', 'Lip Balm'],
  },
  {
    name: 'Baby',
    code: 'BAB',
    minCents: 399,
    maxCents: 14900,
    share: 0.06,
    nouns: ['Diapers', 'Baby Wipes', 'Bottle', 'Bib', 'Teether', 'Sleep Bag'],
  },
  {
    name: 'Pets',
    code: 'PET',
    minCents: 199,
    maxCents: 8900,
    share: 0.07,
    nouns: ['Cat Food', 'Dog Treats', 'Litter', 'Pet Bed', 'Leash', 'Chew Toy'],
  },
  {
    name: 'Kitchen',
    code: 'KIT',
    minCents: 499,
    maxCents: 19900,
    share: 0.1,
    nouns: ['Chef Knife', 'Frying Pan', 'Cutting Board', 'Teapot', 'Mixing Bowl', 'Grater'],
  },
  {
    name: 'Electronics',
    code: 'ELE',
    minCents: 999,
    maxCents: 29900,
    share: 0.08,
    nouns: ['Headphones', 'USB Charger', 'Speaker', 'Power Bank', 'Desk Lamp', 'Cable'],
  },
  {
    name: 'Garden',
    code: 'GAR',
    minCents: 299,
    maxCents: 24900,
    share: 0.08,
    nouns: ['Seeds', 'Watering Can', 'Planter', 'Pruner', 'Potting Soil', 'Gloves'],
  },
  {
    name: 'Sports',
    code: 'SPO',
    minCents: 499,
    maxCents: 19900,
    share: 0.11,
    nouns: ['Yoga Mat', 'Water Bottle', 'Running Socks', 'Dumbbell', 'Jump Rope', 'Cap'],
  },
];

const BRANDS = [
  'Maison Verte',
  'Belle Rive',
  'Atelier Nord',
  'Bonjour Bio',
  'Clairval',
  'Petit Pont',
  'Solenne',
  'Vallon',
  'Ardoise',
  'Cocorico',
  'Lumière & Co',
  'Garance',
  'Mistral',
  'Bastide',
  'Azur Home',
  'Frimousse',
  'Tempo',
  'Kerlann',
  'Voltaire',
  'Orée',
  'Pic & Plume',
  "Saveurs d'Antan",
  'Hexa',
  'Brio Sport',
  'Jardin Secret',
];
/** its sale lines omit unitCost, so that clients exercise their fallback on the product cost */
const BRAND_WITHOUT_UNIT_COST = 'Petit Pont';
const ADJECTIVES = [
  'Classic',
  'Organic',
  'Premium',
  'Everyday',
  'Family',
  'Mini',
  'Pro',
  'Eco',
  'Fresh',
  'Soft',
];

/** Mon–Sun shape of demand, normalised to a mean of 1 below; Saturday is the busiest day. */
const WEEKDAY_RAW = [1.15, 0.82, 0.86, 0.94, 0.96, 1.12, 1.45]; // Sunday first
const WEEKDAY = WEEKDAY_RAW.map((w) => (w * 7) / WEEKDAY_RAW.reduce((a, b) => a + b, 0));

/** room for the per-day pieces of a line, and for the receipt part of a line, in the arena */
const DAY_PIECES = 128;
const HEAD_MAX = 128;

const PROMO_DISCOUNT = 0.2;
const PROMO_LIFT = 2.5;
const SPIKE_FACTOR = 5;
const DROP_FACTOR = 0.3;
const YEARLY_GROWTH = 1.1;
const DEC_21 = parseDay('2000-12-21')!;
const LINE_ID = /^(\d{4})(\d{2})(\d{2})-([1-9]\d{0,8})$/;

/** Receipt sizes 1..6 and quantities 1..6: mostly one. */
const LINES_PER_RECEIPT = cumulative([0.5, 0.27, 0.13, 0.06, 0.03, 0.01]);
const QUANTITIES = cumulative([0.78, 0.13, 0.05, 0.02, 0.01, 0.01]);

/** Opening minutes 08:30–20:30, with a lunch and an after-work peak. */
const OPEN_MINUTE = 8 * 60 + 30;
const MINUTE_CUM = cumulative(
  Array.from({ length: 12 * 60 }, (_, i) => {
    const h = (OPEN_MINUTE + i) / 60;
    return 0.6 + Math.exp(-(((h - 12.5) / 1.1) ** 2)) + 1.3 * Math.exp(-(((h - 18) / 1.2) ** 2));
  }),
);

function retailCents(raw: number): number {
  // Shelf prices end in 9: 3.49, 12.99, 149.00 → 149.99 rounded to 9 euros for big tickets.
  if (raw < 1000) return Math.max(99, Math.round(raw / 10) * 10 - 1);
  if (raw < 10000) return Math.round(raw / 50) * 50 - 1;
  return Math.round(raw / 1000) * 1000 - 100;
}

function centsToJson(cents: number): string {
  return String(cents / 100);
}

// ---------------------------------------------------------------------------------------------

interface Promo {
  product: number;
  from: number;
  to: number;
}

export class GeneratedSales implements SalesSource {
  readonly firstDay: number;
  readonly lastDay: number;
  private readonly counts: Int32Array;
  private readonly cache = new Map<number, DayBlock>();
  /**
   * Scratch memory of `generate`: the constant pieces of lines followed by the output area, in one
   * buffer so that every copy is a copyWithin (by far the cheapest small copy in V8). Layout:
   * product tails | store ids | per-day pieces | receipt head | output.
   * Tail t = 12 product + 6 promo + quantity - 1 spans [tailStart[t], tailStart[t + 1]).
   */
  private arena: Buffer;
  private readonly tailStart: Int32Array;
  private readonly maxTail: number;
  private readonly storeStart: Int32Array;
  private readonly dayBase: number;
  private readonly headBase: number;
  private readonly outBase: number;
  private readonly productCum: Float64Array;
  private readonly productWeight: Float64Array;
  private readonly storeCum: Float64Array;
  private readonly storeCumDrop: Float64Array;
  private readonly dropMult: number;
  private readonly promoFlag: Uint8Array;

  constructor(
    private readonly seed: number,
    private readonly tz: string,
    private readonly linesPerDay: number,
    firstDay: number,
    lastDay: number,
    stores: readonly Store[],
    storeScale: Float64Array,
    readonly productIds: readonly string[],
    priceCents: Int32Array,
    costCents: Int32Array,
    noUnitCost: Uint8Array,
    popularity: Float64Array,
    private readonly drop: { store: number; from: number; to: number },
    private readonly spike: { product: number; from: number; to: number },
    private readonly cacheSize: number,
  ) {
    this.firstDay = firstDay;
    this.lastDay = lastDay;
    this.counts = new Int32Array(Math.max(0, lastDay - firstDay + 1)).fill(-1);
    this.storeCum = cumulative(storeScale);
    const dropped = Float64Array.from(storeScale);
    dropped[drop.store] = dropped[drop.store]! * DROP_FACTOR;
    this.storeCumDrop = cumulative(dropped);
    this.dropMult = this.storeCumDrop.at(-1)! / this.storeCum.at(-1)!;
    this.productWeight = popularity;
    this.productCum = cumulative(popularity);
    this.promoFlag = new Uint8Array(productIds.length);

    const tails: string[] = [];
    for (let p = 0; p < productIds.length; p++) {
      const cost = noUnitCost[p] ? '' : `,"unitCost":${centsToJson(costCents[p]!)}`;
      const regular = priceCents[p]!;
      const promo = Math.round(regular * (1 - PROMO_DISCOUNT));
      for (const unit of [regular, promo]) {
        for (let q = 1; q <= 6; q++) {
          tails.push(
            `,"productId":"${productIds[p]}","quantity":${q},"unitPrice":${centsToJson(unit)},` +
              `"amount":${centsToJson(unit * q)}${cost}}`,
          );
        }
      }
    }
    const storeIds = stores.map((s) => String(s.id));
    const constants = tails.join('') + storeIds.join('');
    this.tailStart = new Int32Array(tails.length + 1);
    let maxTail = 0;
    tails.forEach((t, i) => {
      this.tailStart[i + 1] = this.tailStart[i]! + t.length;
      maxTail = Math.max(maxTail, t.length);
    });
    this.maxTail = maxTail;
    this.storeStart = new Int32Array(storeIds.length + 1);
    this.storeStart[0] = this.tailStart[tails.length]!;
    storeIds.forEach((id, i) => {
      this.storeStart[i + 1] = this.storeStart[i]! + id.length;
    });
    this.dayBase = constants.length;
    this.headBase = this.dayBase + DAY_PIECES;
    this.outBase = this.headBase + HEAD_MAX;
    this.arena = Buffer.alloc(this.outBase);
    this.arena.write(constants, 0, 'latin1');
  }

  /** Promotions of the (Monday-based) week holding `day`, each a few days long. */
  promosOn(day: number): Promo[] {
    const week = Math.floor((day + 3) / 7);
    const monday = week * 7 - 3;
    const rng = mulberry32(hash32(this.seed, TAG_PROMOS, week));
    const n = Math.max(1, Math.round(this.productIds.length * 0.01));
    const out: Promo[] = [];
    for (let i = 0; i < n; i++) {
      const product = Math.floor(rng() * this.productIds.length);
      const start = Math.floor(rng() * 3);
      const len = 4 + Math.floor(rng() * 4);
      const from = monday + start;
      const to = Math.min(monday + 6, from + len - 1);
      if (day >= from && day <= to && !out.some((p) => p.product === product))
        out.push({ product, from, to });
    }
    return out;
  }

  /** Products whose demand is boosted on `day`, with the weight added to their base popularity. */
  private boosts(day: number): { products: number[]; extra: Float64Array; promos: Promo[] } {
    const promos = this.promosOn(day);
    const factor = new Map<number, number>();
    for (const p of promos) factor.set(p.product, PROMO_LIFT);
    if (day >= this.spike.from && day <= this.spike.to) {
      factor.set(this.spike.product, (factor.get(this.spike.product) ?? 1) * SPIKE_FACTOR);
    }
    const products = [...factor.keys()];
    const extra = cumulative(products.map((p) => this.productWeight[p]! * (factor.get(p)! - 1)));
    return { products, extra, promos };
  }

  private isDropDay(day: number): boolean {
    return day >= this.drop.from && day <= this.drop.to;
  }

  /** Line ids are `YYYYMMDD-n`, n in 1..count(day): checking one costs a count, never a day's lines. */
  hasLine(id: string): boolean {
    const m = LINE_ID.exec(id);
    if (!m) return false;
    const day = parseDay(`${m[1]}-${m[2]}-${m[3]}`);
    return day !== undefined && Number(m[4]) <= this.count(day);
  }

  count(day: number): number {
    if (day < this.firstDay || day > this.lastDay) return 0;
    const i = day - this.firstDay;
    const memo = this.counts[i]!;
    if (memo >= 0) return memo;
    const n = this.drawCount(day);
    this.counts[i] = n;
    return n;
  }

  /** The expected volume follows weekday, trend, season and anomalies; the draw adds ~4 % noise. */
  private drawCount(day: number): number {
    const rng = mulberry32(hash32(this.seed, TAG_DAY_COUNT, day));
    const trend = YEARLY_GROWTH ** ((day - (this.lastDay - 365)) / 365);
    const season = 1 + 0.06 * Math.cos((2 * Math.PI * (day - DEC_21)) / 365.2425);
    const stores = this.isDropDay(day) ? this.dropMult : 1;
    const { extra } = this.boosts(day);
    const products = (this.productCum.at(-1)! + (extra.at(-1) ?? 0)) / this.productCum.at(-1)!;
    const noise = 1 + 0.08 * (rng() + rng() + rng() - 1.5);
    const expected = this.linesPerDay * WEEKDAY[weekday(day)]! * trend * season * stores * products;
    return Math.max(0, Math.round(expected * noise));
  }

  block(day: number): DayBlock {
    const hit = this.cache.get(day);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order.
      this.cache.delete(day);
      this.cache.set(day, hit);
      return hit;
    }
    const block = this.generate(day);
    this.cache.set(day, block);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return block;
  }

  /**
   * Writes the day's lines straight into bytes: pieces prepared per day, per receipt and per
   * product are copied, numbers are written digit by digit; no string is built per line.
   */
  private generate(day: number): DayBlock {
    const n = this.count(day);
    if (n === 0) return emptyBlock();
    const rng = mulberry32(hash32(this.seed, TAG_DAY_LINES, day));
    const storeCum = this.isDropDay(day) ? this.storeCumDrop : this.storeCum;
    const storeTotal = storeCum.at(-1)!;
    const { products: boosted, extra, promos } = this.boosts(day);
    const baseTotal = this.productCum.at(-1)!;
    const productTotal = baseTotal + (extra.at(-1) ?? 0);
    for (const p of promos) this.promoFlag[p.product] = 1;
    const { tailStart, storeStart, promoFlag, productCum, headBase, outBase } = this;
    const minuteTotal = MINUTE_CUM.at(-1)!;

    const maxLine = 16 + 10 + HEAD_MAX + this.maxTail + 1;
    if (this.arena.length < outBase + n * maxLine) {
      const grown = Buffer.allocUnsafe(outBase + Math.ceil(n * 1.25) * maxLine);
      this.arena.copy(grown, 0, 0, outBase);
      this.arena = grown;
    }
    const a = this.arena;
    const date = formatDay(day);
    const key = date.replaceAll('-', '');
    // The per-day pieces, one after the other from dayBase.
    const idAt = this.dayBase;
    const orderAt = idAt + a.write(`{"id":"${key}-`, idAt, 'latin1');
    const dateAt = orderAt + a.write(`","orderId":"${key}-R`, orderAt, 'latin1');
    const offsetAt = dateAt + a.write(`","soldAt":"${date}T`, dateAt, 'latin1');
    const piecesEnd =
      offsetAt + a.write(`${formatOffset(offsetOnDay(day, this.tz))}","storeId":`, offsetAt, 'latin1');

    const starts = new Int32Array(n + 1);
    let pos = outBase;
    let i = 0;
    let receipt = 0;
    while (i < n) {
      receipt++;
      const size = Math.min(n - i, pick(LINES_PER_RECEIPT, rng()) + 1);
      const store = pick(storeCum, rng() * storeTotal);
      // Times follow line order, so the day's lines come out chronologically.
      const u = ((i + rng()) / n) * minuteTotal;
      const minute = pick(MINUTE_CUM, u);
      const before = minute === 0 ? 0 : MINUTE_CUM[minute - 1]!;
      const frac = (u - before) / (MINUTE_CUM[minute]! - before);
      const second = (OPEN_MINUTE + minute) * 60 + Math.min(59, Math.floor(frac * 60));
      // The receipt's share of each line: orderId, soldAt, storeId.
      a.copyWithin(headBase, orderAt, dateAt);
      let h = writeUint(a, headBase + dateAt - orderAt, receipt);
      a.copyWithin(h, dateAt, offsetAt);
      h = writeTime(a, h + offsetAt - dateAt, second);
      a.copyWithin(h, offsetAt, piecesEnd);
      h += piecesEnd - offsetAt;
      a.copyWithin(h, storeStart[store]!, storeStart[store + 1]!);
      h += storeStart[store + 1]! - storeStart[store]!;
      for (let k = 0; k < size; k++) {
        const up = rng() * productTotal;
        const product = up < baseTotal ? pick(productCum, up) : boosted[pick(extra, up - baseTotal)]!;
        const tail = product * 12 + promoFlag[product]! * 6 + pick(QUANTITIES, rng());
        if (i > 0) a[pos++] = 44; // ','
        starts[i] = pos - outBase;
        i++;
        a.copyWithin(pos, idAt, orderAt);
        pos = writeUint(a, pos + orderAt - idAt, i);
        a.copyWithin(pos, headBase, h);
        pos += h - headBase;
        const t0 = tailStart[tail]!;
        const t1 = tailStart[tail + 1]!;
        a.copyWithin(pos, t0, t1);
        pos += t1 - t0;
      }
    }
    starts[n] = pos - outBase + 1;
    for (const p of promos) this.promoFlag[p.product] = 0;
    return { bytes: Buffer.from(a.subarray(outBase, pos)), starts, count: n };
  }
}

function writeUint(dst: Uint8Array, pos: number, value: number): number {
  let len = 1;
  for (let x = value; x >= 10; x = (x / 10) | 0) len++;
  let p = pos + len;
  let x = value;
  do {
    dst[--p] = 48 + (x % 10);
    x = (x / 10) | 0;
  } while (x > 0);
  return pos + len;
}

/** HH:MM:SS of a second of the day. */
function writeTime(dst: Uint8Array, pos: number, second: number): number {
  const hh = (second / 3600) | 0;
  const mm = ((second / 60) | 0) % 60;
  const ss = second % 60;
  dst[pos] = 48 + ((hh / 10) | 0);
  dst[pos + 1] = 48 + (hh % 10);
  dst[pos + 2] = 58;
  dst[pos + 3] = 48 + ((mm / 10) | 0);
  dst[pos + 4] = 48 + (mm % 10);
  dst[pos + 5] = 58;
  dst[pos + 6] = 48 + ((ss / 10) | 0);
  dst[pos + 7] = 48 + (ss % 10);
  return pos + 8;
}

// ---------------------------------------------------------------------------------------------

export function generateDataset(opts: GeneratorOptions = {}): GeneratedDataset {
  const seed = opts.seed ?? 42;
  const storeCount = opts.stores ?? 12;
  const productCount = opts.products ?? 400;
  const days = opts.days ?? 730;
  const linesPerDay = opts.linesPerDay ?? 250 * storeCount;
  const tz = opts.tz ?? 'Europe/Paris';
  const endDay = opts.endDate !== undefined ? parseDay(opts.endDate) : todayIn(tz);
  if (endDay === undefined) throw new Error(`endDate must be a date as YYYY-MM-DD, got ${opts.endDate}`);
  for (const [name, value, min] of [
    ['stores', storeCount, 1],
    ['products', productCount, 1],
    ['days', days, 0],
    ['linesPerDay', linesPerDay, 0],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min) {
      throw new Error(`${name} must be an integer ≥ ${min}, got ${value}`);
    }
  }
  const firstDay = endDay - days + 1;
  const seedLo = seed >>> 0;
  const seedWord = hash32(seedLo, Math.floor(seed / 2 ** 32));
  const avgLineBytes = 190;
  const dayCacheSize =
    opts.dayCacheSize ??
    Math.max(4, Math.min(64, Math.floor(64e6 / Math.max(1, linesPerDay * avgLineBytes))));

  // Stores: bigger teams sell more.
  const srng = mulberry32(hash32(seedWord, TAG_STORES));
  const stores: Store[] = [];
  const storeScale = new Float64Array(storeCount);
  for (let i = 0; i < storeCount; i++) {
    const [city, region] = CITIES[i % CITIES.length]!;
    const round = Math.floor(i / CITIES.length);
    const district =
      round < DISTRICTS.length ? DISTRICTS[round]! : `${DISTRICTS[round % DISTRICTS.length]} ${round}`;
    // The first cities of the list are the big ones: their stores get the bigger teams.
    const r = srng();
    const employees = 5 + Math.floor(55 * (i < 6 ? 0.45 + 0.55 * r : r ** 1.3));
    stores.push({ id: i + 1, name: `${city} ${district}`, city, region, employees });
    storeScale[i] = (employees / 20) ** 0.8 * Math.exp(0.15 * (srng() - 0.5));
  }

  // Products: category mix, log-uniform prices, Zipf-like popularity over a shuffled rank.
  const prng = mulberry32(hash32(seedWord, TAG_PRODUCTS));
  const categoryCum = cumulative(CATEGORIES.map((c) => c.share));
  const brandsOf = CATEGORIES.map((_, ci) =>
    BRANDS.filter((_, bi) => bi % 10 === ci || (bi + 3) % 10 === ci),
  );
  const products: Product[] = [];
  const productIds: string[] = [];
  const priceCents = new Int32Array(productCount);
  const costCents = new Int32Array(productCount);
  const noUnitCost = new Uint8Array(productCount);
  for (let i = 0; i < productCount; i++) {
    const ci = pick(categoryCum, prng() * categoryCum.at(-1)!);
    const cat = CATEGORIES[ci]!;
    const brands = brandsOf[ci]!;
    const brand = brands[Math.floor(prng() * brands.length)]!;
    const noun = cat.nouns[Math.floor(prng() * cat.nouns.length)]!;
    const adjective = ADJECTIVES[Math.floor(prng() * ADJECTIVES.length)]!;
    const raw = cat.minCents * (cat.maxCents / cat.minCents) ** prng();
    const price = Math.min(cat.maxCents, Math.max(cat.minCents, retailCents(raw)));
    const cost = Math.round(price * (0.4 + 0.35 * prng()));
    const id = `P${String(i + 1).padStart(5, '0')}`;
    productIds.push(id);
    priceCents[i] = price;
    costCents[i] = cost;
    noUnitCost[i] = brand === BRAND_WITHOUT_UNIT_COST ? 1 : 0;
    products.push({
      id,
      sku: `${cat.code}-${String(i + 1).padStart(6, '0')}`,
      name: `${brand} ${adjective} ${noun}`,
      category: cat.name,
      brand,
      price: price / 100,
      cost: cost / 100,
    });
  }
  const rank = Array.from({ length: productCount }, (_, i) => i);
  for (let i = productCount - 1; i > 0; i--) {
    const j = Math.floor(prng() * (i + 1));
    [rank[i], rank[j]] = [rank[j]!, rank[i]!];
  }
  const popularity = new Float64Array(productCount);
  for (let i = 0; i < productCount; i++) popularity[i] = 1 / (rank[i]! + 1) ** 1.05;

  // Anomalies sit in the last 60 days before endDate, where a dashboard looks.
  const arng = mulberry32(hash32(seedWord, TAG_ANOMALIES));
  const dropStore = Math.floor(arng() * storeCount);
  const dropFrom = endDay - 50 + Math.floor(arng() * 20);
  const spikeRank = Math.min(productCount - 1, 10 + Math.floor(arng() * 30));
  const spikeProduct = rank.indexOf(spikeRank);
  const spikeFrom = endDay - 28 + Math.floor(arng() * 14);
  const drop = { store: dropStore, from: dropFrom, to: dropFrom + 6 };
  const spike = { product: spikeProduct, from: spikeFrom, to: spikeFrom + 3 };

  // Stock for every (store, product): mostly comfortable, some low, a few out, two negative.
  const krng = mulberry32(hash32(seedWord, TAG_STOCK));
  const stock: StockItem[] = [];
  for (let s = 0; s < storeCount; s++) {
    for (let p = 0; p < productCount; p++) {
      const reorderLevel = 2 + Math.floor(krng() * 8) + (rank[p]! < productCount / 10 ? 10 : 0);
      const r = krng();
      const quantity =
        r < 0.03
          ? 0
          : r < 0.13
            ? 1 + Math.floor(krng() * reorderLevel)
            : reorderLevel + 1 + Math.floor(krng() * reorderLevel * 5);
      stock.push({ storeId: s + 1, productId: productIds[p]!, quantity, reorderLevel });
    }
  }
  for (const [k, q] of [
    [0.37, -1],
    [0.71, -3],
  ] as const) {
    const item = stock[Math.floor(k * stock.length)];
    if (item) item.quantity = q;
  }

  const generated = new GeneratedSales(
    seedWord,
    tz,
    linesPerDay,
    firstDay,
    endDay,
    stores,
    storeScale,
    productIds,
    priceCents,
    costCents,
    noUnitCost,
    popularity,
    drop,
    spike,
    dayCacheSize,
  );

  const startDate = formatDay(firstDay);
  const endDate = formatDay(endDay);
  const anomalies: Anomalies = {
    storeDrop: {
      storeId: dropStore + 1,
      from: formatDay(drop.from),
      to: formatDay(drop.to),
      factor: DROP_FACTOR,
    },
    productSpike: {
      productId: productIds[spikeProduct]!,
      from: formatDay(spike.from),
      to: formatDay(spike.to),
      factor: SPIKE_FACTOR,
    },
    brandWithoutUnitCost: BRAND_WITHOUT_UNIT_COST,
    promoDiscount: PROMO_DISCOUNT,
  };

  const catalogue = new Catalogue(products);
  const references = new References(stores, catalogue);
  const sales = new SalesBook(generated, tz, references);

  return {
    kind: 'generated',
    tz,
    stores,
    stock: new StockBook(stock, references),
    catalogue,
    sales,
    anomalies,
    options: {
      seed,
      stores: storeCount,
      products: productCount,
      days,
      linesPerDay,
      endDate,
      startDate,
      tz,
      dayCacheSize,
    },
    summary() {
      let total = 0;
      for (let d = sales.firstDay; d <= sales.lastDay; d++) total += sales.count(d);
      return (
        `generated data (seed ${seed}): ${storeCount} stores, ${productCount} products, ` +
        `${total.toLocaleString('en-US')} sale lines over ${days} days ${startDate}..${endDate} (${tz})`
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// What was injected, for tests and benchmarks that measure detection (never served).

export type InjectedEvent =
  | { kind: 'store_drop'; storeId: string; from: string; to: string; factor: number }
  | { kind: 'product_spike'; productId: string; from: string; to: string; factor: number }
  /** 20 % off and 2.5 × the demand: expected business, announced by a price cut */
  | { kind: 'promotion'; productId: string; from: string; to: string; factor: number };

/** The store drop, the product spike and every promotion of the data range, by start day. */
export function injectedEvents(dataset: GeneratedDataset): InjectedEvent[] {
  const a = dataset.anomalies;
  const sales = dataset.sales.base;
  const out: InjectedEvent[] = [
    {
      kind: 'store_drop',
      storeId: String(a.storeDrop.storeId),
      from: a.storeDrop.from,
      to: a.storeDrop.to,
      factor: a.storeDrop.factor,
    },
    {
      kind: 'product_spike',
      productId: a.productSpike.productId,
      from: a.productSpike.from,
      to: a.productSpike.to,
      factor: a.productSpike.factor,
    },
  ];
  // promosOn answers for the whole (Monday-based) week of its day.
  let monday = sales.firstDay;
  while (weekday(monday) !== 1) monday--;
  for (let day = monday; day <= sales.lastDay; day += 7) {
    const seen = new Set<number>();
    for (let d = day; d < day + 7; d++)
      for (const p of sales.promosOn(d)) {
        if (seen.has(p.product) || p.to < sales.firstDay || p.from > sales.lastDay) continue;
        seen.add(p.product);
        out.push({
          kind: 'promotion',
          productId: sales.productIds[p.product]!,
          from: formatDay(p.from),
          to: formatDay(p.to),
          factor: PROMO_LIFT,
        });
      }
  }
  return out.sort((x, y) => x.from.localeCompare(y.from) || x.kind.localeCompare(y.kind));
}
