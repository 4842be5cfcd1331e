import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ConfigError, loadConfig, sha256Hex } from '../src/config.ts';

const base = { UPSTREAM_URL: 'http://127.0.0.1:8081/api/v1', API_KEYS: 'a-long-viewer-key:viewer' };

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  return assert.fail('expected a ConfigError');
}

test('defaults: embedded mode, sane timeouts far below undici 300 s', () => {
  const c = loadConfig(base);
  assert.equal(c.mode, 'embedded');
  assert.equal(c.redis, undefined);
  assert.equal(c.port, 8080);
  assert.ok(c.upstream.headersTimeoutMs <= 30_000);
  assert.ok(c.upstream.bodyTimeoutMs <= 60_000);
  assert.equal(c.businessTz, 'Europe/Paris');
  assert.deepEqual(c.auth.apiKeys, [{ hash: sha256Hex('a-long-viewer-key'), role: 'viewer' }]);
});

test('REDIS_URL switches to shared mode, which needs a PostgreSQL DATABASE_URL', () => {
  const pgUrl = 'postgres://app:secret@db.internal:5432/salesflow';
  const c = loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379/0', DATABASE_URL: pgUrl });
  assert.equal(c.mode, 'shared');
  assert.equal(c.redis?.keyPrefix, 'salesflow:');
  assert.deepEqual(c.database, { kind: 'postgres', url: pgUrl, poolSize: 10, timeoutMs: 5_000 });
  const [problem] = problemsOf({ ...base, REDIS_URL: 'redis://127.0.0.1:6379/0' });
  assert.equal(problem?.variable, 'DATABASE_URL');
  assert.match(
    problem?.message ?? '',
    /shared mode .* needs a PostgreSQL DATABASE_URL.*SQLite file cannot be shared/,
  );
  assert.equal(
    problemsOf({ ...base, REDIS_URL: 'redis://x:6379', DATABASE_URL: 'data/x.sqlite' })[0]?.variable,
    'DATABASE_URL',
  );
});

test('the database: a SQLite file under DATA_DIR by default, a path, or a postgres URL', () => {
  assert.deepEqual(loadConfig(base).database, {
    kind: 'sqlite',
    file: 'data/salesflow.sqlite',
    timeoutMs: 5_000,
  });
  assert.equal(loadConfig({ ...base, DATA_DIR: '/var/lib/sf' }).database.kind, 'sqlite');
  assert.deepEqual(loadConfig({ ...base, DATA_DIR: '/var/lib/sf', DATABASE_TIMEOUT_MS: '900' }).database, {
    kind: 'sqlite',
    file: '/var/lib/sf/salesflow.sqlite',
    timeoutMs: 900,
  });
  assert.equal(
    (loadConfig({ ...base, DATABASE_URL: 'sqlite:/tmp/a.db' }).database as { file: string }).file,
    '/tmp/a.db',
  );
  assert.equal(loadConfig({ ...base, DATABASE_URL: 'postgresql://h/db' }).database.kind, 'postgres');
  assert.equal(problemsOf({ ...base, DATABASE_URL: 'mysql://h/db' })[0]?.variable, 'DATABASE_URL');
});

test('empty values count as unset', () => {
  assert.equal(loadConfig({ ...base, REDIS_URL: '', UPSTREAM_TOKEN: '' }).mode, 'embedded');
});

test('API_KEYS accepts hashed keys and several roles', () => {
  const hash = sha256Hex('whatever-key');
  const c = loadConfig({ ...base, API_KEYS: `k-viewer-123:viewer, sha256=${hash.toUpperCase()}:admin` });
  assert.deepEqual(
    c.auth.apiKeys.map((k) => k.role),
    ['viewer', 'admin'],
  );
  assert.equal(c.auth.apiKeys[1]?.hash, hash);
});

test('each bad value is reported with the variable it came from', () => {
  const problems = problemsOf({
    UPSTREAM_URL: 'ftp://x',
    API_KEYS: 'short:viewer,nokey,k-valid-key:superuser',
    PORT: 'eighty',
    REDIS_URL: 'http://localhost:6379',
    BUSINESS_TZ: 'Mars/Olympus',
    LOG_LEVEL: 'loud',
    CURRENCY: 'EURO',
    LOCALE: 'not a locale!',
  });
  const vars = new Set(problems.map((p) => p.variable));
  for (const v of [
    'UPSTREAM_URL',
    'API_KEYS',
    'PORT',
    'REDIS_URL',
    'BUSINESS_TZ',
    'LOG_LEVEL',
    'CURRENCY',
    'LOCALE',
  ]) {
    assert.ok(vars.has(v), `${v} should be reported; got ${[...vars].join(', ')}`);
  }
  assert.ok(problems.some((p) => p.variable === 'API_KEYS' && /at least 8 characters/.test(p.message)));
  assert.ok(problems.some((p) => p.variable === 'BUSINESS_TZ' && /IANA/.test(p.message)));
  assert.ok(problems.some((p) => p.variable === 'CURRENCY' && /ISO 4217/.test(p.message)));
});

test('missing required variables are named', () => {
  const vars = problemsOf({}).map((p) => p.variable);
  assert.deepEqual(vars.sort(), ['API_KEYS', 'UPSTREAM_URL']);
});

test('the server refuses to start on a bad configuration, naming the variable', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH, UPSTREAM_URL: 'not a url', API_KEYS: 'a-long-viewer-key:viewer' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 78, run.stderr);
  assert.match(run.stderr, /Invalid configuration:\n\s+UPSTREAM_URL: /);
  assert.match(run.stderr, /\.env\.example/);
});
