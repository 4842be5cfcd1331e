/**
 * `salesflow schedules list` and `salesflow schedules run <id> [--period P] [--dry-run]`: the same
 * services as GET /schedules and POST /schedules/{id}/run. A run is waited for (in embedded mode it
 * runs in this process; in shared mode a worker runs it) and its recipients' outcomes are printed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import {
  type CliContext,
  CliError,
  type CommandRunner,
  EXIT,
  type ExitCode,
  withContainer,
} from './cli-support.ts';

const POLL_MS = 200;

interface RunFlags {
  period?: string;
  dryRun?: boolean;
  timeout: string;
}

export function registerSchedulesCommand(program: Command, run: CommandRunner) {
  const schedules = program.command('schedules').description('scheduled report delivery');
  schedules
    .command('list')
    .description('the schedules, with their next fire time')
    .action(() => run((ctx) => list(ctx)));
  schedules
    .command('run')
    .description('run a schedule now (each recipient who does not have the period yet gets it)')
    .argument('<id>', 'schedule id (sch-...)')
    .option(
      '--period <period>',
      'daily: YYYY-MM-DD; weekly: YYYY-Www; monthly: YYYY-MM (default: the current one)',
    )
    .option('--dry-run', 'send nothing: list who would get which file', false)
    .option('--timeout <seconds>', 'give up waiting after this long', '600')
    .action((id: string, flags: RunFlags) => run((ctx) => runNow(ctx, id, flags)));
}

async function list(ctx: CliContext): Promise<ExitCode> {
  return withContainer(ctx.config, ctx.options, async (services) => {
    const { items } = await services.schedules.list({ limit: 500, offset: 0 });
    if (ctx.options.json) process.stdout.write(`${JSON.stringify(items)}\n`);
    else if (items.length === 0) ctx.say('no schedules');
    else
      for (const s of items)
        ctx.say(
          `${s.id}  ${s.enabled ? 'on ' : 'off'}  ${s.cron} ${s.timezone}  ${s.report.type} ${s.report.format}  ` +
            `${s.recipients.length} recipient(s)  next ${s.nextRunAt ?? '-'}  ${s.name}`,
        );
    return EXIT.ok;
  });
}

async function runNow(ctx: CliContext, id: string, flags: RunFlags): Promise<ExitCode> {
  const timeoutMs = Number(flags.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new CliError('--timeout must be a number of seconds', EXIT.usage);
  return withContainer(ctx.config, ctx.options, async (services) => {
    if (flags.dryRun) {
      const out = await services.deliveries.plan(id, flags.period);
      if (ctx.options.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else {
        ctx.say(
          `period ${out.period.key} (${out.period.from}..${out.period.to}), ${out.renders} file(s) to render`,
        );
        for (const r of out.recipients)
          ctx.say(
            `  ${r.channel} ${r.address}  ${r.slice}  ${r.files.join(', ')}${r.alreadyDelivered ? '  (has it)' : ''}`,
          );
      }
      return EXIT.ok;
    }
    const out = await services.deliveries.start(id, flags.period);
    const deadline = Date.now() + timeoutMs;
    let runInfo = await services.deliveries.runOf(id, out.runId).catch(() => undefined);
    while (!runInfo || runInfo.state === 'working') {
      if (Date.now() > deadline)
        throw new CliError(
          `run ${out.runId} is still ${runInfo?.state ?? 'queued'} after ${flags.timeout} s` +
            (services.config.mode === 'shared' ? ' (is a worker running? npm run worker)' : ''),
          EXIT.jobFailed,
          { runId: out.runId },
        );
      await sleep(POLL_MS);
      runInfo = await services.deliveries.runOf(id, out.runId).catch(() => undefined);
    }
    if (ctx.options.json) process.stdout.write(`${JSON.stringify(runInfo)}\n`);
    else {
      ctx.say(`run ${runInfo.id}: period ${runInfo.period}, ${runInfo.state}`);
      for (const r of runInfo.recipients)
        ctx.say(`  ${r.channel} ${r.address}  ${r.slice}  ${r.state}${r.reason ? `  (${r.reason})` : ''}`);
    }
    return runInfo.state === 'error' || runInfo.state === 'partial' ? EXIT.jobFailed : EXIT.ok;
  });
}
