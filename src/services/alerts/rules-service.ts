/**
 * Alert rules as data: stored in the metadata database (a fresh install has the defaults, seeded
 * by the migration), validated by the detection's own model, and each recipient's address
 * checked for its channel, as schedules do. A problem is a 400 naming its field.
 */
import type { AlertRulesRepo } from '../../db/repos/alert-rules.ts';
import { AppError, type FieldIssue, NotFoundError, ValidationError } from '../../errors.ts';
import { AlertRule } from '../../models/alerts.ts';
import type { ChannelSet } from '../delivery/channels/create-channels.ts';

export interface AlertRulesDeps {
  repo: AlertRulesRepo;
  channels: Pick<ChannelSet, 'get'>;
  logger: { warn(o: object, m: string): void };
  now?: () => number;
}

export function alertRulesServiceFactory({ repo, channels, logger, now = Date.now }: AlertRulesDeps) {
  /** A stored rule, read with today's model (a newer default fills a newer field). */
  function parse(stored: unknown): AlertRule | undefined {
    const parsed = AlertRule.safeParse(stored);
    if (parsed.success) return parsed.data;
    const id = (stored as { id?: unknown } | null)?.id;
    logger.warn(
      { ruleId: id, issues: parsed.error.issues.slice(0, 3) },
      'stored alert rule ignored: invalid',
    );
    return undefined;
  }

  function validateRecipients(rule: AlertRule): void {
    const issues: FieldIssue[] = [];
    for (const [i, r] of rule.recipients.entries()) {
      const channel = channels.get(r.channel);
      const at = `body.recipients.${i}`;
      if (typeof channel === 'string') issues.push({ path: `${at}.channel`, message: channel });
      else {
        const problem = channel.validateAddress(r.address);
        if (problem) issues.push({ path: `${at}.address`, message: problem });
      }
    }
    if (issues.length) throw new ValidationError(`${issues[0]!.path}: ${issues[0]!.message}`, issues);
  }

  async function list(): Promise<AlertRule[]> {
    const rows = await repo.list();
    return rows.map((r) => parse(r.rule)).filter((r): r is AlertRule => r !== undefined);
  }

  async function get(id: string): Promise<AlertRule> {
    const row = await repo.get(id);
    const rule = row ? parse(row.rule) : undefined;
    if (!rule) throw new NotFoundError(`No alert rule ${id}.`);
    return rule;
  }

  return {
    list,
    get,
    /** the enabled rules: what a check runs */
    async enabled(): Promise<AlertRule[]> {
      return (await list()).filter((r) => r.enabled);
    },
    /** what a backtest replays: the rule named (enabled or not: it is being tuned), else the enabled ones */
    async forBacktest(ruleId: string | undefined): Promise<AlertRule[]> {
      const rules = await list();
      if (ruleId === undefined) return rules.filter((r) => r.enabled);
      const rule = rules.find((r) => r.id === ruleId);
      if (!rule)
        throw new ValidationError(`Unknown rule '${ruleId}'.`, [
          { path: 'rule', message: `one of ${rules.map((r) => r.id).join(', ')}` },
        ]);
      return [rule];
    },
    async create(rule: AlertRule): Promise<AlertRule> {
      validateRecipients(rule);
      if (!(await repo.insert(rule, new Date(now()).toISOString())))
        throw new AppError(
          409,
          'conflict',
          'Conflict',
          `An alert rule ${rule.id} exists: PUT it to change it.`,
        );
      return rule;
    },
    async replace(id: string, rule: AlertRule): Promise<AlertRule> {
      if (rule.id !== id)
        throw new ValidationError(`body.id: must be the rule's id (${id})`, [
          { path: 'body.id', message: `must be the rule's id (${id})` },
        ]);
      validateRecipients(rule);
      if (!(await repo.update(rule, new Date(now()).toISOString())))
        throw new NotFoundError(`No alert rule ${id}.`);
      return rule;
    },
    async remove(id: string): Promise<void> {
      if (!(await repo.remove(id))) throw new NotFoundError(`No alert rule ${id}.`);
    },
  };
}

export type AlertRulesService = ReturnType<typeof alertRulesServiceFactory>;
