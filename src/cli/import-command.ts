/**
 * `salesflow import FILE --kind products [--commit]`: the spreadsheet import of
 * POST /api/v1/excel/import through the same service. A dry run by default: prints what would
 * change and every row error as a table (the first 50; the errors workbook has them all).
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Table from 'cli-table3';
import type { Command } from 'commander';
import type { Container } from '../container.ts';
import { AppError } from '../errors.ts';
import { ImportOptionsSchema, type ImportResult } from '../models/imports.ts';
import { IMPORT_KINDS } from '../services/imports/import-fields.ts';
import {
  type CliContext,
  CliError,
  type CommandRunner,
  EXIT,
  type ExitCode,
  parseArgs,
  progressBar,
  withContainer,
} from './cli-support.ts';

interface ImportFlags {
  kind: string;
  commit?: boolean;
  skipInvalid?: boolean;
  sheet?: string;
}

const TABLE_ROWS = 50;
/** Colours for a terminal only: piped output stays plain text. */
const tableStyle = () => (process.stdout.isTTY ? {} : { style: { head: [], border: [] } });
const POLL_MS = 250;

export function registerImportCommand(program: Command, run: CommandRunner) {
  program
    .command('import')
    .description('check a spreadsheet (.xlsx or .csv) against the system of record; --commit applies it')
    .argument('<file>', 'the .xlsx or .csv file')
    .option('--kind <kind>', IMPORT_KINDS.join(' | '), 'products')
    .option('--commit', 'push the rows that change something (default: a dry run)', false)
    .option('--skip-invalid', 'with --commit: push the valid rows even when some are invalid', false)
    .option('--sheet <name>', 'the sheet to read (default: the first visible one)')
    .action((file: string, flags: ImportFlags) => run((ctx) => runImport(ctx, file, flags)));
}

async function runImport(ctx: CliContext, file: string, flags: ImportFlags): Promise<ExitCode> {
  const options = parseArgs(ImportOptionsSchema, {
    kind: flags.kind,
    mode: flags.commit ? 'commit' : 'dry_run',
    onError: flags.skipInvalid ? 'skip_invalid' : 'reject_all',
    ...(flags.sheet ? { sheet: flags.sheet } : {}),
  });
  await access(file).catch(() => {
    throw new CliError(`cannot read ${file}`, EXIT.usage);
  });
  return withContainer(ctx.config, ctx.options, async (services) => {
    const result = await upload(services, ctx, file, options);
    print(ctx, result);
    if (result.status === 'failed') {
      // A file problem recorded by a queued import: the same as the inline answer's 4xx.
      throw new CliError(result.problem?.detail ?? 'the import failed', EXIT.usage, { result });
    }
    if (result.commit?.error) return EXIT.unavailable;
    const clean = result.invalid === 0 && (result.commit?.failed ?? 0) === 0;
    return clean && result.status !== 'rejected' && result.status !== 'partial' ? EXIT.ok : EXIT.incomplete;
  });
}

/** Runs the import; a refused or interrupted commit is still a result to print, not just an error. */
async function upload(
  services: Container,
  ctx: CliContext,
  file: string,
  options: ReturnType<typeof ImportOptionsSchema.parse>,
): Promise<ImportResult> {
  let outcome: Awaited<ReturnType<Container['imports']['upload']>>;
  try {
    outcome = await services.imports.upload({
      stream: createReadStream(file),
      fileName: basename(file),
      options,
    });
  } catch (err) {
    const importId = err instanceof AppError ? err.extensions.importId : undefined;
    if (typeof importId === 'string') return services.imports.get(importId);
    throw err;
  }
  if (outcome.kind === 'done') return outcome.result;
  // A large file runs as a job (in this process in embedded mode, on a worker in shared mode).
  const bar = progressBar(ctx.options, 'import |{bar}| {percentage}% | {state}');
  bar?.start(100, 0, { state: 'queued' });
  let result = await services.imports.get(outcome.importId);
  while (result.status === 'queued' || result.status === 'running') {
    bar?.update(result.progress, { state: result.status });
    await sleep(POLL_MS);
    result = await services.imports.get(outcome.importId);
  }
  bar?.update(100, { state: result.status });
  bar?.stop();
  return result;
}

function print(ctx: CliContext, result: ImportResult): void {
  if (ctx.options.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const mode = result.mode === 'dry_run' ? 'dry run' : 'commit';
  ctx.say(`${result.kind} import (${mode}) of ${result.file.name}: ${result.status}`);
  ctx.say(
    `  ${result.rows} rows: ${result.valid} valid, ${result.invalid} invalid; ` +
      `${result.toCreate} to create, ${result.toUpdate} to update, ${result.unchanged} unchanged`,
  );
  const c = result.commit;
  if (c) {
    ctx.say(
      `  sent ${c.chunksSent}/${c.chunks} chunks: ${c.created} created, ${c.updated} updated, ` +
        `${c.failed} refused, ${c.notSent} not sent`,
    );
    if (c.error) ctx.say(`  stopped: ${c.error}`);
  }
  if (result.errors.length > 0) {
    const table = new Table({
      head: ['Row', 'Column', 'Value', 'Error'],
      wordWrap: true,
      colWidths: [7, 18, 22, 60],
      ...tableStyle(),
    });
    for (const e of result.errors.slice(0, TABLE_ROWS))
      table.push([e.row, e.column ?? '', e.value ?? '', e.message]);
    ctx.say(table.toString());
    if (result.errorsTotal > TABLE_ROWS)
      ctx.say(
        `  … ${result.errorsTotal - TABLE_ROWS} more: every one is in the errors workbook (${result.links.errors})`,
      );
  }
  if (c && c.failures.length > 0) {
    const table = new Table({
      head: ['Row', 'Refused by the system of record'],
      wordWrap: true,
      colWidths: [7, 80],
      ...tableStyle(),
    });
    for (const f of c.failures.slice(0, TABLE_ROWS)) table.push([f.row, f.message]);
    ctx.say(table.toString());
  }
  for (const w of result.warnings.slice(0, 10))
    ctx.say(`  warning: ${w.row !== null ? `row ${w.row}: ` : ''}${w.message}`);
}
