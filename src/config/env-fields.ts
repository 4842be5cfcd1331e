/**
 * The zod building blocks of the environment schema, shared by config.ts and its sections
 * (config/*-config.ts): whole numbers in a range, flags, lists, URLs, time zones, currencies,
 * locales, cron patterns, API keys.
 */
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { z } from 'zod';

export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKeyEntry {
  /** sha256 of the key, hex; plain keys are hashed at load so only hashes stay in memory */
  hash: string;
  role: Role;
}

export const intFrom = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const booleanFlag = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? def : v === 'true' || v === '1' || v === 'yes'));

export const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export function isCronPattern(v: string): boolean {
  try {
    new Cron(v, { paused: true });
    return true;
  } catch {
    return false;
  }
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** `key:role` pairs, comma-separated; a key may be given hashed as `sha256=<64 hex>`. */
export const apiKeys = z
  .string({ error: 'is required: comma-separated key:role pairs' })
  .transform((raw, ctx) => {
    const entries: ApiKeyEntry[] = [];
    for (const [i, part] of raw.split(',').entries()) {
      const item = part.trim();
      if (!item) continue;
      const sep = item.lastIndexOf(':');
      const key = sep > 0 ? item.slice(0, sep) : '';
      const role = sep > 0 ? item.slice(sep + 1) : '';
      if (!key || !(ROLES as readonly string[]).includes(role)) {
        ctx.addIssue({
          code: 'custom',
          message: `entry ${i + 1} must be key:role with role one of ${ROLES.join(', ')}`,
        });
        continue;
      }
      let hash: string;
      if (key.startsWith('sha256=')) {
        hash = key.slice('sha256='.length).toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(hash)) {
          ctx.addIssue({
            code: 'custom',
            message: `entry ${i + 1}: sha256= must be followed by 64 hex digits`,
          });
          continue;
        }
      } else {
        if (key.length < 8) {
          ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: a key must have at least 8 characters` });
          continue;
        }
        hash = sha256Hex(key);
      }
      entries.push({ hash, role: role as Role });
    }
    if (entries.length === 0)
      ctx.addIssue({ code: 'custom', message: 'at least one key:role pair is required' });
    return entries;
  });

export const url = (protocols: string[]) =>
  z.url().refine((u) => URL.canParse(u) && protocols.includes(new URL(u).protocol), {
    message: `must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL`,
  });

export const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as Europe/Paris' },
);

export const currency = z
  .string()
  .transform((c) => c.toUpperCase())
  .refine((c) => Intl.supportedValuesOf('currency').includes(c), {
    message: 'must be an ISO 4217 currency code such as EUR, USD or GBP',
  });

export const locale = z.string().refine(
  (l) => {
    try {
      return Intl.NumberFormat.supportedLocalesOf([l]).length === 1;
    } catch {
      return false;
    }
  },
  { message: 'must be a BCP 47 locale this Node.js knows, such as en-GB, fr-FR or de-DE' },
);
