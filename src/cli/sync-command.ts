/**
 * `salesflow sync --from D --to D [--force]`: reads a window of business days from the system of
 * record into partitions (the shared cache in shared mode), as POST /api/v1/sync does, with a
 * progress bar of days and lines/s.
 */
import type { Command } from 'commander';
import { formatDay } from '../lib/calendar.ts';
import { SyncBody } from '../models/analytics.ts';
import { resolveWindow } from '../services/analytics/sales-analytics-service.ts';
import {
  type CliContext,
  type CommandRunner,
  EXIT,
  type ExitCode,
  parseArgs,
  progressBar,
  withContainer,
} from './cli-support.ts';

interface SyncFlags {
  from?: string;
  to?: string;
  force?: boolean;
}

export function registerSyncCommand(program: Command, run: CommandRunner) {
  program
    .command('sync')
    .description('read a window of business days from the system of record now (as POST /api/v1/sync)')
    .option('--from <date>', 'first day, YYYY-MM-DD (default: 30 days before --to)')
    .option('--to <date>', 'last day, YYYY-MM-DD (default: yesterday)')
    .option('--force', 're-read every day even when held', false)
    .action((flags: SyncFlags) => run((ctx) => sync(ctx, flags)));
}

async function sync(ctx: CliContext, flags: SyncFlags): Promise<ExitCode> {
  const body = parseArgs(SyncBody, { from: flags.from, to: flags.to, force: flags.force ?? false });
  return withContainer(ctx.config, ctx.options, async (services) => {
    const { from, to } = resolveWindow(body, services.partitions.today());
    const bar = progressBar(
      ctx.options,
      'sync |{bar}| {value}/{total} days | {lines} lines | {rate} lines/s | {day}',
    );
    const started = performance.now();
    let lines = 0;
    bar?.start(Math.max(0, Math.min(to, services.partitions.today()) - from + 1), 0, {
      lines: 0,
      rate: 0,
      day: formatDay(from),
    });
    const report = await services.partitions.sync(from, to, {
      force: body.force,
      onDay: (done) => {
        lines += done.lines;
        const seconds = (performance.now() - started) / 1000;
        bar?.increment(1, { lines, rate: seconds > 0 ? Math.round(lines / seconds) : 0, day: done.day });
      },
    });
    bar?.stop();
    if (ctx.options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      ctx.say(
        `synced ${report.from}..${report.to}: ${report.days} days (${report.fetched} fetched, ${report.reused} reused, ` +
          `${report.failed.length} failed), ${report.lines} lines in ${(report.ms / 1000).toFixed(1)} s ` +
          `(${report.linesPerSecond} lines/s)`,
      );
      for (const f of report.failed) ctx.say(`  failed ${f.day}: ${f.error}`);
    }
    return report.failed.length > 0 ? EXIT.incomplete : EXIT.ok;
  });
}
