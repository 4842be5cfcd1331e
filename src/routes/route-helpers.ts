import type { FastifyReply } from 'fastify';
import type { CacheResult } from '../clients/cache/cache-types.ts';

/**
 * Tells the client where the data came from: `X-Cache: HIT|MISS|STALE`, `Age`, and for stale data
 * (the system of record failed) a `Warning: 110` and `X-Stale-Reason`, on top of `meta.stale`.
 */
export function cacheMeta(reply: FastifyReply, source: CacheResult<unknown>) {
  reply.header('x-cache', source.status.toUpperCase());
  reply.header('age', String(Math.floor(source.ageMs / 1000)));
  if (source.status === 'stale') {
    reply.header('warning', '110 - "Response is Stale"');
    if (source.staleReason)
      reply.header('x-stale-reason', source.staleReason.slice(0, 200).replace(/[\r\n]/g, ' '));
  }
  return {
    fetchedAt: new Date(Date.now() - source.ageMs).toISOString(),
    cache: source.status,
    stale: source.status === 'stale',
    ...(source.staleReason ? { staleReason: source.staleReason } : {}),
  };
}
