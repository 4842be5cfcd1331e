/**
 * Schedules: create, read, change, delete. What zod cannot see is checked here, each problem a
 * 400 naming its field: the cron pattern, each recipient's address for its channel (and that the
 * channel is configured), and the stores and regions of the slices against the catalogue.
 */
import { randomBytes } from 'node:crypto';
import type { SchedulesRepo, StoredSchedule } from '../../db/repos/schedules.ts';
import { type FieldIssue, NotFoundError, ValidationError } from '../../errors.ts';
import type { Schedule, ScheduleCreate, SchedulePatch } from '../../models/schedules.ts';
import type { ChannelSet } from './channels/create-channels.ts';
import { cronProblem, nextFire } from './schedule-fns.ts';

export interface ScheduleServiceDeps {
  repo: SchedulesRepo;
  channels: Pick<ChannelSet, 'get'>;
  /** the catalogue's store ids and regions */
  catalog: { stores(): Promise<{ id: string; region: string }[]> };
  businessTz: string;
  /** told after each create, change and delete (the runner re-arms the schedule's timer) */
  onChange?: (id: string, schedule: StoredSchedule | undefined) => Promise<void>;
  now?: () => number;
}

export function scheduleServiceFactory({
  repo,
  channels,
  catalog,
  businessTz,
  onChange = async () => {},
  now = Date.now,
}: ScheduleServiceDeps) {
  function withNextRun(s: StoredSchedule): Schedule {
    const next = s.enabled ? nextFire(s.cron, s.timezone, now()) : null;
    return { ...s, nextRunAt: next === null ? null : new Date(next).toISOString() };
  }

  async function validate(s: StoredSchedule): Promise<void> {
    const issues: FieldIssue[] = [];
    const cron = cronProblem(s.cron);
    if (cron) issues.push({ path: 'body.cron', message: cron });
    const stores = await catalog.stores();
    const storeIds = new Set(stores.map((x) => x.id));
    const regions = new Set(stores.map((x) => x.region));
    for (const [i, r] of s.recipients.entries()) {
      const channel = channels.get(r.channel);
      const at = `body.recipients.${i}`;
      if (typeof channel === 'string') issues.push({ path: `${at}.channel`, message: channel });
      else {
        const problem = channel.validateAddress(r.address);
        if (problem) issues.push({ path: `${at}.address`, message: problem });
      }
      if (r.slice?.storeId !== undefined && !storeIds.has(r.slice.storeId))
        issues.push({ path: `${at}.slice.storeId`, message: `no store ${r.slice.storeId} in the catalogue` });
      if (r.slice?.region !== undefined && !regions.has(r.slice.region))
        issues.push({ path: `${at}.slice.region`, message: `no region ${r.slice.region} in the catalogue` });
    }
    if (issues.length) throw new ValidationError(`${issues[0]!.path}: ${issues[0]!.message}`, issues);
  }

  async function load(id: string): Promise<StoredSchedule> {
    const found = await repo.get(id);
    if (!found) throw new NotFoundError(`No schedule ${id}.`);
    return found;
  }

  return {
    async create(body: ScheduleCreate): Promise<Schedule> {
      const at = new Date(now()).toISOString();
      const schedule: StoredSchedule = {
        id: `sch-${randomBytes(12).toString('base64url')}`,
        ...body,
        timezone: body.timezone ?? businessTz,
        createdAt: at,
        updatedAt: at,
      };
      await validate(schedule);
      await repo.insert(schedule);
      await onChange(schedule.id, schedule);
      return withNextRun(schedule);
    },
    async get(id: string): Promise<Schedule> {
      return withNextRun(await load(id));
    },
    /** the stored schedule, for the runner */
    load,
    async list(filter: { enabled?: boolean | undefined; limit: number; offset: number }) {
      const { items, total } = await repo.list(filter);
      return { items: items.map(withNextRun), total, limit: filter.limit, offset: filter.offset };
    },
    async update(id: string, patch: SchedulePatch): Promise<Schedule> {
      const current = await load(id);
      const next: StoredSchedule = {
        ...current,
        ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
        updatedAt: new Date(now()).toISOString(),
      };
      await validate(next);
      if (!(await repo.update(next))) throw new NotFoundError(`No schedule ${id}.`);
      await onChange(id, next);
      return withNextRun(next);
    },
    async remove(id: string): Promise<void> {
      if (!(await repo.remove(id))) throw new NotFoundError(`No schedule ${id}.`);
      await onChange(id, undefined);
    },
  };
}

export type ScheduleService = ReturnType<typeof scheduleServiceFactory>;
