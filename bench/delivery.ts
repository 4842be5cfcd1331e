/**
 * npm run bench:delivery [-- --recipients 500 --slices 50 --rounds 3]
 *
 * One daily report fanned out to 500 e-mail recipients across 50 store slices (10 store managers
 * per store), through a real local SMTP server (smtp-server), by the app's own run path: the job,
 * the freshness check, one document and one PDF per slice, the ledger claim and one SMTP session per
 * recipient. Each round sends another day, so every round really sends.
 * Baseline, same process: the same 500 messages sent straight through the e-mail channel (no
 * analytics, no render, no ledger): the transport's own cost.
 * Prints the median run time (floor <= 60 s on 2 cores), renders per run (must equal the slices),
 * peak RSS, and a second run of an already-sent period (must send 0 messages).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { createSampleUpstream } from '../sample-upstream/server.ts';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createEmailChannel } from '../src/services/delivery/channels/email-channel.ts';
import { smtpTargetFromUrl } from '../src/services/delivery/channels/smtp-send.ts';
import { parseBenchArgs } from './lib/args.ts';
import { memorySampler } from './lib/measure.ts';
import { benchSqliteFile, codeVersion, load1, machineFacts, verdict } from './lib/run-facts.ts';
import { median, mib, ms, table } from './lib/stats.ts';

const USAGE = `npm run bench:delivery [-- --recipients N --slices N --rounds N]
  --recipients   e-mail recipients (default 500; --quick: 100)
  --slices       store slices they are spread over (default 50; --quick: 10)
  --rounds       measured runs, each on another day (default 3)`;
const args = parseBenchArgs('bench:delivery', USAGE, ['recipients', 'slices', 'rounds']);
const recipientsN = args.num('recipients', args.quick ? 100 : 500, 1);
const slicesN = args.num('slices', args.quick ? 10 : 50, 1);
const rounds = args.num('rounds', 3, 1);
const FLOOR_MS = 60_000;
const KEY = 'bench-admin-key-000001';

const scratch = mkdtempSync(join(tmpdir(), 'salesflow-bench-delivery-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

let received = 0;
const smtp = new SMTPServer({
  logger: false,
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  onData(stream, _s, cb) {
    stream.on('data', () => {});
    stream.on('end', () => {
      received++;
      cb(null);
    });
  },
});
await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
const smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;

const upstream = await createSampleUpstream({
  port: 0,
  seed: 11,
  stores: slicesN,
  products: 200,
  days: 30 + rounds + 2,
  linesPerDay: 2_000,
  endDate: '2026-06-14',
  logger: false,
});
const app = await buildApp(
  loadConfig({
    UPSTREAM_URL: upstream.url,
    ANALYTICS_TODAY: '2026-06-15',
    API_KEYS: `${KEY}:admin`,
    LOG_LEVEL: 'silent',
    DATABASE_URL: benchSqliteFile(),
    EXPORTS_DIR: join(scratch, 'exports'),
    SMTP_URL: smtpUrl,
    REPORT_LINK_SECRET: 'b'.repeat(40),
    SCHEDULER_ENABLED: 'false',
  }),
  { logger: false },
);
await app.ready();
const headers = { 'x-api-key': KEY };

const stores = (await app.inject({ url: '/api/v1/catalog/stores?limit=500', headers })).json().items as {
  id: string | number;
}[];
const recipients = Array.from({ length: recipientsN }, (_, i) => ({
  channel: 'email',
  address: `manager-${i}@stores.example.com`,
  name: `Manager ${i}`,
  slice: { storeId: String(stores[i % Math.min(slicesN, stores.length)]!.id) },
}));
const created = await app.inject({
  method: 'POST',
  url: '/api/v1/schedules',
  headers,
  payload: {
    name: 'Store managers',
    report: { type: 'daily', format: 'pdf' },
    cron: '0 7 * * *',
    recipients,
  },
});
if (created.statusCode !== 201) throw new Error(created.body);
const scheduleId = created.json().id as string;

const renders = async () => (await app.services.metrics.deliveryRenders.get()).values[0]?.value ?? 0;

async function run(period: string) {
  const r0 = await renders();
  const m0 = received;
  const t = performance.now();
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/schedules/${scheduleId}/run`,
    headers,
    payload: { period },
  });
  if (res.statusCode !== 202) throw new Error(res.body);
  const url = res.json().statusUrl as string;
  for (;;) {
    const s = (await app.inject({ url, headers })).json();
    if (s.state && s.state !== 'working') {
      return {
        ms: performance.now() - t,
        state: s.state as string,
        renders: (await renders()) - r0,
        sent: received - m0,
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Warm-up: the partitions of the days read, the render pool, the SMTP path.
await run('2026-06-06');

// Baseline: the same number of messages straight through the channel.
const channel = createEmailChannel({
  smtp: smtpTargetFromUrl(smtpUrl),
  from: 'SalesFlow <reports@salesflow.local>',
  exportsDir: scratch,
  attachmentMaxBytes: 10 * 1024 * 1024,
  timeoutMs: 30_000,
});
const baseline: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t = performance.now();
  for (let i = 0; i < recipientsN; i += 8) {
    await Promise.all(
      recipients.slice(i, i + 8).map((rc, j) =>
        channel.send(
          {
            key: `baseline:${r}:${i + j}`,
            recipient: { address: rc.address },
            subject: 'Baseline',
            headline: [],
            text: 'baseline',
            files: [],
            attach: 'auto',
          },
          { signal: AbortSignal.timeout(30_000) },
        ),
      ),
    );
  }
  baseline.push(performance.now() - t);
}

const sampler = memorySampler();
const results = [];
for (let r = 0; r < rounds; r++) results.push(await run(`2026-06-${String(10 + r).padStart(2, '0')}`));
const peak = sampler.stop();
const repeat = await run('2026-06-10');

const runMedian = median(results.map((r) => r.ms));
const baseMedian = median(baseline);
const rendersOk = results.every((r) => r.renders === Math.min(slicesN, stores.length));
const allSent = results.every((r) => r.sent === recipientsN && r.state === 'success');
console.log(`bench:delivery  ${machineFacts().machine}, node ${machineFacts().node}, load ${load1()}`);
console.log(
  `${codeVersion() ?? ''}; ${recipientsN} recipients over ${Math.min(slicesN, stores.length)} store slices, ${rounds} rounds\n`,
);
console.log(
  table([
    ['measure', 'median ms', 'each round (ms)', 'ratio'],
    ['baseline: same messages, channel only', ms(baseMedian), baseline.map(ms).join(' / '), '1.0×'],
    [
      'scheduled run (render per slice + ledger + send)',
      ms(runMedian),
      results.map((r) => ms(r.ms)).join(' / '),
      `${(runMedian / baseMedian).toFixed(1)}×`,
    ],
    ['second run of a sent period', ms(repeat.ms), '', `${(repeat.ms / baseMedian).toFixed(2)}×`],
  ]),
);
console.log(
  `\nrenders per run: ${results.map((r) => r.renders).join(', ')} (slices: ${Math.min(slicesN, stores.length)})`,
);
console.log(
  `messages per run: ${results.map((r) => r.sent).join(', ')}; run states: ${results.map((r) => r.state).join(', ')}`,
);
console.log(
  `second run of a sent period: ${repeat.sent} messages, ${repeat.renders} renders, state ${repeat.state}`,
);
console.log(
  `peak RSS during the runs: ${mib(peak.rss).toFixed(0)} MiB (heap ${mib(peak.heapUsed).toFixed(0)} MiB)`,
);
console.log(`\n${verdict(runMedian <= FLOOR_MS)} median run ${ms(runMedian)} <= ${ms(FLOOR_MS)}`);
console.log(`${verdict(rendersOk)} renders equal slices, not recipients`);
console.log(`${verdict(allSent)} every recipient sent once per run`);
console.log(
  `${verdict(repeat.sent === 0 && repeat.renders === 0)} a second run of the same period sends nothing`,
);

await channel.close();
await app.close();
await upstream.close();
smtp.close();
process.exit(runMedian <= FLOOR_MS && rendersOk && allSent && repeat.sent === 0 ? 0 : 1);
