/**
 * An import's dealings with the system of record: the reference data a plan compares with, the
 * sale lines already recorded under the file's ids, and the commit (chunks pushed to the bulk
 * endpoints under idempotency keys, stopping at the first chunk that fails).
 */
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { UpstreamClient } from '../../clients/upstream-client.ts';
import { formatDay } from '../../lib/calendar.ts';
import type { CommitReport } from '../../models/imports.ts';
import type { UpstreamBulkResult, UpstreamSaleLine } from '../../models/upstream.ts';
import type { ImportKind } from './import-fields.ts';
import {
  type ItemTypes,
  type PlannedRow,
  type ReferenceData,
  rowRanges,
  type ValidRow,
} from './import-plan.ts';
import type { ImportRequest } from './import-store.ts';

/** Errors, warnings and refusals an answer lists (the error workbook has them all). */
export const LISTED_ISSUES = 1000;

/** What an import needs of the upstream client. */
export type ImportUpstream = Pick<
  UpstreamClient,
  | 'getStores'
  | 'getProducts'
  | 'getStock'
  | 'salesPages'
  | 'bulkUpsertProducts'
  | 'bulkUpsertStock'
  | 'bulkInsertSales'
>;

export function importUpstreamFactory({
  upstream,
  logger,
}: {
  upstream: ImportUpstream;
  logger: Pick<FastifyBaseLogger, 'warn'>;
}) {
  /** Lines already recorded with the file's ids, read day by day over the days the file covers. */
  async function recordedSales(valid: ValidRow<'sales'>[]): Promise<Map<string, UpstreamSaleLine>> {
    const ids = new Set(valid.map((v) => v.value.id));
    const days = [...new Set(valid.map((v) => v.value.day))].sort((a, b) => a - b);
    const found = new Map<string, UpstreamSaleLine>();
    let i = 0;
    while (i < days.length) {
      let j = i;
      while (j + 1 < days.length && days[j + 1] === days[j]! + 1) j++;
      for await (const page of upstream.salesPages(formatDay(days[i]!), formatDay(days[j]!))) {
        for (const line of page.content) if (ids.has(line.id)) found.set(line.id, line);
      }
      i = j + 1;
    }
    return found;
  }

  /** What the plan compares with, except recorded sale lines: fetched while the file is read. */
  async function referenceData(kind: ImportKind): Promise<ReferenceData> {
    if (kind === 'products') return { stores: [], products: await upstream.getProducts() };
    const [stores, products] = await Promise.all([upstream.getStores(), upstream.getProducts()]);
    if (kind === 'stock') return { stores, products, stock: await upstream.getStock() };
    return { stores, products };
  }

  function bulk(kind: ImportKind) {
    if (kind === 'products')
      return (items: unknown[], key: string) =>
        upstream.bulkUpsertProducts(items as ItemTypes['products'][], { idempotencyKey: key });
    if (kind === 'stock')
      return (items: unknown[], key: string) =>
        upstream.bulkUpsertStock(items as ItemTypes['stock'][], { idempotencyKey: key });
    return (items: unknown[], key: string) =>
      upstream.bulkInsertSales(items as ItemTypes['sales'][], { idempotencyKey: key });
  }

  /** Pushes the rows that change something, chunk by chunk; stops at the first chunk that fails. */
  async function commit(
    request: ImportRequest,
    planned: PlannedRow<ImportKind>[],
    onChunk: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<CommitReport & { accepted: PlannedRow<ImportKind>[]; refused: Map<number, string> }> {
    const { kind, chunkSize } = request.options;
    const push = planned.filter((p) => p.action !== 'unchanged');
    const chunks = Math.ceil(push.length / chunkSize);
    const send = bulk(kind);
    const accepted: PlannedRow<ImportKind>[] = [];
    const failures: { row: number; message: string }[] = [];
    let created = 0;
    let updated = 0;
    let chunksSent = 0;
    let error: string | undefined;
    for (let c = 0; c < chunks; c++) {
      if (signal?.aborted)
        throw new Error('the import was stopped (shutdown); it resumes from its first chunk');
      const slice = push.slice(c * chunkSize, (c + 1) * chunkSize);
      const items = slice.map((p) => p.item);
      // Same import, same file rows → same key: a retried job replays a chunk that landed instead of
      // applying it again. The rows name the content (the file of an import never changes), and a
      // retry whose plan shifted (rows that landed are now unchanged) gets new keys. Hashing the
      // rows rather than the serialised items spares a second JSON.stringify of every chunk.
      const digest = createHash('sha256')
        .update(slice.map((p) => p.row).join(','))
        .digest('base64url')
        .slice(0, 16);
      const key = `${request.importId}.${c}.${digest}`;
      let answer: UpstreamBulkResult;
      try {
        answer = await send(items, key);
      } catch (err) {
        error = `chunk ${c + 1} of ${chunks} (rows ${slice[0]!.row}–${slice.at(-1)!.row}): ${
          err instanceof Error ? err.message : String(err)
        }`;
        logger.warn({ importId: request.importId, chunk: c, err }, 'import commit stopped');
        break;
      }
      chunksSent++;
      created += answer.created;
      updated += answer.updated;
      const refused = new Map(answer.failed.map((f) => [f.index, f.message]));
      slice.forEach((p, j) => {
        const message = refused.get(j);
        if (message === undefined) accepted.push(p);
        else failures.push({ row: p.row, message: `refused by the system of record: ${message}` });
      });
      onChunk(c + 1, chunks);
    }
    return {
      chunks,
      chunksSent,
      created,
      updated,
      unchanged: planned.length - push.length,
      failed: failures.length,
      notSent: push.length - accepted.length - failures.length,
      reachedUpstream: rowRanges(accepted.map((p) => p.row)),
      failures: failures.slice(0, LISTED_ISSUES),
      // every refusal, not only the listed ones: the error workbook says why each row did not land
      refused: new Map(failures.map((f) => [f.row, f.message])),
      ...(error ? { error } : {}),
      accepted,
    };
  }

  return { recordedSales, referenceData, commit };
}
