import { createReadStream } from 'node:fs';
import type { FastifyReply } from 'fastify';
import type { CacheResult } from '../clients/cache/cache-types.ts';
import type { ServedAnswer } from '../services/result-cache.ts';

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

/**
 * Sends an answer serialised by its service (checked against the route's response schema there,
 * once per computed answer), with the signals of `answerMeta`. Bytes skip fastify's serializer; the
 * route keeps its response schema for the OpenAPI document.
 */
export function sendAnswer(reply: FastifyReply, answer: ServedAnswer) {
  reply.header('x-cache', answer.stale ? 'STALE' : answer.cached ? 'HIT' : 'MISS');
  if (answer.stale) reply.header('warning', '110 - "Response is Stale"');
  return reply.type('application/json; charset=utf-8').send(answer.body);
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
