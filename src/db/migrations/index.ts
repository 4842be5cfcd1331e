/**
 * Every migration, in order. A migration is never edited once it has shipped: a change is a new
 * file. Names sort in the order they apply.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001-imports-and-jobs.ts';
import * as m0002 from './0002-delivery-ledger.ts';
import * as m0003 from './0003-schedules.ts';
import * as m0004 from './0004-schedule-runs-attempts.ts';
import * as m0005 from './0005-alerts.ts';
import * as m0006 from './0006-delivery-resends.ts';

export const MIGRATIONS: Record<string, Migration> = {
  '0001-imports-and-jobs': m0001,
  '0002-delivery-ledger': m0002,
  '0003-schedules': m0003,
  '0004-schedule-runs-attempts': m0004,
  '0005-alerts': m0005,
  '0006-delivery-resends': m0006,
};
