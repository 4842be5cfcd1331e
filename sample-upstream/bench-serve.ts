/**
 * How many sale lines per second the sample upstream serves over HTTP. The server runs in a child
 * process (as it would next to the service), the client here pulls consecutive pages with undici
 * and, unless --no-parse, JSON.parses them as a real client would.
 *
 *   node --import tsx sample-upstream/bench-serve.ts [--lines 3000000] [--page-size 5000]
 *        [--concurrency 4] [--no-parse] [-- extra server flags]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values, positionals } = parseArgs({
  options: {
    lines: { type: 'string', default: '3000000' },
    'page-size': { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '4' },
    'no-parse': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const wanted = Number(values.lines);
const size = Number(values['page-size']);
const concurrency = Number(values.concurrency);
const serverArgs = positionals.length
  ? positionals
  : [
      '--stores',
      '50',
      '--products',
      '2000',
      '--days',
      '730',
      '--lines-per-day',
      '14000',
      '--end-date',
      '2026-03-31',
    ];

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', ...serverArgs], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const lines = createInterface({ input: child.stdout! });
let url = '';
for await (const line of lines) {
  console.log(`server: ${line}`);
  const m = /listening on (\S+)/.exec(line);
  if (m) url = m[1]!;
  if (url && !line.includes('listening')) break;
}
if (!url) throw new Error('the server did not start');

const base = new URL(url);
const pool = new Pool(base.origin, { connections: concurrency, pipelining: 1 });
const from = '2000-01-01';
const to = '2100-12-31';

async function fetchPage(page: number): Promise<{ count: number; bytes: number; last: boolean }> {
  const res = await pool.request({
    method: 'GET',
    path: `${base.pathname.replace(/\/$/, '')}/sales?from=${from}&to=${to}&page=${page}&size=${size}`,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`page ${page}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  if (values['no-parse'])
    return { count: Math.min(size, wanted - page * size), bytes: text.length, last: false };
  const json = JSON.parse(text) as { content: unknown[]; last: boolean };
  return { count: json.content.length, bytes: text.length, last: json.last };
}

// Warm-up: one page, which also computes the day counts of the whole window.
await fetchPage(0);
const pages = Math.ceil(wanted / size);
let next = 1;
let total = 0;
let bytes = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next <= pages) {
      const r = await fetchPage(next++);
      total += r.count;
      bytes += r.bytes;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
console.log(
  `${total.toLocaleString('en-US')} lines in ${seconds.toFixed(2)} s: ` +
    `${Math.round(total / seconds).toLocaleString('en-US')} lines/s, ${(bytes / seconds / 1e6).toFixed(1)} MB/s ` +
    `(page size ${size}, ${concurrency} connections, ${values['no-parse'] ? 'no parsing' : 'JSON.parse'})`,
);
await pool.close();
child.kill('SIGTERM');
await once(child, 'exit');
