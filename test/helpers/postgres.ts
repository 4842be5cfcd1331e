/**
 * A real PostgreSQL for tests: TEST_DATABASE_URL, else the server these machines run at
 * 127.0.0.1:5432 (user postgres, database test). Each call makes its own schema and drops it when
 * the test (or file) ends; the URL it returns puts that schema first on the search path, the way an
 * operator would (`?options=-c search_path=...`). No server is a failure that says how to get one.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Scope {
  after(fn: () => Promise<void> | void): void;
}

export function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_DATABASE_URL.replace(/\/\/[^@]*@/, '//')} (${(err as Error).message}). ` +
        'The tests need one: install and start it (apt-get install postgresql; pg_ctlcluster 15 main start; ' +
        'a database "test" that user postgres may use), or point TEST_DATABASE_URL at one.',
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh schema; its URL. Dropped (with everything in it) by `scope.after`. */
export async function testDatabaseUrl(scope: Scope, label = 't'): Promise<string> {
  const schema = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`create schema "${schema}"`));
  scope.after(() => admin((c) => c.query(`drop schema if exists "${schema}" cascade`)).then(() => {}));
  return withSchema(TEST_DATABASE_URL, schema);
}

/** A schema for a whole test file: make it in `before`, call `drop` in `after`. */
export async function fileDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const drops: (() => Promise<void> | void)[] = [];
  const url = await testDatabaseUrl({ after: (fn) => drops.push(fn) }, label);
  return { url, drop: async () => void (await Promise.all(drops.map((fn) => fn()))) };
}
