import { createReadStream } from 'node:fs';
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

/**
 * The same signals for a computed answer (analytics): `X-Cache: HIT|MISS|STALE`, and for an answer
 * built on older data a `Warning: 110`, on top of its `meta.stale`.
 */
export function answerMeta<T extends { meta: { cached: boolean; stale: boolean } }>(
  reply: FastifyReply,
  answer: T,
): T {
  reply.header('x-cache', answer.meta.stale ? 'STALE' : answer.meta.cached ? 'HIT' : 'MISS');
  if (answer.meta.stale) reply.header('warning', '110 - "Response is Stale"');
  return answer;
}

/** A download's Content-Disposition; the name is reduced to characters every client accepts. */
export function attachment(name: string): string {
  return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}

/** Streams a file from disk as a download. */
export function sendFile(
  reply: FastifyReply,
  file: { path: string; bytes: number; contentType: string; name: string },
) {
  return reply
    .header('content-type', file.contentType)
    .header('content-length', String(file.bytes))
    .header('content-disposition', attachment(file.name))
    .header('cache-control', 'private, max-age=0')
    .header('x-content-type-options', 'nosniff')
    .send(createReadStream(file.path));
}

/** Sends bytes made for this request as a download. */
export function sendBytes(reply: FastifyReply, file: { bytes: Buffer; contentType: string; name: string }) {
  return reply
    .header('content-type', file.contentType)
    .header('content-disposition', attachment(file.name))
    .send(file.bytes);
}
