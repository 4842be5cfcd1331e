/**
 * Sends a check's messages: one per recipient, each through the delivery ledger under a key made
 * of the checked day, the set of notices it carries and the recipient. Checking the same day again
 * finds the key settled and sends nothing; another instance checking at the same moment finds it
 * claimed.
 */

import { mapLimit } from '../../lib/map-limit.ts';
import type { CheckDelivery } from '../../models/alert-book.ts';
import { redactUrl } from '../delivery/channels/channel-fns.ts';
import type { LedgerSender } from '../delivery/send/ledger-sender.ts';
import { deliveryKey } from '../delivery/send/send-fns.ts';
import { noticeSetId, type RecipientBucket } from './notify-fns.ts';
import { alertMessage, type MessageContext } from './notify-message.ts';

export interface NotifyDeps {
  sender: Pick<LedgerSender, 'deliver'>;
  /** recipients sent to at once */
  concurrency: number;
}

function shownAddress(address: string): string {
  return /^https?:\/\//i.test(address) ? redactUrl(address) : address;
}

export async function notifyRecipients(
  buckets: readonly RecipientBucket[],
  ctx: MessageContext,
  deps: NotifyDeps,
): Promise<CheckDelivery[]> {
  // The ledger itself failing (the database is down) stops the sends and fails the check before
  // its lifecycle is stored, so that the next check sends the same messages under the same keys.
  return mapLimit(buckets, deps.concurrency, async (b) => {
    const setId = noticeSetId(b.notices);
    const alerts = b.notices.map((n) => ({ id: n.alert.id, notify: n.notify }));
    const done = await deps.sender.deliver({
      key: deliveryKey('alert', setId, ctx.day, b.channel, b.address),
      source: 'alert',
      sourceId: setId,
      period: ctx.day,
      channel: b.channel,
      address: b.address,
      ...(b.name ? { name: b.name } : {}),
      message: alertMessage(b, ctx),
    });
    return {
      channel: b.channel,
      address: shownAddress(b.address),
      name: b.name ?? null,
      alerts,
      deliveryId: done.deliveryId,
      state: done.state,
      claimed: done.claimed,
      attempts: done.attempts,
      error: done.error,
    };
  });
}
