/**
 * npm run db:migrate: applies the metadata database's pending migrations by hand (the API and the
 * worker also apply them at start-up, under the same lock) and says which it applied.
 */
import { createDatabase } from '../src/db/database.ts';
import { readConfigOrExit } from '../src/read-config.ts';

const config = readConfigOrExit();
const quiet = { warn() {}, info() {} };
const db = createDatabase(config.database, quiet);
const where = config.database.kind === 'sqlite' ? config.database.file : 'PostgreSQL (DATABASE_URL)';
try {
  const applied = await db.migrate();
  console.log(
    applied.length
      ? `${where}: applied ${applied.length} migration(s): ${applied.join(', ')}`
      : `${where}: up to date, nothing to apply`,
  );
} catch (err) {
  console.error(`${where}: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.close();
}
