/**
 * A separate process on the metadata database, for tests of what several processes do at once.
 * argv: <sqlite file | postgres url> <migrate | claim> [key] [count]. Waits for "go" on stdin so
 * that every process starts its work together, then prints one JSON line.
 */
import { createDatabase } from '../../src/db/database.ts';
import { deliveryLedgerFactory } from '../../src/db/repos/delivery-ledger.ts';

const [target = '', action = 'migrate', key = 'k', count = '1'] = process.argv.slice(2);
const config = /^postgres/.test(target)
  ? { kind: 'postgres' as const, url: target, poolSize: 5, timeoutMs: 10_000 }
  : { kind: 'sqlite' as const, file: target, timeoutMs: 10_000 };
const db = createDatabase(config, { warn() {}, info() {} });
await db.ping();
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
if (action === 'migrate') {
  const applied = await db.migrate();
  process.stdout.write(`${JSON.stringify({ applied })}\n`);
} else {
  const ledger = deliveryLedgerFactory(db);
  const results = await Promise.all(
    Array.from({ length: Number(count) }, () =>
      ledger.claim({ key, source: 'bench', sourceId: 's', period: 'p', channel: 'email', address: 'a@b.c' }),
    ),
  );
  process.stdout.write(`${JSON.stringify({ won: results.filter((r) => r.claimed).length })}\n`);
}
await db.close();
