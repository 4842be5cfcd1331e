/**
 * Who hears about which alert, and in what order: pure, unit tested.
 *
 * Each notice (an alert that started firing, fires again past its repeat interval, or resolved)
 * goes to the recipients of its rule whose `slice` covers the alert's entity. A recipient is a
 * (channel, address): it gets ONE message per check with all of its notices, the most severe
 * first, then the most money at stake; resolutions come after.
 */
import { createHash } from 'node:crypto';
import type { AlertRecord, NotifyKind } from '../../models/alert-book.ts';
import type { AlertEntity, AlertFilters, AlertRule } from '../../models/alerts.ts';
import { severityRank } from './detection-fns.ts';

/** Where stores and products sit: regions, categories, brands (from the catalogue). */
export interface Hierarchy {
  regionOfStore(storeId: string): string | undefined;
  categoryOfProduct(productId: string): string | undefined;
  brandOfProduct(productId: string): string | undefined;
}

export interface Notice {
  alert: AlertRecord;
  notify: NotifyKind;
  ruleName: string;
}

export interface RecipientBucket {
  channel: AlertRule['recipients'][number]['channel'];
  address: string;
  name: string | undefined;
  notices: Notice[];
}

type Facets = Partial<Record<keyof AlertFilters, string>>;

/** The store, region, category, brand and product an entity belongs to, where it has one. */
export function facetsOf(entity: AlertEntity, h: Hierarchy): Facets {
  const f: Facets = {};
  const storeId = entity.level === 'store' ? entity.id : entity.storeId;
  if (storeId !== undefined) {
    f.storeId = storeId;
    const region = h.regionOfStore(storeId);
    if (region !== undefined) f.region = region;
  }
  if (entity.level === 'region') f.region = entity.id;
  if (entity.level === 'category') f.category = entity.id;
  if (entity.level === 'brand') f.brand = entity.id;
  const productId = entity.level === 'product' ? (entity.productId ?? entity.id) : undefined;
  if (productId !== undefined) {
    f.productId = productId;
    const category = h.categoryOfProduct(productId);
    const brand = h.brandOfProduct(productId);
    if (category !== undefined) f.category = category;
    if (brand !== undefined) f.brand = brand;
  }
  return f;
}

/**
 * A slice covers an entity when, for every key the slice gives, the entity has that facet and
 * it is one of the slice's values: a store manager's slice `{storeId: ['7']}` covers store 7 and
 * its store-product alerts, not its region nor a product over all stores.
 */
export function sliceCovers(slice: AlertFilters | undefined, entity: AlertEntity, h: Hierarchy): boolean {
  if (!slice) return true;
  const facets = facetsOf(entity, h);
  for (const key of Object.keys(slice) as (keyof AlertFilters)[]) {
    const wanted = slice[key];
    if (!wanted) continue;
    const value = facets[key];
    if (value === undefined || !wanted.includes(value)) return false;
  }
  return true;
}

/** Firing and repeats first, then resolutions; each by severity, then money at stake, then id. */
export function compareNotices(a: Notice, b: Notice): number {
  const group = (n: Notice) => (n.notify === 'resolved' ? 1 : 0);
  return (
    group(a) - group(b) ||
    severityRank(b.alert.severity) - severityRank(a.alert.severity) ||
    b.alert.moneyAtStake - a.alert.moneyAtStake ||
    a.alert.id.localeCompare(b.alert.id)
  );
}

/** One bucket per (channel, address), each with its notices ranked; buckets in a stable order. */
export function groupByRecipient(
  notices: readonly Notice[],
  rules: ReadonlyMap<string, Pick<AlertRule, 'recipients'>>,
  h: Hierarchy,
): RecipientBucket[] {
  const buckets = new Map<string, RecipientBucket>();
  for (const notice of notices) {
    const rule = rules.get(notice.alert.ruleId);
    for (const r of rule?.recipients ?? []) {
      if (!sliceCovers(r.slice, notice.alert.entity, h)) continue;
      const key = `${r.channel}\u0000${r.address.trim().toLowerCase()}`;
      let b = buckets.get(key);
      if (!b) {
        b = { channel: r.channel, address: r.address.trim(), name: r.name, notices: [] };
        buckets.set(key, b);
      }
      b.name ??= r.name;
      if (!b.notices.some((n) => n.alert.id === notice.alert.id)) b.notices.push(notice);
    }
  }
  const out = [...buckets.values()];
  for (const b of out) b.notices.sort(compareNotices);
  return out.sort((x, y) => x.channel.localeCompare(y.channel) || x.address.localeCompare(y.address));
}

/**
 * Names the set of notices a message carries: the same alerts and events give the same id, so the
 * ledger key (day, set, recipient) of a message sent once is found again by a repeated check.
 */
export function noticeSetId(notices: readonly Notice[]): string {
  const parts = notices.map((n) => `${n.alert.id}:${n.notify}`).sort();
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 16);
}

/** The id of a (rule, entity): stable, so a check can name an alert before it is stored. */
export function alertIdOf(ruleId: string, entityId: string): string {
  return `alr-${createHash('sha256').update(`${ruleId}\u0000${entityId}`).digest('base64url').slice(0, 22)}`;
}
