/**
 * The metadata database: one Kysely instance over SQLite (better-sqlite3, a file under DATA_DIR:
 * embedded mode needs nothing but Node) or PostgreSQL (a pg pool: shared mode). Queries are written
 * once with Kysely and run on both; the repositories in ./repos hold them.
 *
 * Nothing connects at import time. SQLite opens its file when the factory runs (creating the folder);
 * PostgreSQL connects on the first query, and the pool reconnects by itself after an outage.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteAdapter, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.ts';
import { asDatabaseError } from './db-errors.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database } from './schema.ts';

export interface DbLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface Db {
  readonly kind: DatabaseConfig['kind'];
  readonly k: Kysely<Database>;
  /** applies pending migrations under a lock; returns the names applied */
  migrate(): Promise<string[]>;
  /** throws DatabaseUnavailableError when the database cannot answer */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * SQLite with transactional migrations: each migration applies whole or not at all, and a second
 * process migrating at the same time fails to take the write lock and tries again (migrate.ts),
 * then finds nothing left to do.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
class SqliteDialectWithTransactionalDdl extends SqliteDialect {
  override createAdapter() {
    return new TransactionalSqliteAdapter();
  }
}

function sqliteDialect(file: string, timeoutMs: number): SqliteDialect {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new SQLite(file, { timeout: timeoutMs });
  // WAL: readers never wait for the writer; NORMAL sync is durable across a process crash.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  return new SqliteDialectWithTransactionalDdl({ database });
}

function postgresPool(url: string, poolSize: number, timeoutMs: number, logger: DbLogger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: timeoutMs,
    // The server stops a statement past the deadline; the client gives up a little later in case
    // the server cannot even say so.
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 1_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'salesflow',
  });
  // An idle client whose server went away emits 'error' on the pool: without a listener the
  // process would crash. The pool drops that client and connects anew on the next query.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'database connection lost'));
  // A client in use whose connection drops emits 'error' too, and the pool does not listen then:
  // its query fails (503 to the caller) and the pool drops the client when it comes back.
  pool.on('connect', (client) => {
    client.on('error', (err) => logger.warn({ err: err.message }, 'database connection lost during a query'));
  });
  return pool;
}

export function createDatabase(config: DatabaseConfig, logger: DbLogger): Db {
  const dialect =
    config.kind === 'sqlite'
      ? sqliteDialect(config.file, config.timeoutMs)
      : new PostgresDialect({ pool: postgresPool(config.url, config.poolSize, config.timeoutMs, logger) });
  const k = new Kysely<Database>({ dialect });
  let closed: Promise<void> | undefined;
  return {
    kind: config.kind,
    k,
    migrate: () => migrateToLatest(k, config.kind, logger),
    async ping() {
      try {
        await sql`select 1`.execute(k);
      } catch (err) {
        throw asDatabaseError(err);
      }
    },
    close() {
      closed ??= k.destroy();
      return closed;
    },
  };
}
