/** Command-line flags of the benchmarks: string flags that must be whole numbers, --quick, --help. */
import { parseArgs } from 'node:util';

export interface BenchArgs {
  values: Record<string, string | boolean | undefined>;
  quick: boolean;
  /** the integer flag `name` (≥ min), or `def` when absent; a bad value prints the usage and exits 2 */
  num(name: string, def: number, min: number): number;
  usageError(message: string): never;
}

export function parseBenchArgs(bench: string, usage: string, flags: string[]): BenchArgs {
  const usageError = (message: string): never => {
    console.error(`${bench}: ${message}\n\n${usage}`);
    process.exit(2);
  };
  let values: Record<string, string | boolean | undefined> = {};
  try {
    values = parseArgs({
      options: {
        ...Object.fromEntries(flags.map((f) => [f, { type: 'string' as const }])),
        quick: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    usageError((err as Error).message);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return {
    values,
    quick: values.quick === true,
    usageError,
    num(name, def, min) {
      const raw = values[name];
      if (raw === undefined) return def;
      if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < min)
        usageError(`--${name} must be an integer ≥ ${min}, got ${String(raw)}`);
      return Number(raw);
    },
  };
}
