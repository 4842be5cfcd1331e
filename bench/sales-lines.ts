/**
 * Throughput and memory of the streamed sales-lines export, on synthetic lines in pages of 5,000.
 * Usage: npm run bench:sales-lines -- [xlsx|csv] [lines] [level]
 * Run one format per process: the peak RSS reported is the process's own.
 */
import { createWriteStream } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wallClockFormatter } from '../src/lib/calendar.ts';
import type { UpstreamSaleLine } from '../src/models/upstream.ts';
import {
  type SalesLineLabels,
  writeSalesLinesCsv,
  writeSalesLinesXlsx,
} from '../src/services/reports/xlsx/sales-lines.ts';

const format = process.argv[2] === 'csv' ? 'csv' : 'xlsx';
const total = Number(process.argv[3] ?? 1_000_000);
const level = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const PAGE = 5_000;

const stores = Array.from({ length: 40 }, (_, i) => ({
  name: `Store ${i} – Île-de-France`,
  region: `Region ${i % 6}`,
}));
const products = Array.from({ length: 3_000 }, (_, i) => ({
  sku: `SKU-${String(i).padStart(6, '0')}`,
  name: `Product ${i} (café crème, 250 g)`,
  category: `Category ${i % 25}`,
  brand: `Brand ${i % 120}`,
}));
const labels: SalesLineLabels = {
  store: (id) => stores[Number(id)],
  product: (id) => products[Number(id)],
  businessDay: (soldAt) => soldAt.slice(0, 10),
  wallClock: wallClockFormatter('Europe/Paris'),
};

async function* pages(): AsyncGenerator<UpstreamSaleLine[]> {
  const start = Date.UTC(2026, 0, 1);
  for (let done = 0; done < total; done += PAGE) {
    const page: UpstreamSaleLine[] = [];
    for (let i = done; i < Math.min(total, done + PAGE); i++) {
      const qty = (i % 7) + 1;
      const price = 1.5 + (i % 400) / 4;
      page.push({
        id: String(10_000_000 + i),
        orderId: String(5_000_000 + Math.floor(i / 3)),
        soldAt: new Date(start + i * 3_000).toISOString().replace('Z', '+00:00'),
        storeId: String(i % 40),
        productId: String(i % 3_000),
        quantity: qty,
        unitPrice: price,
        amount: Math.round(qty * price * 100) / 100,
        unitCost: i % 10 === 0 ? null : Math.round(price * 60) / 100,
      });
    }
    // a page arrives from the network: let the event loop turn
    await new Promise((resolve) => setImmediate(resolve));
    yield page;
  }
}

/**
 * CPU seconds of the main thread and of the other threads (zlib's thread pool…), from Linux's
 * /proc: on a busy machine the wall time says more about the neighbours than about the writer.
 */
async function threadCpu(): Promise<{ main: number; others: Map<string, number> } | undefined> {
  try {
    const tick = 100; // USER_HZ
    let main = 0;
    const others = new Map<string, number>();
    for (const tid of await readdir('/proc/self/task')) {
      const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat
        .slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
        .replace(/\d+$/, '')
        .trim();
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / tick;
      if (tid === String(process.pid)) main += seconds;
      else others.set(name, (others.get(name) ?? 0) + seconds);
    }
    return { main, others };
  } catch {
    return undefined;
  }
}

const file = join(tmpdir(), `bench-sales-lines-${process.pid}.${format}`);
const out = createWriteStream(file);
const t0 = performance.now();
const { rows } =
  format === 'csv'
    ? await writeSalesLinesCsv(pages(), labels, out, { delimiter: ';' })
    : await writeSalesLinesXlsx(
        pages(),
        labels,
        out,
        {
          title: 'Sales lines',
          from: '2026-01-01',
          to: '2026-02-04',
          producedAt: '2026-02-05T00:00:00Z',
          businessTz: 'UTC',
        },
        { compressionLevel: level },
      );
const seconds = (performance.now() - t0) / 1000;
const size = (await stat(file)).size;
await rm(file, { force: true });
const peakMb = process.resourceUsage().maxRSS / 1024;
const cpu = await threadCpu();
console.log(
  `${format}${level === undefined ? '' : ` level ${level}`}: ${rows} rows in ${seconds.toFixed(2)} s = ` +
    `${Math.round(rows / seconds)} rows/s, file ${(size / 1e6).toFixed(1)} MB, peak RSS ${Math.round(peakMb)} MB` +
    (cpu
      ? `; CPU s: main thread ${cpu.main.toFixed(2)}, ` +
        [...cpu.others].map(([name, s]) => `${name} ${s.toFixed(2)}`).join(', ')
      : ''),
);
