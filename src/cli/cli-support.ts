/**
 * What every `salesflow` command shares: exit codes, output for people or for scripts (`--json`),
 * progress bars, and the container built from the same configuration as the server.
 */
import { SingleBar } from 'cli-progress';
import pino from 'pino';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import type { Container } from '../container.ts';
import { AppError } from '../errors.ts';
import { QueueUnavailableError } from '../jobs/queue-types.ts';

/** Exit codes scripts can rely on (README: "The salesflow CLI"). */
export const EXIT = {
  ok: 0,
  /** an unexpected failure (a bug, a full disk) */
  failed: 1,
  /** bad arguments or an unusable input file: running again unchanged will not help */
  usage: 2,
  /** done, but not entirely: days that failed to sync, invalid or refused import rows */
  incomplete: 3,
  /** the system of record, Redis or the job queue is unavailable: retry later */
  unavailable: 4,
  /** a report job failed or did not finish in time */
  jobFailed: 5,
  /** bad configuration (same as the server) */
  config: 78,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error with the exit code it should end the process with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface GlobalOptions {
  json?: boolean;
  /** undefined = when stderr is a terminal */
  progress?: boolean;
  verbose?: boolean;
}

export interface CliContext {
  config: Config;
  options: GlobalOptions;
  /** human lines (stdout); silent with --json */
  say(line: string): void;
}

/** What a command's action calls: it gets the context, returns the exit code (or throws). */
export type CommandRunner = (work: (ctx: CliContext) => Promise<ExitCode>) => Promise<void>;

/** Parses flags with the API's own zod schema: the same rules, the same messages, exit code 2. */
export function parseArgs<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (i) => `${i.path.map(String).join('.') || 'arguments'}: ${i.message}`,
  );
  throw new CliError(issues.join('; '), EXIT.usage, { errors: issues });
}

/** The exit code an error deserves. */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof QueueUnavailableError) return EXIT.unavailable;
  if (err instanceof AppError) {
    if (err.status === 502 || err.status === 503 || err.status === 504) return EXIT.unavailable;
    if (err.status >= 400 && err.status < 500) return EXIT.usage;
  }
  return EXIT.failed;
}

/** Reports an error on stderr (people) or as `{ "error": ... }` on stdout (--json). */
export function reportError(err: unknown, options: GlobalOptions): ExitCode {
  const code = exitCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (options.json) {
    const error: Record<string, unknown> = { message, exitCode: code };
    if (err instanceof AppError)
      Object.assign(error, { status: err.status, code: err.code, title: err.title });
    if (err instanceof CliError) Object.assign(error, err.details);
    process.stdout.write(`${JSON.stringify({ error })}\n`);
  } else {
    process.stderr.write(`salesflow: ${message}\n`);
  }
  return code;
}

/**
 * A progress bar on stderr: shown when stderr is a terminal, or when --progress forces it (then
 * redrawn as plain lines twice a second); never with --json or --no-progress.
 */
export function progressBar(options: GlobalOptions, format: string): SingleBar | undefined {
  if (options.json || options.progress === false) return undefined;
  const forced = options.progress === true;
  if (!forced && !process.stderr.isTTY) return undefined;
  return new SingleBar({
    format,
    stream: process.stderr,
    hideCursor: process.stderr.isTTY ? true : null,
    noTTYOutput: forced,
    notTTYSchedule: 500,
    etaBuffer: 20,
  });
}

/**
 * Runs `work` with a container built from `config` as the server builds it (embedded or shared
 * mode by REDIS_URL), logging warnings to stderr, and closes it after.
 */
export async function withContainer<T>(
  config: Config,
  options: GlobalOptions,
  work: (services: Container) => Promise<T>,
): Promise<T> {
  const logger = pino(
    { level: options.verbose ? 'info' : 'error', base: { pid: process.pid, role: 'cli' } },
    pino.destination({ dest: 2, sync: true }),
  );
  // Loaded here, not at the top: help, bad flags and bad configuration answer without loading
  // every service (exceljs, pdfmake, vega...).
  const { createContainer } = await import('../container.ts');
  const services = createContainer(config, logger, { jobJournal: false, scheduler: false });
  try {
    // As the server does: the database migrated first.
    await services.start();
    return await work(services);
  } finally {
    await services.close();
  }
}

/** Bytes as people read them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
