/**
 * `salesflow alerts check [--date D]`: the alert check, as POST /api/v1/alerts/check and the
 * scheduled check do it (detect, lifecycle, one message per recipient through the ledger). Prints
 * the alerts it changed, with their explanations, and the deliveries; `--json` prints the answer.
 */
import type { Command } from 'commander';
import { type CheckAnswer, CheckBody } from '../models/alert-book.ts';
import {
  type CliContext,
  type CommandRunner,
  EXIT,
  type ExitCode,
  parseArgs,
  withContainer,
} from './cli-support.ts';

/** Alerts printed for people; --json has them all. */
const MAX_SHOWN = 100;

export function registerAlertsCommand(program: Command, run: CommandRunner) {
  const alerts = program.command('alerts').description('alert checks');
  alerts
    .command('check')
    .description('check a day for alerts and notify their recipients (as POST /api/v1/alerts/check)')
    .option('--date <date>', 'the business day to check, YYYY-MM-DD (default: yesterday)')
    .action((flags: { date?: string }) => run((ctx) => check(ctx, flags)));
}

function print(ctx: CliContext, answer: CheckAnswer) {
  const count = (change: string) => answer.alerts.filter((a) => a.change === change).length;
  const sent = answer.deliveries.filter((d) => d.state === 'sent' && d.claimed).length;
  ctx.say(
    `checked ${answer.day}${answer.closed ? ' (closed)' : ''}${answer.holiday ? ` (${answer.holiday})` : ''}: ` +
      `${answer.candidates} anomalies; ${count('fired')} fired, ${count('opened') + count('reopened')} pending, ` +
      `${count('continued')} continued, ${count('resolved')} resolved; ${sent} messages sent` +
      (answer.complete ? '' : ' (incomplete data)'),
  );
  // One alert per two lines, as the e-mail has them: what and where, then why.
  for (const a of answer.alerts.slice(0, MAX_SHOWN)) {
    const state =
      a.previousState && a.previousState !== a.state ? `${a.previousState} → ${a.state}` : a.state;
    const told = a.notify ? `notified: ${a.notify}` : a.suppressed ? `not notified: ${a.suppressed}` : '';
    ctx.say(
      `  ${a.severity.toUpperCase().padEnd(8)} ${state.padEnd(18)} ${a.entity.name} (${a.entity.level}) · ` +
        `${a.kind.replace(/_/g, ' ')} [${a.ruleId}] ${a.id}${told ? ` · ${told}` : ''}`,
    );
    ctx.say(`           ${a.summary}`);
  }
  if (answer.alerts.length > MAX_SHOWN) ctx.say(`  … and ${answer.alerts.length - MAX_SHOWN} more (--json)`);
  for (const d of answer.deliveries) {
    ctx.say(
      `  ${d.channel} ${d.address}: ${d.state}${d.claimed ? '' : ' (sent by an earlier check)'}, ` +
        `${d.alerts.length} alerts${d.error ? ` — ${d.error}` : ''}`,
    );
  }
}

async function check(ctx: CliContext, flags: { date?: string }): Promise<ExitCode> {
  const body = parseArgs(CheckBody, flags.date === undefined ? {} : { date: flags.date });
  return withContainer(ctx.config, ctx.options, async (services) => {
    const answer = await services.alertChecks.check(body);
    if (ctx.options.json) process.stdout.write(`${JSON.stringify(answer)}\n`);
    else print(ctx, answer);
    // A recipient not reached (failed, outcome unknown, still retrying) fails the check, as a
    // schedule run's does; one another instance is sending at this moment (pending, sending) not.
    const unreached = answer.deliveries.filter((d) => ['failed', 'unknown', 'retrying'].includes(d.state));
    return unreached.length === 0 ? EXIT.ok : EXIT.jobFailed;
  });
}
