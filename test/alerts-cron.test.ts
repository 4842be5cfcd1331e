/**
 * ALERTS_CRON: the built-in daily check fires by itself (croner in embedded mode) and goes
 * through the same path as POST /alerts/check: a drop the sample upstream injects becomes an alert
 * with nobody calling the endpoint.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GeneratedDataset } from '../sample-upstream/generator.ts';
import { formatDay, parseDay } from '../src/lib/calendar.ts';
import { auth, build } from './helpers/app.ts';
import { storeDropUpstream } from './helpers/store-drop.ts';
import { waitUntil } from './helpers/wait.ts';

test('the scheduled alert check runs by itself and records what it finds', async (t) => {
  const upstream = await storeDropUpstream();
  t.after(() => upstream.close());
  const drop = (upstream.dataset as GeneratedDataset).anomalies.storeDrop;
  // "today" two days into the drop: the check of yesterday sees the store at 30 %.
  const today = formatDay(parseDay(drop.from)! + 2);
  const app = await build(t, {
    UPSTREAM_URL: upstream.url,
    ANALYTICS_TODAY: today,
    ALERTS_CRON: '*/2 * * * * *',
  });
  const alerts = async () =>
    (await app.inject({ url: '/api/v1/alerts?limit=100', headers: auth('analyst') })).json() as {
      total: number;
      items: { entity: { id: string }; ruleId: string }[];
    };
  await waitUntil('the scheduled check has recorded alerts', async () => (await alerts()).total > 0, 60_000);
  const found = await alerts();
  assert.ok(
    found.items.some((a) => String(a.entity.id) === String(drop.storeId)),
    `the dropping store ${drop.storeId} is among the alerts`,
  );
});
