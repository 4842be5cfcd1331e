/** The metadata database section of the configuration: which database, and how it is reached. */
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { intFrom } from './env-fields.ts';

export const databaseEnv = {
  DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: z.string().min(1).optional(),
  DATABASE_POOL_SIZE: intFrom(10, 1, 200),
  DATABASE_TIMEOUT_MS: intFrom(5_000, 100, 120_000),
};

const databaseEnvSchema = z.object(databaseEnv);
type DatabaseEnv = z.output<typeof databaseEnvSchema>;

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string; timeoutMs: number }
  | { kind: 'postgres'; url: string; poolSize: number; timeoutMs: number };

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * DATABASE_URL is a postgres:// URL, or a SQLite file (a path, or `sqlite:<path>`); unset, a SQLite
 * file under DATA_DIR. Shared mode needs PostgreSQL: a SQLite file cannot be shared by instances
 * on several machines.
 */
export function databaseConfig(e: DatabaseEnv & { REDIS_URL?: string | undefined }): DatabaseConfig {
  const raw = e.DATABASE_URL;
  if (raw && POSTGRES_URL.test(raw)) {
    if (!URL.canParse(raw)) {
      throw new ConfigError([{ variable: 'DATABASE_URL', message: 'is not a valid postgres:// URL' }]);
    }
    return { kind: 'postgres', url: raw, poolSize: e.DATABASE_POOL_SIZE, timeoutMs: e.DATABASE_TIMEOUT_MS };
  }
  if (e.REDIS_URL) {
    throw new ConfigError([
      {
        variable: 'DATABASE_URL',
        message:
          'shared mode (REDIS_URL set) needs a PostgreSQL DATABASE_URL (postgres://user:password@host:5432/db): ' +
          'a SQLite file cannot be shared by instances on several machines',
      },
    ]);
  }
  if (raw && /^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new ConfigError([
      {
        variable: 'DATABASE_URL',
        message: 'must be a postgres:// URL or a SQLite file path (sqlite:<path>)',
      },
    ]);
  }
  const file = raw ? raw.replace(/^sqlite:/i, '') : join(e.DATA_DIR, 'salesflow.sqlite');
  return { kind: 'sqlite', file, timeoutMs: e.DATABASE_TIMEOUT_MS };
}
