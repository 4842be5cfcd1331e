/**
 * The operator CLI, `salesflow` (the package's bin): the same services as the API, built from the
 * same configuration (the environment, and .env when present), without going through HTTP.
 *
 *   salesflow sync --from 2026-05-01 --to 2026-05-31
 *   salesflow report daily --date 2026-05-31 --format pdf --out daily.pdf
 *   salesflow import products.xlsx --kind products [--commit]
 *   salesflow alerts check [--date 2026-05-31]
 *
 * `--json` prints one JSON document on stdout for scripts; exit codes are in cli/cli-support.ts
 * (EXIT) and the README. A new command (`schedules list|run`, `alerts check`) is one file under
 * cli/ with a register function, added below.
 */
import { Command, CommanderError } from 'commander';
import { registerAlertsCommand } from './cli/alerts-command.ts';
import {
  type CliContext,
  type CommandRunner,
  EXIT,
  type GlobalOptions,
  reportError,
} from './cli/cli-support.ts';
import { registerImportCommand } from './cli/import-command.ts';
import { registerReportCommand } from './cli/report-command.ts';
import { registerSchedulesCommand } from './cli/schedules-command.ts';
import { registerSyncCommand } from './cli/sync-command.ts';
import { readConfigOrExit } from './read-config.ts';

const program = new Command('salesflow')
  .description('SalesFlow Analytics operator commands')
  .option('--json', 'print one JSON document on stdout (for scripts); no progress bars')
  .option('--progress', 'show progress bars even when stderr is not a terminal')
  .option('--no-progress', 'never show progress bars')
  .option('-v, --verbose', 'log at info level on stderr (default: errors only)')
  .showHelpAfterError()
  .exitOverride();

let exitCode: number = EXIT.ok;
const run: CommandRunner = async (work) => {
  const options = program.opts<GlobalOptions>();
  const config = readConfigOrExit();
  const ctx: CliContext = {
    config,
    options,
    say: (line) => {
      if (!options.json) process.stdout.write(`${line}\n`);
    },
  };
  try {
    exitCode = await work(ctx);
  } catch (err) {
    exitCode = reportError(err, options);
  }
};

registerSyncCommand(program, run);
registerReportCommand(program, run);
registerImportCommand(program, run);
registerSchedulesCommand(program, run);
registerAlertsCommand(program, run);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Help and version exit 0; unknown commands and bad flags are usage errors.
  exitCode =
    err instanceof CommanderError ? (err.exitCode === 0 ? EXIT.ok : EXIT.usage) : reportError(err, {});
}
// Let stdout drain, then exit: open handles (a pool's idle sockets) must not keep the process alive.
process.stdout.write('', () => process.exit(exitCode));
