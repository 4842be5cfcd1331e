/** The files operators and other teams read must stay true to the code. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderOpenApi } from '../scripts/openapi-document.ts';
import { EnvSchema } from '../src/config.ts';

test('openapi/openapi.json is up to date (run `npm run openapi` after changing a route)', async () => {
  const committed = readFileSync('openapi/openapi.json', 'utf8');
  assert.equal(committed, await renderOpenApi(), 'openapi/openapi.json is stale: run `npm run openapi`');
});

test('docker-compose.yml parses and every service runs node itself on an entry point that exists', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[]; image?: string; build?: unknown }>;
  };
  assert.deepEqual(Object.keys(compose.services).sort(), [
    'api',
    'postgres',
    'redis',
    'sample-upstream',
    'worker',
  ]);
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.image) continue;
    assert.ok(service.build, `${name} builds the image`);
    const cmd = service.command;
    // Not npm: it does not pass SIGTERM on, so `docker compose stop` would not drain anything.
    assert.ok(Array.isArray(cmd) && cmd[0] === 'node', `${name} runs node itself`);
    const entry = cmd.find((a) => a.endsWith('.ts'));
    assert.ok(entry && existsSync(entry), `${name}: entry point "${entry}" exists`);
  }
});

test('.env.example lists every configuration variable, and nothing else', () => {
  const listed = new Set(
    readFileSync('.env.example', 'utf8')
      .split('\n')
      .map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
      .filter((v): v is string => Boolean(v)),
  );
  const known = new Set(Object.keys(EnvSchema.shape));
  assert.deepEqual(
    [...known].filter((v) => !listed.has(v)),
    [],
    'missing from .env.example',
  );
  assert.deepEqual(
    [...listed].filter((v) => !known.has(v)),
    [],
    'in .env.example but unknown to the config',
  );
});

test('openapi/upstream.yaml documents every upstream call the client makes', () => {
  const doc = parse(readFileSync('openapi/upstream.yaml', 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
  );
  const client = readFileSync('src/clients/upstream-client.ts', 'utf8');
  const used = [
    ...[...client.matchAll(/method: '(GET|POST)',\s*path: '([^']+)'/g)].map((m) => `${m[1]} ${m[2]}`),
    // The bulk writes share one helper that always POSTs.
    ...[...client.matchAll(/postBulk\('([^']+)'/g)].map((m) => `POST ${m[1]}`),
  ];
  assert.ok(used.length >= 8);
  assert.ok(used.includes('POST /sales/bulk'), 'the bulk writes are found');
  for (const op of used) assert.ok(ops.includes(op), `${op} is in openapi/upstream.yaml`);
});

test('the README quick start is the two commands CI relies on', () => {
  const readme = readFileSync('README.md', 'utf8');
  assert.match(readme, /npm install && npm run demo/);
  assert.match(readme, /\nnpm test\n/);
  assert.match(readFileSync('.ci/run', 'utf8'), /\nnpm test\n/);
});

test('the README configuration table names every variable', () => {
  const readme = readFileSync('README.md', 'utf8');
  const missing = Object.keys(EnvSchema.shape).filter((v) => !readme.includes(`\`${v}\``));
  assert.deepEqual(missing, [], 'variables missing from the README');
});
