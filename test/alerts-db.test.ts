/**
 * The alert repositories on both adapters (SQLite and PostgreSQL, as the contract suite runs them):
 * the default rules seeded once by the migration, rules CRUD, alerts saved and read back whole,
 * an acknowledgement kept when a check saves over it, the list's filters, silences in force.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DatabaseConfig } from '../src/config.ts';
import { createDatabase, type Db } from '../src/db/database.ts';
import { alertRecordsFactory } from '../src/db/repos/alert-records.ts';
import { alertRulesRepoFactory } from '../src/db/repos/alert-rules.ts';
import { alertSilencesFactory } from '../src/db/repos/alert-silences.ts';
import type { AlertRecord } from '../src/models/alert-book.ts';
import { AlertRule, DEFAULT_RULES } from '../src/models/alerts.ts';
import { alertIdOf } from '../src/services/alerts/notify-fns.ts';
import { testSqliteFile } from './helpers/app.ts';
import { fileDatabase } from './helpers/postgres.ts';

const logger = { warn() {}, info() {} };

const adapters: { name: string; fresh(): Promise<{ config: DatabaseConfig; drop?: () => Promise<void> }> }[] =
  [
    {
      name: 'sqlite',
      fresh: async () => ({ config: { kind: 'sqlite', file: testSqliteFile(), timeoutMs: 5_000 } }),
    },
    {
      name: 'postgres',
      async fresh() {
        const db = await fileDatabase('alerts_db');
        return { config: { kind: 'postgres', url: db.url, poolSize: 4, timeoutMs: 5_000 }, drop: db.drop };
      },
    },
  ];

function record(ruleId: string, entityId: string, over: Partial<AlertRecord> = {}): AlertRecord {
  const entity = { level: 'store' as const, id: entityId, name: `Store ${entityId}`, storeId: entityId };
  const detection = {
    ruleId,
    day: '2026-06-01',
    entity,
    metric: 'orders' as const,
    kind: 'drop' as const,
    direction: 'drop' as const,
    actual: 6,
    expected: 31,
    score: -4.49,
    severity: 'warning' as const,
    moneyAtStake: 250.5,
    explanation: { summary: `Store ${entityId}: orders down.`, contributors: [] },
  };
  return {
    id: alertIdOf(ruleId, entityId),
    ruleId,
    entity,
    metric: 'orders',
    kind: 'drop',
    direction: 'drop',
    state: 'firing',
    severity: 'warning',
    score: -4.49,
    moneyAtStake: 250.5,
    firstSeen: '2026-06-01',
    lastSeen: '2026-06-01',
    lastChecked: '2026-06-01',
    consecutive: 1,
    episodes: 1,
    firedOn: '2026-06-01',
    resolvedOn: null,
    acknowledged: null,
    snoozedUntil: null,
    lastNotifiedAt: '2026-06-02T07:15:00.000Z',
    lastNotifiedDay: '2026-06-01',
    detection,
    createdAt: '2026-06-02T07:15:00.000Z',
    updatedAt: '2026-06-02T07:15:00.000Z',
    ...over,
  };
}

for (const adapter of adapters) {
  describe(`alert repositories: ${adapter.name}`, () => {
    let db: Db;
    let drop: (() => Promise<void>) | undefined;
    before(async () => {
      const fresh = await adapter.fresh();
      drop = fresh.drop;
      db = createDatabase(fresh.config, logger);
      await db.migrate();
    });
    after(async () => {
      await db?.close();
      await drop?.();
    });

    it('the migration seeds the default rules once; rules are created, replaced, deleted', async () => {
      const repo = alertRulesRepoFactory(db);
      const seeded = await repo.list();
      assert.deepEqual(
        seeded.map((r) => AlertRule.parse(r.rule)),
        [...DEFAULT_RULES].sort((a, b) => a.id.localeCompare(b.id)),
      );
      assert.equal(await repo.remove('below-reorder'), true);
      assert.deepEqual(await db.migrate(), [], 'nothing left to apply: a deleted default stays deleted');
      assert.equal(await repo.get('below-reorder'), undefined);

      const rule = AlertRule.parse({ id: 'weekend', name: 'Weekend', metric: 'revenue', level: 'store' });
      assert.equal(await repo.insert(rule, '2026-06-02T00:00:00.000Z'), true);
      assert.equal(await repo.insert(rule, '2026-06-02T00:00:00.000Z'), false, 'the id is taken');
      assert.equal(await repo.update({ ...rule, enabled: false }, '2026-06-03T00:00:00.000Z'), true);
      const read = (await repo.get('weekend'))!;
      assert.equal((read.rule as AlertRule).enabled, false);
      assert.equal(read.updatedAt, '2026-06-03T00:00:00.000Z');
      assert.equal(await repo.update({ ...rule, id: 'nope' }, '2026-06-03T00:00:00.000Z'), false);
      assert.equal(await repo.remove('weekend'), true);
      assert.equal(await repo.remove('weekend'), false);
    });

    it('alerts: saved and read back whole; an acknowledgement survives a save, a new episode clears it', async () => {
      const repo = alertRecordsFactory(db);
      const a = record('store-orders', '1');
      const b = record('store-orders', '2', {
        state: 'resolved',
        resolvedOn: '2026-06-02',
        severity: 'critical',
        moneyAtStake: 100,
      });
      const c = record('region-orders', 'IDF', { state: 'pending', firedOn: null, moneyAtStake: 9000.25 });
      await repo.save([a, b, c], () => true);
      assert.deepEqual(await repo.get(a.id), a);

      // open ones, and those asked for by id
      const forCheck = await repo.forCheck([b.id, alertIdOf('store-orders', 'unknown')]);
      assert.deepEqual(forCheck.map((x) => x.id).sort(), [a.id, b.id, c.id].sort());
      assert.deepEqual((await repo.forCheck([])).map((x) => x.id).sort(), [a.id, c.id].sort());

      assert.equal(await repo.acknowledge(a.id, 'anna', '2026-06-02T08:00:00.000Z'), true);
      assert.equal(await repo.snooze(a.id, '2026-06-09T00:00:00.000Z', '2026-06-02T08:00:00.000Z'), true);
      assert.equal(await repo.acknowledge(alertIdOf('x', 'y'), 'anna', '2026-06-02T08:00:00.000Z'), false);
      // a check that read the row before the ack saves the next day over it
      await repo.save([{ ...a, lastChecked: '2026-06-02', consecutive: 2 }], () => false);
      const kept = await repo.get(a.id);
      assert.deepEqual(kept?.acknowledged, { at: '2026-06-02T08:00:00.000Z', by: 'anna' });
      assert.equal(kept?.snoozedUntil, '2026-06-09T00:00:00.000Z');
      assert.equal(kept?.consecutive, 2);
      await repo.save([{ ...a, lastChecked: '2026-06-05', episodes: 2 }], () => true);
      assert.equal((await repo.get(a.id))?.acknowledged, null, 'a new episode is not acknowledged');
      assert.equal(
        (await repo.get(a.id))?.snoozedUntil,
        '2026-06-09T00:00:00.000Z',
        'the snooze is time-bound',
      );

      const list = (q: Record<string, unknown>) =>
        repo.list({ limit: 50, offset: 0, ...q }).then((r) => [r.total, r.items.map((x) => x.entity.id)]);
      assert.deepEqual(await list({}), [3, ['IDF', '1', '2']], 'same day: most money first');
      assert.deepEqual(await list({ state: 'firing' }), [1, ['1']]);
      assert.deepEqual(await list({ severity: 'critical' }), [1, ['2']]);
      assert.deepEqual(await list({ entity: '2' }), [1, ['2']]);
      assert.deepEqual(await list({ rule: 'region-orders' }), [1, ['IDF']]);
      assert.deepEqual(await list({ from: '2026-06-02' }), [0, []]);
      assert.deepEqual(await list({ to: '2026-05-31' }), [0, []]);
      assert.deepEqual(await list({ limit: 1, offset: 1 }), [3, ['1']]);

      // many at once: batched statements in one transaction
      const many = Array.from({ length: 450 }, (_, i) => record('product-orders', `P${i}`));
      await repo.save(many, () => true);
      assert.equal((await repo.list({ limit: 1, offset: 0, rule: 'product-orders' })).total, 450);
    });

    it('silences: in force between start and end; listed newest first; deleted', async () => {
      const repo = alertSilencesFactory(db);
      const base = { ruleId: null, comment: 'supplier issue', createdBy: 'key:abc' };
      await repo.insert({
        ...base,
        id: 'sil-active01',
        entityId: '7',
        startsAt: '2026-06-01T00:00:00.000Z',
        endsAt: '2026-06-03T00:00:00.000Z',
        createdAt: '2026-06-01T00:00:00.000Z',
      });
      await repo.insert({
        ...base,
        id: 'sil-ended001',
        entityId: '8',
        startsAt: '2026-05-01T00:00:00.000Z',
        endsAt: '2026-05-02T00:00:00.000Z',
        createdAt: '2026-05-01T00:00:00.000Z',
      });
      const now = '2026-06-02T00:00:00.000Z';
      assert.deepEqual(
        (await repo.active(now)).map((s) => s.id),
        ['sil-active01'],
      );
      assert.deepEqual(
        (await repo.list({ now, limit: 10, offset: 0 })).items.map((s) => s.id),
        ['sil-active01', 'sil-ended001'],
      );
      assert.deepEqual(
        (await repo.list({ now, active: false, limit: 10, offset: 0 })).items.map((s) => s.id),
        ['sil-ended001'],
      );
      assert.equal((await repo.get('sil-active01'))?.entityId, '7');
      assert.equal(await repo.remove('sil-active01'), true);
      assert.deepEqual(await repo.active(now), []);
    });
  });
}
