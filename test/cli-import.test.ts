/**
 * `salesflow import` as a child process against the sample upstream: the dry-run summary and
 * error table, --json, --commit, and their exit codes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createSampleUpstream, type RunningSampleUpstream } from '../sample-upstream/server.ts';
import { runCli } from './helpers/cli.ts';

let upstream: RunningSampleUpstream;
let dir: string;
before(async () => {
  upstream = await createSampleUpstream({
    port: 0,
    seed: 21,
    stores: 3,
    products: 20,
    days: 40,
    linesPerDay: 300,
    endDate: '2026-06-14',
    logger: false,
  });
  dir = await mkdtemp(join(tmpdir(), 'salesflow-cli-'));
});
after(async () => {
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(args, { UPSTREAM_URL: upstream.url, ANALYTICS_TODAY: '2026-06-15', EXPORTS_DIR: dir, ...env });

test('import: the dry run prints its summary and an error table, changes nothing; --commit applies', async () => {
  const file = join(dir, 'products.csv');
  await writeFile(
    file,
    'SKU,Product Name,Category,Brand,Price\nCLI-0001,Widget,Tools,Acme,12.50\nCLI-0002,Gadget,Tools,Acme,-3\nCLI-0003,,Tools,Acme,4\n',
  );
  const dry = await cli(['import', file, '--kind', 'products']);
  assert.equal(dry.code, 3, 'invalid rows: incomplete');
  assert.match(dry.stdout, /products import \(dry run\) of products\.csv: validated/);
  assert.match(dry.stdout, /3 rows: 1 valid, 2 invalid; 1 to create, 0 to update/);
  assert.match(dry.stdout, /│ 3 +│ Price +│ -3 +│ Price must be at least 0/);
  assert.match(dry.stdout, /│ 4 +│ Product Name +│ +│ Product Name is required/);
  assert.ok(!dry.stdout.includes('\u001b['), 'no colour codes when piped');
  const skus = async () =>
    ((await (await fetch(`${upstream.url}/products`)).json()) as { sku: string }[]).map((p) => p.sku);
  assert.ok(!(await skus()).includes('CLI-0001'), 'a dry run changes nothing');

  const rejected = await cli(['--json', 'import', file, '--commit']);
  assert.equal(rejected.code, 3);
  const result = JSON.parse(rejected.stdout) as { status: string; errorsTotal: number };
  assert.equal(result.status, 'rejected');
  assert.equal(result.errorsTotal, 2);
  assert.ok(!(await skus()).includes('CLI-0001'));

  const clean = join(dir, 'clean.csv');
  await writeFile(clean, 'SKU,Product Name,Category,Brand,Price\nCLI-0001,Widget,Tools,Acme,12.50\n');
  const commit = await cli(['import', clean, '--commit']);
  assert.equal(commit.code, 0, commit.stdout + commit.stderr);
  assert.match(commit.stdout, /committed/);
  assert.match(commit.stdout, /1 created, 0 updated/);
  assert.ok((await skus()).includes('CLI-0001'));

  const missing = await cli(['import', join(dir, 'nope.csv')]);
  assert.equal(missing.code, 2);
});
