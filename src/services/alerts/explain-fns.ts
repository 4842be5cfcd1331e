/**
 * Explanations: which children (products, categories, stores) account for most of the gap between
 * an entity's actual and expected value, so one notification says where to look.
 */
import type { Contributor, Direction } from '../../models/alerts.ts';

export interface Child {
  kind: Contributor['kind'];
  id: string;
  name: string;
  actual: number;
  expected: number;
  promotion?: boolean;
}

/** Children named until they cover this part of the gap, */
export const EXPLAINED_SHARE = 0.8;
/** …and at most this many. */
export const MAX_CONTRIBUTORS = 5;

/**
 * The children moving the same way as the entity, largest gap first, until they cover 80 % of the
 * entity's gap (or five are named). Shares are of the entity's gap: children moving the other way
 * can make the named ones add up to more than 1.
 */
export function topContributors(
  children: readonly Child[],
  entityGap: number,
  direction: Direction,
  round: (v: number) => number = (v) => v,
): Contributor[] {
  if (entityGap === 0) return [];
  const sign = direction === 'drop' ? -1 : 1;
  const moving = children
    .map((c) => ({ c, gap: c.actual - c.expected }))
    .filter((x) => x.gap * sign > 0)
    .sort((x, y) => (y.gap - x.gap) * sign || x.c.id.localeCompare(y.c.id));
  const out: Contributor[] = [];
  let covered = 0;
  for (const { c, gap } of moving) {
    if (out.length >= MAX_CONTRIBUTORS || covered >= EXPLAINED_SHARE * Math.abs(entityGap)) break;
    covered += Math.abs(gap);
    out.push({
      kind: c.kind,
      id: c.id,
      name: c.name,
      actual: round(c.actual),
      expected: round(c.expected),
      gap: round(gap),
      share: Math.round((gap / entityGap) * 1000) / 1000,
      ...(c.promotion ? { promotion: true } : {}),
    });
  }
  return out;
}

/** Part of the gap made by children sold under their usual price. */
export function promotionShare(contributors: readonly Contributor[]): number {
  let s = 0;
  for (const c of contributors) if (c.promotion) s += c.share;
  return s;
}

export function summarize(
  entityName: string,
  metric: string,
  direction: Direction,
  actual: number,
  expected: number,
  contributors: readonly Contributor[],
): string {
  const pct = expected !== 0 ? Math.round(((actual - expected) / Math.abs(expected)) * 100) : null;
  const change = pct === null ? '' : ` (${pct > 0 ? '+' : ''}${pct} %)`;
  const head = `${entityName}: ${metric} ${direction === 'drop' ? 'down' : 'up'} to ${actual} against ${expected} expected${change}`;
  if (contributors.length === 0) return `${head}.`;
  const names = contributors.map((c) => `${c.name} ${Math.round(c.share * 100)} %`).join(', ');
  return `${head}; mostly ${names}.`;
}
