/**
 * Schemas whose result depends on their input only (no clock, no I/O, no randomness): a request
 * part validated by one of them may reuse an earlier result for the same input. The validation of
 * a query of the sales analytics costs about as much as serving its cached answer otherwise.
 * A schema that reads the clock (a default of "today") must not be marked.
 */
const pure = new WeakSet<object>();

export function markPure<T extends object>(schema: T): T {
  pure.add(schema);
  return schema;
}

export function isPure(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && pure.has(schema);
}
