/**
 * Sends one message to one recipient exactly once, through the delivery ledger.
 *
 * 1. claim the key (insert `pending`; of any number of processes, one wins; a later call finds
 *    the row and picks it up where it stands);
 * 2. take it for one attempt (`sending`, with a lease longer than a channel's own timeout);
 * 3. one channel attempt; settle `sent`, `retrying` (then wait and go to 2), `failed` or `unknown`.
 *
 * What to send is stored with the claim (the ledger's `detail`), so a run that resumes after a
 * crash, or an admin's resend, sends the very message the first attempt would have.
 */

import { setTimeout as wait } from 'node:timers/promises';
import type { DeliveryLedger, DeliveryRow, DeliveryState } from '../../../db/repos/delivery-ledger.ts';
import type { Slice } from '../../../models/schedules.ts';
import type { ChannelKind, DeliveryMessage } from '../channels/channel-types.ts';
import { ChannelError } from '../channels/channel-types.ts';
import type { ChannelSet } from '../channels/create-channels.ts';
import { verdictAfter } from './send-fns.ts';

/** The message without the parts the ledger row holds (key, recipient). */
export type StoredMessage = Omit<DeliveryMessage, 'key' | 'recipient'>;

/** The ledger's `detail` column: who and what, never a secret. */
export interface DeliveryDetail {
  name?: string;
  slice?: Slice;
  message: StoredMessage;
}

export interface DeliverRequest {
  key: string;
  source: 'schedule' | 'alert' | 'bench';
  sourceId: string;
  period: string;
  channel: ChannelKind;
  address: string;
  name?: string;
  slice?: Slice;
  message: StoredMessage;
}

export interface DeliverOutcome {
  deliveryId: string;
  state: DeliveryState;
  /** false: the key was already claimed (this call resumed it or found it settled) */
  claimed: boolean;
  attempts: number;
  providerMessageId: string | null;
  error: string | null;
}

export interface SendEvent {
  channel: string;
  outcome: 'sent' | 'retrying' | 'failed' | 'unknown';
  seconds: number;
}

export interface LedgerSenderDeps {
  ledger: DeliveryLedger;
  channels: Pick<ChannelSet, 'get'>;
  policy: { maxAttempts: number; retryBaseMs: number; timeoutMs: number };
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void };
  observe?: (e: SendEvent) => void;
  /** waits between attempts; ends early (rejects) when `signal` aborts */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function toOutcome(row: DeliveryRow, claimed: boolean): DeliverOutcome {
  return {
    deliveryId: row.id,
    state: row.state as DeliveryState,
    claimed,
    attempts: row.attempts,
    providerMessageId: row.provider_message_id,
    error: row.error,
  };
}

