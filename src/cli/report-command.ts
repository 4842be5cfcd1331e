/**
 * `salesflow report <type> --date D --format pdf --out FILE`: the same report job as
 * POST /api/v1/reports/generate (same request rules, same deduplication, same renderer), waited
 * for with its progress shown, then copied to FILE. In embedded mode the job runs in this process;
 * in shared mode a worker renders it (EXPORTS_DIR is shared) and this command waits.
 */
import { copyFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { REPORT_TYPES, ReportRequestSchema } from '../models/reports.ts';
import {
  type CliContext,
  CliError,
  type CommandRunner,
  EXIT,
  type ExitCode,
  formatBytes,
  parseArgs,
  progressBar,
  withContainer,
} from './cli-support.ts';

interface ReportFlags {
  date?: string;
  from?: string;
  to?: string;
  format: string;
  out?: string;
  force?: boolean;
  timeout: string;
}

const POLL_MS = 200;

export function registerReportCommand(program: Command, run: CommandRunner) {
  program
    .command('report')
    .description('generate a report through the report service and write it to a file')
    .argument('<type>', REPORT_TYPES.join(' | '))
    .option('--date <date>', 'daily: the day (default yesterday); weekly/monthly: a day after the period')
    .option('--from <date>', 'sales_stock, sales_lines: first day')
    .option('--to <date>', 'sales_stock, sales_lines: last day')
    .option('--format <format>', 'pdf | xlsx | csv', 'pdf')
    .option('--out <file>', 'where to write it (default: its download name, here)')
    .option('--force', 'make a new file even when one exists for the same data', false)
    .option('--timeout <seconds>', 'give up waiting after this long', '600')
    .action((type: string, flags: ReportFlags) => run((ctx) => report(ctx, type, flags)));
}

async function report(ctx: CliContext, type: string, flags: ReportFlags): Promise<ExitCode> {
  const body = parseArgs(ReportRequestSchema, {
    type,
    format: flags.format,
    ...(flags.date ? { date: flags.date } : {}),
    ...(flags.from ? { from: flags.from } : {}),
    ...(flags.to ? { to: flags.to } : {}),
    force: flags.force ?? false,
  });
  const timeoutMs = Number(flags.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new CliError('--timeout must be a number of seconds', EXIT.usage);

  return withContainer(ctx.config, ctx.options, async (services) => {
    const job = await services.reports.generate(body);
    const bar = progressBar(ctx.options, `report ${body.type} |{bar}| {percentage}% | {state}`);
    bar?.start(100, 0, { state: job.status });
    const deadline = Date.now() + timeoutMs;
    let status = await services.reports.status(job.jobId);
    while (status.state !== 'completed' && status.state !== 'failed') {
      if (Date.now() > deadline) {
        bar?.stop();
        throw new CliError(
          `report ${job.jobId} is still ${status.state} after ${flags.timeout} s` +
            (services.config.mode === 'shared' ? ' (is a worker running? npm run worker)' : ''),
          EXIT.jobFailed,
          { jobId: job.jobId, state: status.state },
        );
      }
      bar?.update(status.progress, { state: status.state });
      await sleep(POLL_MS);
      status = await services.reports.status(job.jobId);
    }
    bar?.update(status.state === 'completed' ? 100 : status.progress, { state: status.state });
    bar?.stop();
    if (status.state === 'failed') {
      throw new CliError(`report ${job.jobId} failed: ${status.error ?? 'unknown error'}`, EXIT.jobFailed, {
        jobId: job.jobId,
        state: status.state,
      });
    }
    const file = await services.reports.fileOfJob(job.jobId);
    const out = flags.out ?? file.name;
    await copyFile(file.path, out);
    const summary = {
      jobId: job.jobId,
      created: job.created,
      type: body.type,
      format: body.format,
      out,
      bytes: file.bytes,
      sha256: status.file?.sha256 ?? null,
    };
    if (ctx.options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else
      ctx.say(
        `wrote ${out} (${formatBytes(file.bytes)}, ${body.type} ${body.format}, job ${job.jobId}${job.created ? '' : ', reused'})`,
      );
    return EXIT.ok;
  });
}
