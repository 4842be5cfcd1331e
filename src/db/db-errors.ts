/**
 * What a database failure means to a caller. An outage (no connection, a timeout, a lock held too
 * long, a full disk) becomes DatabaseUnavailableError: a 503 problem with the reason, and the next
 * request tries again, so the service recovers by itself once the database is back. Anything else
 * (a constraint the code did not expect, a bug) stays what it is: a 500, logged.
 */
import { ServiceUnavailableError } from '../errors.ts';

export class DatabaseUnavailableError extends ServiceUnavailableError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('database-unavailable', `The metadata database is unavailable: ${reason}`, { reason });
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** node and pg error codes of a connection that failed, dropped or timed out */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** PostgreSQL SQLSTATE classes and codes of an unavailable server */
const PG_UNAVAILABLE = /^(08|53|57P0[1-4]|57014|58)/;
const PG_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended|the database system is (starting up|shutting down)/i;
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|PROTOCOL|NOMEM)/;

export function isDatabaseOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof DatabaseUnavailableError) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || SQLITE_UNAVAILABLE.test(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && PG_UNAVAILABLE.test(code)) return true;
  }
  return PG_MESSAGES.test(err.message);
}

/** A short reason, safe to show: the code and message, never a connection string. */
export function outageReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const message = err.message.replace(/postgres(ql)?:\/\/\S+/gi, '<database url>');
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Rethrows an outage as DatabaseUnavailableError; other errors as they are. */
export function asDatabaseError(err: unknown): unknown {
  if (err instanceof DatabaseUnavailableError) return err;
  return isDatabaseOutage(err) ? new DatabaseUnavailableError(outageReason(err), { cause: err }) : err;
}

type AsyncFns = Record<string, (...args: never[]) => Promise<unknown>>;

/** Wraps every method of a repository so that an outage leaves it as DatabaseUnavailableError. */
export function guarded<T extends AsyncFns>(repo: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(repo)) {
    out[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw asDatabaseError(err);
      }
    };
  }
  return out as T;
}