export function ledgerSenderFactory(deps: LedgerSenderDeps) {
  const { ledger, channels, policy, logger } = deps;
  const sleep = deps.sleep ?? ((ms: number, signal?: AbortSignal) => wait(ms, undefined, { signal }));
  // Longer than one attempt may take (each attempt is aborted at timeoutMs): past it, nobody can
  // still be sending, so the outcome is `unknown`.
  const leaseMs = 2 * policy.timeoutMs + 5_000;

  function messageOf(row: DeliveryRow): DeliveryMessage {
    const detail = JSON.parse(row.detail ?? 'null') as DeliveryDetail | null;
    if (!detail) throw new Error(`delivery ${row.id} has no stored message`);
    return {
      ...detail.message,
      // a resend of what was sent is a copy of its own (its own Message-ID); a retry is not
      key: row.resends > 0 ? `${row.key}#resend-${row.resends}` : row.key,
      recipient: { address: row.address, ...(detail.name ? { name: detail.name } : {}) },
    };
  }

  /** One attempt on a row this process holds (`sending`); settles it. */
  async function attempt(row: DeliveryRow, attempts: number, signal?: AbortSignal) {
    const channel = channels.get(row.channel as ChannelKind);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    if (typeof channel === 'string') {
      await ledger.settle(row.id, { state: 'failed', error: `channel unavailable: ${channel}` });
      deps.observe?.({ channel: row.channel, outcome: 'failed', seconds: seconds() });
      return { state: 'failed' as const };
    }
    const attemptSignal = signal
      ? AbortSignal.any([signal, AbortSignal.timeout(policy.timeoutMs)])
      : AbortSignal.timeout(policy.timeoutMs);
    try {
      const sent = await channel.send(messageOf(row), { signal: attemptSignal });
      await ledger.settle(row.id, { state: 'sent', providerMessageId: sent.providerMessageId });
      deps.observe?.({ channel: row.channel, outcome: 'sent', seconds: seconds() });
      return { state: 'sent' as const };
    } catch (err) {
      const ce =
        err instanceof ChannelError
          ? err
          : new ChannelError('permanent', 'internal', `could not send: ${(err as Error).message}`);
      const verdict = verdictAfter(ce.kind, attempts, policy, ce.retryAfterMs);
      const error = `${ce.code}: ${ce.message}`;
      if (verdict.state === 'retrying') {
        const nextAttemptAt = new Date(Date.now() + verdict.delayMs).toISOString();
        await ledger.settle(row.id, { state: 'retrying', error, nextAttemptAt });
      } else {
        await ledger.settle(row.id, {
          state: verdict.state,
          error:
            verdict.state === 'failed' && ce.kind === 'transient'
              ? `${error} (after ${attempts} attempts)`
              : error,
        });
      }
      deps.observe?.({ channel: row.channel, outcome: verdict.state, seconds: seconds() });
      const log = verdict.state === 'retrying' ? logger.info : logger.warn;
      log.call(
        logger,
        { deliveryId: row.id, channel: row.channel, attempts, code: ce.code },
        `delivery ${verdict.state}`,
      );
      return verdict;
    }
  }

  /**
   * Drives a row to a settled state: sends while it is `pending`, or `retrying` and due, waiting
   * out each backoff. Returns the row as it ends (or as another sender left it).
   */
  async function drive(
    id: string,
    claimed: boolean,
    signal?: AbortSignal,
    first?: DeliveryRow,
  ): Promise<DeliverOutcome> {
    // the row the claim returned is current: read it again only after something may have changed it
    let known = first;
    for (;;) {
      const row = known ?? (await ledger.get(id));
      known = undefined;
      if (!row) throw new Error(`delivery ${id} vanished`);
      if (row.state === 'retrying' && row.next_attempt_at) {
        const wait = Date.parse(row.next_attempt_at) - Date.now();
        if (wait > 0) {
          await sleep(wait, signal);
          continue;
        }
      }
      if (row.state === 'sending' && row.lease_until) {
        // Another sender holds it (or held it, and died): wait for its outcome, at most its lease.
        const wait = Date.parse(row.lease_until) - Date.now();
        if (wait > 0) await sleep(Math.min(wait + 10, 1_000), signal);
        else await ledger.expireLeases();
        continue;
      }
      if (row.state !== 'pending' && row.state !== 'retrying') return toOutcome(row, claimed);
      if (!(await ledger.startSending(id, leaseMs))) {
        // another sender took it between our read and our update: report what it left
        const now = await ledger.get(id);
        return toOutcome(now ?? row, claimed);
      }
      await attempt(row, row.attempts + 1, signal);
    }
  }

  return {
    /** Claims and sends, or finds the earlier outcome of the same key: never sends it twice. */
    async deliver(req: DeliverRequest, signal?: AbortSignal): Promise<DeliverOutcome> {
      const detail: DeliveryDetail = {
        ...(req.name ? { name: req.name } : {}),
        ...(req.slice ? { slice: req.slice } : {}),
        message: req.message,
      };
      const { claimed, delivery } = await ledger.claim({
        key: req.key,
        source: req.source,
        sourceId: req.sourceId,
        period: req.period,
        channel: req.channel,
        address: req.address,
        detail,
      });
      return drive(delivery.id, claimed, signal, delivery);
    },

    /** Sends a `pending` row (an admin's resend, once the row was reopened). */
    resume(id: string, signal?: AbortSignal): Promise<DeliverOutcome> {
      return drive(id, false, signal);
    },
  };
}

export type LedgerSender = ReturnType<typeof ledgerSenderFactory>;
