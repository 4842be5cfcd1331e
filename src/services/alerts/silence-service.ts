/** Silences: create, read, list, delete. A silence matches a rule, an entity, or both, until it ends. */
import { randomBytes } from 'node:crypto';
import type { AlertSilences, StoredSilence } from '../../db/repos/alert-silences.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { Silence, SilenceCreate } from '../../models/alert-book.ts';
import { durationMs } from './lifecycle-fns.ts';

export interface SilenceServiceDeps {
  repo: AlertSilences;
  now?: () => number;
}

export function silenceServiceFactory({ repo, now = Date.now }: SilenceServiceDeps) {
  const view = (s: StoredSilence, at: string): Silence => ({
    ...s,
    active: s.startsAt <= at && at < s.endsAt,
  });

  return {
    async create(body: SilenceCreate, createdBy: string | null): Promise<Silence> {
      const at = now();
      const ends = body.for !== undefined ? at + durationMs(body.for) : Date.parse(body.endsAt!);
      if (!(ends > at))
        throw new ValidationError('body.endsAt: must be in the future', [
          { path: 'body.endsAt', message: 'must be in the future' },
        ]);
      const iso = new Date(at).toISOString();
      const silence: StoredSilence = {
        id: `sil-${randomBytes(12).toString('base64url')}`,
        ruleId: body.ruleId ?? null,
        entityId: body.entityId ?? null,
        startsAt: iso,
        endsAt: new Date(ends).toISOString(),
        comment: body.comment,
        createdBy,
        createdAt: iso,
      };
      await repo.insert(silence);
      return view(silence, iso);
    },
    async get(id: string): Promise<Silence> {
      const found = await repo.get(id);
      if (!found) throw new NotFoundError(`No silence ${id}.`);
      return view(found, new Date(now()).toISOString());
    },
    async list(filter: { active?: boolean | undefined; limit: number; offset: number }) {
      const at = new Date(now()).toISOString();
      const { items, total } = await repo.list({ ...filter, now: at });
      return { items: items.map((s) => view(s, at)), total, limit: filter.limit, offset: filter.offset };
    },
    async remove(id: string): Promise<void> {
      if (!(await repo.remove(id))) throw new NotFoundError(`No silence ${id}.`);
    },
  };
}

export type SilenceService = ReturnType<typeof silenceServiceFactory>;
