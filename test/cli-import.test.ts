/**
 * `salesflow import` as a child process against the sample upstream: the dry-run summary and
 * error table, --json, --commit, and their exit codes.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliFixture } from './helpers/cli.ts';

const fx = cliFixture();
const { cli } = fx;

test('import: the dry run prints its summary and an error table, changes nothing; --commit applies', async () => {
  const file = join(fx.dir, 'products.csv');
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
    ((await (await fetch(`${fx.upstream.url}/products`)).json()) as { sku: string }[]).map((p) => p.sku);
  assert.ok(!(await skus()).includes('CLI-0001'), 'a dry run changes nothing');

  const rejected = await cli(['--json', 'import', file, '--commit']);
  assert.equal(rejected.code, 3);
  const result = JSON.parse(rejected.stdout) as { status: string; errorsTotal: number };
  assert.equal(result.status, 'rejected');
  assert.equal(result.errorsTotal, 2);
  assert.ok(!(await skus()).includes('CLI-0001'));

  const clean = join(fx.dir, 'clean.csv');
  await writeFile(clean, 'SKU,Product Name,Category,Brand,Price\nCLI-0001,Widget,Tools,Acme,12.50\n');
  const commit = await cli(['import', clean, '--commit']);
  assert.equal(commit.code, 0, commit.stdout + commit.stderr);
  assert.match(commit.stdout, /committed/);
  assert.match(commit.stdout, /1 created, 0 updated/);
  assert.ok((await skus()).includes('CLI-0001'));

  const missing = await cli(['import', join(fx.dir, 'nope.csv')]);
  assert.equal(missing.code, 2);
});
