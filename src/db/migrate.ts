/**
 * Applies the migrations of ./migrations, once each, however many processes start together.
 * PostgreSQL: Kysely's migrator takes an advisory lock inside the migration transaction. SQLite:
 * each run is one transaction; a process that loses the race for the write lock (SQLITE_BUSY)
 * tries again and finds the migrations applied.
 */
import { type Kysely, Migrator, sql } from 'kysely';
import type { DbLogger } from './database.ts';
import { MIGRATIONS } from './migrations/index.ts';
import type { Database } from './schema.ts';

const ATTEMPTS = 10;

export async function migrateToLatest(
  k: Kysely<Database>,
  kind: 'sqlite' | 'postgres',
  logger: DbLogger,
): Promise<string[]> {
  // Kysely looks for its own tables in every schema unless told which: name the current one, so
  // that databases holding several schemas (one per environment, or per test file) stay apart.
  const schema =
    kind === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(k)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db: k,
    provider: { getMigrations: async () => MIGRATIONS },
    migrationTableName: 'salesflow_migration',
    migrationLockTableName: 'salesflow_migration_lock',
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results = [] } = await migrator.migrateToLatest();
    if (!error) {
      const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
      if (applied.length) logger.info({ applied, kind }, 'database migrated');
      return applied;
    }
    const code = (error as { code?: unknown }).code;
    const busy = kind === 'sqlite' && typeof code === 'string' && code.startsWith('SQLITE_BUSY');
    if (!busy || attempt >= ATTEMPTS) {
      const failed = results.find((r) => r.status === 'Error')?.migrationName;
      throw new Error(
        `database migration ${failed ? `${failed} ` : ''}failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 50));
  }
}
