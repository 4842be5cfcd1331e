/**
 * npm run db:backup [-- FILE]: an online copy of the SQLite metadata database (SQLite's backup API:
 * consistent while the API keeps writing), by default DATA_DIR/backups/salesflow-<UTC time>.sqlite.
 * PostgreSQL is backed up with its own tools (pg_dump), which this script says.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { readConfigOrExit } from '../src/read-config.ts';

const config = readConfigOrExit();
if (config.database.kind !== 'sqlite') {
  console.error(
    'DATABASE_URL is PostgreSQL: back it up with pg_dump, e.g. pg_dump -Fc "$DATABASE_URL" > salesflow.dump',
  );
  process.exit(2);
}
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, 'Z');
const target = process.argv[2] ?? join(dirname(config.database.file), 'backups', `salesflow-${stamp}.sqlite`);
mkdirSync(dirname(target), { recursive: true });
const db = new SQLite(config.database.file, {
  readonly: true,
  fileMustExist: true,
  timeout: config.database.timeoutMs,
});
try {
  const { totalPages } = await db.backup(target);
  console.log(`backed up ${config.database.file} to ${target} (${totalPages} pages)`);
} catch (err) {
  console.error(`backup failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  db.close();
}
