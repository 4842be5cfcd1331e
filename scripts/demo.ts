/**
 * `npm run demo`: the sample system of record and the API in front of it, embedded mode, demo keys.
 * Ports: PORT (default 8080) and SAMPLE_UPSTREAM_PORT (default 8081); a busy port falls back to a
 * free one, and the addresses printed are the real ones.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createSampleUpstream } from '../sample-upstream/server.ts';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { formatDay } from '../src/lib/calendar.ts';

const DEMO_KEYS = { viewer: 'demo-viewer-key', analyst: 'demo-analyst-key', admin: 'demo-admin-key' };

/** The wanted port when it is free, else 0 (the OS picks one); the demo prints the real address. */
async function portOrFallback(port: number): Promise<number> {
  const probe = createServer();
  const free = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  if (!free) console.warn(`port ${port} is busy; using a free port instead`);
  return free ? port : 0;
}

const seed = 42;
const upstream = await createSampleUpstream({
  port: await portOrFallback(Number(process.env.SAMPLE_UPSTREAM_PORT ?? 8081)),
  seed,
  logger: false,
});

const config = loadConfig({
  ...process.env,
  UPSTREAM_URL: upstream.url,
  API_KEYS: Object.entries(DEMO_KEYS)
    .map(([role, key]) => `${key}:${role}`)
    .join(','),
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  CORS_ORIGINS: process.env.CORS_ORIGINS ?? 'http://localhost:3000,http://localhost:5173',
  REDIS_URL: process.env.REDIS_URL ?? '',
  // One process: a fresh signing key per run is enough (set one to keep links across restarts).
  REPORT_LINK_SECRET: process.env.REPORT_LINK_SECRET ?? randomBytes(24).toString('hex'),
});

const api = await buildApp(config);
await api.listen({ host: '127.0.0.1', port: await portOrFallback(config.port) });
const address = api.server.address();
const apiPort = typeof address === 'object' && address ? address.port : config.port;
const base = `http://localhost:${apiPort}`;

const summary = upstream.dataset.summary();
const schedule = await demoSchedule();
const outbox = config.delivery.smtpUrl ? undefined : join(config.reports.exportsDir, 'outbox');

/**
 * The demo's schedule: the daily report at 07:00 in BUSINESS_TZ to two store managers, each with
 * their own store. Made once (the metadata database keeps it between demo runs).
 */
async function demoSchedule() {
  const name = 'Demo: store managers, every morning';
  const found = (await api.services.schedules.list({ limit: 500, offset: 0 })).items.find(
    (s) => s.name === name,
  );
  if (found) return found;
  const stores = (await api.services.catalog.stores()).value.slice(0, 2);
  return api.services.schedules.create({
    name,
    enabled: true,
    report: { type: 'daily', format: 'pdf' },
    cron: '0 7 * * *',
    timezone: config.businessTz,
    recipients: stores.map((s) => ({
      channel: 'email' as const,
      address: `manager.store${s.id}@example.com`,
      name: `Manager, ${s.name}`,
      slice: { storeId: String(s.id) },
    })),
    options: {
      skipIfEmpty: false,
      attach: 'auto',
      freshness: { waitMinutes: 0, onIncomplete: 'send_marked' },
      catchUp: { maxPeriods: 1 },
    },
  });
}

const yesterday = api.services.partitions.today() - 1;
const backtestWindow = `from=${formatDay(yesterday - 89)}&to=${formatDay(yesterday)}`;

console.log(`
SalesFlow Analytics demo (${config.mode} mode)

  Swagger UI       ${base}/docs
  OpenAPI          ${base}/openapi.json
  Sample upstream  ${upstream.url}  
                   ${summary}
  API keys         ${DEMO_KEYS.viewer} (viewer), ${DEMO_KEYS.analyst} (analyst), ${DEMO_KEYS.admin} (admin)

Try:
  curl -s -H 'X-API-Key: ${DEMO_KEYS.viewer}' ${base}/api/v1/catalog/stores
  curl -s -H 'X-API-Key: ${DEMO_KEYS.viewer}' '${base}/api/v1/analytics/sales?groupBy=store&compare=previous_year'

  A report is a job: ask for it, follow its status until "completed", then download the file.
  curl -s -H 'X-API-Key: ${DEMO_KEYS.analyst}' -H 'content-type: application/json' \\
       -d '{"type":"daily","format":"pdf"}' ${base}/api/v1/reports/generate
  # answers {"jobId":"rep-…","statusUrl":…,"downloadUrl":…}; then, with that jobId:
  curl -s -H 'X-API-Key: ${DEMO_KEYS.viewer}' ${base}/api/v1/reports/status/<jobId>
  curl -s -H 'X-API-Key: ${DEMO_KEYS.viewer}' -OJ ${base}/api/v1/reports/<jobId>/download
  curl -s -H 'X-API-Key: ${DEMO_KEYS.admin}' -o products.xlsx '${base}/api/v1/excel/template?kind=products'

  printf 'sku;name;category;price\\nDEMO-1;Demo tea;Drinks;3,50\\n' > products.csv
  curl -s -H 'X-API-Key: ${DEMO_KEYS.admin}' -F mode=dry_run -F file=@products.csv ${base}/api/v1/excel/upload

  Scheduled delivery: "${schedule.name}" (${schedule.id}), daily at 07:00 ${schedule.timezone}.
  Run it now; each manager gets their own store's report${outbox ? `, written as .eml files to ${outbox}` : ''}:
  curl -s -X POST -H 'X-API-Key: ${DEMO_KEYS.admin}' -H 'content-type: application/json' -d '{}' ${base}/api/v1/schedules/${schedule.id}/run
  curl -s -H 'X-API-Key: ${DEMO_KEYS.analyst}' ${base}/api/v1/schedules/${schedule.id}/runs

  Alerts (the default rules): check yesterday, each alert with why; then what 90 days would have fired.
  curl -s -X POST -H 'X-API-Key: ${DEMO_KEYS.analyst}' -H 'content-type: application/json' -d '{}' ${base}/api/v1/alerts/check
  curl -s -H 'X-API-Key: ${DEMO_KEYS.analyst}' '${base}/api/v1/alerts/backtest?${backtestWindow}'

Ports: PORT=${apiPort} and SAMPLE_UPSTREAM_PORT=${new URL(upstream.url).port} (set either to change it).
Press Ctrl-C to stop.
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) process.exit(1);
    stopping = true;
    await api.close();
    await upstream.close();
    process.exit(0);
  });
}
