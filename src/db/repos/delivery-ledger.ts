/**
 * The delivery ledger: exactly once per (source, period, recipient, channel).
 *
 * A delivery is claimed, by inserting its unique key, before anything is sent: of any number of
 * processes claiming the same key at once, one wins. The winner moves it through
 *   pending -> sending (with a lease) -> sent | failed | retrying | unknown
 * with conditional updates (`where state = ...`), so two senders can never both hold it. `unknown`
 * is a send whose outcome cannot be known (the provider may have accepted it): never resent by
 * itself, only by an admin on purpose.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../database.ts';
import { guarded } from '../db-errors.ts';
import type { DeliveriesTable } from '../schema.ts';

export const DELIVERY_STATES = ['pending', 'sending', 'sent', 'failed', 'retrying', 'unknown'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** The states a delivery ends in: nothing sends it again but an admin's resend. */
export function isSettled(state: string): boolean {
  return state === 'sent' || state === 'failed' || state === 'unknown';
}

export interface DeliveryClaim {
  key: string;
  source: 'schedule' | 'alert' | 'bench';
  sourceId: string;
  period: string;
  channel: string;
  address: string;
  detail?: unknown;
}

export type DeliveryRow = DeliveriesTable;

const now = () => new Date().toISOString();

export function deliveryLedgerFactory(db: Db) {
  const { k } = db;
  return guarded({
    /** Inserts the delivery as `pending` unless its key exists; `claimed` says whether this call won. */
    async claim(c: DeliveryClaim): Promise<{ claimed: boolean; delivery: DeliveryRow }> {
      const at = now();
      const inserted = await k
        .insertInto('deliveries')
        .values({
          id: `dlv-${randomBytes(12).toString('base64url')}`,
          key: c.key,
          source: c.source,
          source_id: c.sourceId,
          period: c.period,
          channel: c.channel,
          address: c.address,
          state: 'pending',
          attempts: 0,
          lease_until: null,
          next_attempt_at: null,
          provider_message_id: null,
          error: null,
          detail: c.detail === undefined ? null : JSON.stringify(c.detail),
          resends: 0,
          created_at: at,
          updated_at: at,
          sent_at: null,
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { claimed: true, delivery: inserted };
      const existing = await k
        .selectFrom('deliveries')
        .selectAll()
        .where('key', '=', c.key)
        .executeTakeFirstOrThrow();
      return { claimed: false, delivery: existing };
    },

    /**
     * Takes the delivery for one send attempt: only from `pending`, or `retrying` once its time
     * has come. False when another sender has it or it is settled.
     */
    async startSending(id: string, leaseMs: number): Promise<boolean> {
      const at = now();
      const result = await k
        .updateTable('deliveries')
        .set((eb) => ({
          state: 'sending',
          attempts: eb('attempts', '+', 1),
          lease_until: new Date(Date.now() + leaseMs).toISOString(),
          updated_at: at,
        }))
        .where('id', '=', id)
        .where((eb) =>
          eb.or([
            eb('state', '=', 'pending'),
            eb.and([eb('state', '=', 'retrying'), eb('next_attempt_at', '<=', at)]),
          ]),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Records what a send attempt came to; only the sender holding it (`sending`) may. */
    async settle(
      id: string,
      outcome:
        | { state: 'sent'; providerMessageId: string }
        | { state: 'failed' | 'unknown'; error: string }
        | { state: 'retrying'; error: string; nextAttemptAt: string },
    ): Promise<boolean> {
      const at = now();
      const result = await k
        .updateTable('deliveries')
        .set({
          state: outcome.state,
          lease_until: null,
          updated_at: at,
          ...(outcome.state === 'sent'
            ? { provider_message_id: outcome.providerMessageId, sent_at: at, error: null }
            : { error: outcome.error }),
          ...(outcome.state === 'retrying' ? { next_attempt_at: outcome.nextAttemptAt } : {}),
        })
        .where('id', '=', id)
        .where('state', '=', 'sending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async get(id: string): Promise<DeliveryRow | undefined> {
      return k.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async byKey(key: string): Promise<DeliveryRow | undefined> {
      return k.selectFrom('deliveries').selectAll().where('key', '=', key).executeTakeFirst();
    },

    /**
     * Sends whose lease ran out without an answer (the sender died, or hung past it) become
     * `unknown`: the provider may have accepted them, so they are shown, never resent by themselves.
     * Returns how many.
     */
    async expireLeases(nowIso = now()): Promise<number> {
      const result = await k
        .updateTable('deliveries')
        .set({
          state: 'unknown',
          lease_until: null,
          updated_at: nowIso,
          error: 'lease expired: outcome unknown',
        })
        .where('state', '=', 'sending')
        .where('lease_until', '<', nowIso)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /**
     * Deliveries whose sender is gone: `pending` since before `cutoffIso` (claimed, never taken), or
     * `retrying` with an attempt due since before it. A live sender takes a claim at once and wakes
     * for its retry on time, so these were left by a process that died or a job that was lost.
     */
    async stalled(cutoffIso: string, limit: number): Promise<DeliveryRow[]> {
      return k
        .selectFrom('deliveries')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb.and([eb('state', '=', 'pending'), eb('updated_at', '<', cutoffIso)]),
            eb.and([eb('state', '=', 'retrying'), eb('next_attempt_at', '<', cutoffIso)]),
          ]),
        )
        .orderBy('updated_at')
        .limit(limit)
        .execute();
    },

    /**
     * An admin's resend: a settled delivery (failed, unknown, or sent: the recipient lost it) goes
     * back to `pending`; false while it is in progress. Resending what was sent counts a resend.
     */
    async reopen(id: string): Promise<boolean> {
      const result = await k
        .updateTable('deliveries')
        .set((eb) => ({
          state: 'pending',
          lease_until: null,
          next_attempt_at: null,
          updated_at: now(),
          resends: eb
            .case()
            .when('state', '=', 'sent')
            .then(eb('resends', '+', 1))
            .else(eb.ref('resends'))
            .end(),
        }))
        .where('id', '=', id)
        .where('state', 'in', ['failed', 'unknown', 'sent'])
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Newest first; `from`/`to` bound created_at (ISO, inclusive of from, exclusive of to). */
    async list(filter: {
      state?: DeliveryState | undefined;
      source?: string | undefined;
      sourceId?: string | undefined;
      period?: string | undefined;
      from?: string | undefined;
      to?: string | undefined;
      limit: number;
      offset: number;
    }): Promise<{ items: DeliveryRow[]; total: number }> {
      let q = k.selectFrom('deliveries');
      if (filter.state) q = q.where('state', '=', filter.state);
      if (filter.source) q = q.where('source', '=', filter.source);
      if (filter.sourceId) q = q.where('source_id', '=', filter.sourceId);
      if (filter.period) q = q.where('period', '=', filter.period);
      if (filter.from) q = q.where('created_at', '>=', filter.from);
      if (filter.to) q = q.where('created_at', '<', filter.to);
      const [items, count] = await Promise.all([
        q
          .selectAll()
          .orderBy('created_at', 'desc')
          .orderBy('id')
          .limit(filter.limit)
          .offset(filter.offset)
          .execute(),
        q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items, total: Number(count.n) };
    },
  });
}

export type DeliveryLedger = ReturnType<typeof deliveryLedgerFactory>;
