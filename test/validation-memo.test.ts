/** The validator compiler reuses query results of pure schemas only, frozen, never failures. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { markPure } from '../src/lib/pure-schemas.ts';
import { memoizingValidatorCompiler } from '../src/plugins/validation.ts';

function counted() {
  const calls = { n: 0 };
  const schema = z.object({
    ids: z
      .string()
      .optional()
      .transform((v) => {
        calls.n++;
        return v ? v.split(',') : [];
      }),
    limit: z.coerce.number().int().min(1).default(10),
  });
  return { calls, schema };
}

const compile = (schema: unknown, httpPart = 'querystring') =>
  memoizingValidatorCompiler({ schema, httpPart, method: 'GET', url: '/x' }) as (data: unknown) => {
    value?: unknown;
    error?: unknown;
  };

test('a pure query schema is parsed once per distinct query; results are frozen', () => {
  const { calls, schema } = counted();
  const validate = compile(markPure(schema));
  const first = validate({ ids: 'a,b', limit: '5' });
  const second = validate({ ids: 'a,b', limit: '5' });
  assert.deepEqual(first.value, { ids: ['a', 'b'], limit: 5 });
  assert.equal(second.value, first.value, 'the same result object');
  assert.equal(calls.n, 1);
  assert.ok(Object.isFrozen(first.value) && Object.isFrozen((first.value as { ids: string[] }).ids));
  assert.throws(() => {
    (first.value as { ids: string[] }).ids.push('c');
  }, TypeError);

  assert.deepEqual(validate({ ids: 'c' }).value, { ids: ['c'], limit: 10 });
  assert.equal(calls.n, 2, 'another query is parsed');

  // Failures are not kept: each is reported, and parsed again.
  assert.ok(validate({ ids: 'a', limit: '0' }).error);
  assert.ok(validate({ ids: 'a', limit: '0' }).error);
  assert.equal(calls.n, 4);
});

test('schemas not marked pure, and bodies, are parsed every time', () => {
  const plain = counted();
  const validate = compile(plain.schema);
  validate({ ids: 'a' });
  validate({ ids: 'a' });
  assert.equal(plain.calls.n, 2);
  assert.equal(Object.isFrozen(validate({ ids: 'a' }).value), false);

  const body = counted();
  const validateBody = compile(markPure(body.schema), 'body');
  validateBody({ ids: 'a' });
  validateBody({ ids: 'a' });
  assert.equal(body.calls.n, 2);
});
