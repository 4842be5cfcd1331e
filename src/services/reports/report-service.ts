/**
 * Report jobs: a request becomes a job on the queue (deduplicated per request and data version),
 * a processor renders the file into the exports directory, and the files are served only by their
 * opaque job id, to API keys or through signed, expiring links.
 */

import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { UpstreamClient } from '../../clients/upstream-client.ts';
import type { Config } from '../../config.ts';
import { AppError, NotFoundError } from '../../errors.ts';
import type { AppJobQueue, RenderReportPayload, RenderReportResult } from '../../jobs/job-registry.ts';
import { type JobContext, type JobInfo, PermanentJobError } from '../../jobs/queue-types.ts';
import { businessDayFormatter, dayStartUtc, formatDay, wallClockFormatter } from '../../lib/calendar.ts';
import type { ReportJobRequest, ReportRequestBody } from '../../models/reports.ts';
import type { CatalogSnapshot, CatalogSnapshotService } from '../analytics/catalog-snapshot.ts';
import type { SalesAnalyticsService } from '../analytics/sales-analytics-service.ts';
import { queueProblem } from '../queue-problem.ts';
import { stableJson } from '../result-cache.ts';
import { isOrphanPart, partPathFor } from './part-files.ts';
import type { RenderPool } from './render-pool.ts';
import type { ReportBuilders } from './report-builders.ts';
import { downloadName, reportDays } from './report-names.ts';
import type { ReportFormat } from './report-types.ts';
import { type SalesLineLabels, writeSalesLinesCsv, writeSalesLinesXlsx } from './xlsx/sales-lines.ts';

const QUEUE = 'reports';
export const CONTENT_TYPES: Record<ReportFormat, string> = {
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
};
const FILE_NAME = /^rep-[A-Za-z0-9_-]{8,80}\.(pdf|xlsx|csv)$/;

export type { ReportJobRequest };
export { downloadName, reportDays };

export interface ReportServiceDeps {
  jobs: AppJobQueue;
  builders: ReportBuilders;
  /** PDF and XLSX rendering off the event loop */
  renderer: Pick<RenderPool, 'render'>;
  sales: Pick<SalesAnalyticsService, 'dataVersionOf'>;
  upstream: Pick<UpstreamClient, 'salesPages'>;
  catalog: CatalogSnapshotService;
  today: () => number;
  config: Pick<Config, 'reports' | 'businessTz'>;
  logger: FastifyBaseLogger;
}

export function reportServiceFactory(deps: ReportServiceDeps) {
  const { jobs, config, logger } = deps;
  const dir = join(config.reports.exportsDir, 'reports');
  const secret = config.reports.linkSecret ?? randomBytes(32).toString('hex');
  if (!config.reports.linkSecret) {
    logger.warn(
      'REPORT_LINK_SECRET is not set: signed download links only work on this instance until it restarts',
    );
  }

  function sign(jobId: string, expires: number): string {
    return createHmac('sha256', secret).update(`${jobId}.${expires}`).digest('base64url');
  }

  function links(jobId: string, now = Date.now()) {
    const expires = Math.floor(now / 1000) + Math.round(config.reports.linkTtlMs / 1000);
    return {
      downloadUrl: `/api/v1/reports/${jobId}/download`,
      signedUrl: `/api/v1/reports/${jobId}/download?expires=${expires}&sig=${sign(jobId, expires)}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }

  function toApi(job: JobInfo<RenderReportPayload, RenderReportResult | null>) {
    const r = job.result;
    return {
      jobId: job.id,
      type: job.payload.request.type,
      format: job.payload.request.format,
      state: job.state,
      progress: job.progress,
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      attempts: job.attempts,
      ...(job.error && job.state === 'failed' ? { error: job.error } : {}),
      ...(r && job.state === 'completed'
        ? { file: { name: r.file, bytes: r.bytes, sha256: r.sha256, ...links(job.id) } }
        : {}),
    };
  }

  async function getJob(jobId: string) {
    try {
      return (await jobs.get(QUEUE, jobId)) as JobInfo<RenderReportPayload, RenderReportResult | null> | null;
    } catch (err) {
      throw queueProblem(err);
    }
  }

  /** Renders a report into `path` (written to a temporary name, then renamed: never half a file). */
  async function render(payload: RenderReportPayload, path: string, ctx?: JobContext): Promise<void> {
    const { request } = payload;
    const tmp = partPathFor(path);
    try {
      if (request.type === 'sales_lines') {
        const days = reportDays(request, deps.today());
        const from = formatDay(days.from);
        const to = formatDay(days.to);
        const attrs = await deps.catalog.attributes();
        const tz = config.businessTz;
        const labels = salesLineLabels(attrs.snapshot, tz);
        const filters = request.filters;
        async function* pages() {
          let done = 0;
          for await (const page of deps.upstream.salesPages(from, to, ctx?.signal)) {
            const lines = page.content.filter(
              (l) =>
                (!filters?.storeId || filters.storeId.includes(l.storeId)) &&
                (!filters?.productId || filters.productId.includes(l.productId)),
            );
            yield lines;
            done++;
            if (ctx && page.totalPages > 0)
              await ctx.updateProgress(Math.round((done / page.totalPages) * 100));
          }
        }
        const out = createWriteStream(tmp);
        // The writers end `out` on success and leave it alone on failure: close it then.
        ctx?.signal.addEventListener('abort', () => out.destroy(), { once: true });
        const meta = {
          title: 'Sales lines',
          from,
          to,
          producedAt: payload.producedAt ?? new Date(dayStartUtc(days.to + 1, tz)).toISOString(),
          businessTz: tz,
        };
        try {
          if (request.format === 'csv') await writeSalesLinesCsv(pages(), labels, out);
          else await writeSalesLinesXlsx(pages(), labels, out, meta);
        } catch (err) {
          out.destroy();
          throw err;
        }
      } else {
        await ctx?.updateProgress(10);
        const doc = await deps.builders.build({
          type: request.type,
          date: request.date,
          from: request.from,
          to: request.to,
          filters: request.filters,
          top: request.top,
          producedAt: payload.producedAt,
        });
        await ctx?.updateProgress(60);
        const bytes = await deps.renderer.render(request.format === 'pdf' ? 'pdf' : 'xlsx', doc);
        await writeFile(tmp, bytes);
      }
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async function fileInfo(path: string) {
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    return { bytes: (await stat(path)).size, sha256: hash.digest('hex') };
  }

  return {
    /** The job processor (in-process in embedded mode, in the worker in shared mode). */
    async process(payload: RenderReportPayload, ctx: JobContext): Promise<RenderReportResult> {
      await mkdir(dir, { recursive: true });
      const file = `${ctx.id}.${payload.request.format}`;
      try {
        await render(payload, join(dir, file), ctx);
      } catch (err) {
        if (err instanceof AppError && err.status < 500) throw new PermanentJobError(err.message);
        throw err;
      }
      await ctx.updateProgress(100);
      return { file, ...(await fileInfo(join(dir, file))) };
    },

    /** Enqueues a report; the same request over the same data returns the existing job. */
    async generate(body: ReportRequestBody) {
      const { force, ...request } = body;
      const days = reportDays(request, deps.today());
      const dataVersion = await deps.sales.dataVersionOf(days.from, days.to);
      const base = createHash('sha256')
        .update(stableJson(request))
        .update(dataVersion)
        .digest('base64url')
        .slice(0, 24);
      const jobId = `rep-${base}${force ? `-${randomUUID().slice(0, 8)}` : ''}`;
      try {
        const { job, created } = await jobs.enqueue(
          QUEUE,
          'render',
          // the time of asking is part of the job: a retry or a re-render prints the same "Produced"
          { request, dataVersion, producedAt: new Date().toISOString() },
          { jobId, attempts: 3, backoffMs: 2_000 },
        );
        return {
          jobId: job.id,
          status: job.state,
          created,
          statusUrl: `/api/v1/reports/status/${job.id}`,
          downloadUrl: `/api/v1/reports/${job.id}/download`,
        };
      } catch (err) {
        throw queueProblem(err);
      }
    },

    /** Renders now and returns the bytes (small reports; no job, no file kept). */
    async renderNow(body: ReportRequestBody): Promise<{ bytes: Buffer; name: string; contentType: string }> {
      const { force: _force, ...request } = body;
      await mkdir(dir, { recursive: true });
      const path = join(dir, `sync-${randomUUID()}.${request.format}`);
      try {
        await render({ request, dataVersion: '', producedAt: new Date().toISOString() }, path);
        return {
          bytes: await readFile(path),
          name: downloadName(request, deps.today()),
          contentType: CONTENT_TYPES[request.format],
        };
      } finally {
        await rm(path, { force: true });
      }
    },

    async status(jobId: string) {
      const job = await getJob(jobId);
      if (!job) throw new NotFoundError(`No report job ${jobId}.`);
      return toApi(job);
    },

    async list(filter: { state?: JobInfo['state'] | undefined; limit: number; offset: number }) {
      try {
        const { jobs: list, total } = await jobs.list(QUEUE, {
          ...(filter.state ? { states: [filter.state] } : {}),
          limit: filter.limit,
          offset: filter.offset,
        });
        return {
          jobs: list.map((j) => toApi(j as JobInfo<RenderReportPayload, RenderReportResult | null>)),
          total,
          limit: filter.limit,
          offset: filter.offset,
        };
      } catch (err) {
        throw queueProblem(err);
      }
    },

    /** A completed job's file, for streaming: path, size, type and a friendly name. */
    async fileOfJob(jobId: string) {
      const job = await getJob(jobId);
      if (!job) throw new NotFoundError(`No report job ${jobId}.`);
      if (job.state !== 'completed' || !job.result) {
        throw new AppError(
          409,
          'report-not-ready',
          'Report not ready',
          `Report ${jobId} is ${job.state}; see its status.`,
        );
      }
      return this.fileByName(job.result.file, downloadName(job.payload.request, deps.today()));
    },

    /** A file this service produced, by its opaque name; anything else is refused. */
    async fileByName(name: string, friendlyName?: string) {
      if (!FILE_NAME.test(name)) throw new NotFoundError('No such report file.');
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) throw new NotFoundError('No such report file (it may have expired).');
      const format = name.slice(name.lastIndexOf('.') + 1) as ReportFormat;
      return { path, bytes: info.size, contentType: CONTENT_TYPES[format], name: friendlyName ?? name };
    },

    /**
     * A file rendered for delivery: the document rendered once into `name` (an opaque name under
     * the reports folder). A file that exists already (a resumed run) is kept as it is.
     */
    async renderDocumentTo(
      name: string,
      format: 'pdf' | 'xlsx',
      doc: import('./report-types.ts').ReportDocument,
    ): Promise<{ path: string; bytes: number; rendered: boolean }> {
      if (!FILE_NAME.test(name)) throw new Error(`not a report file name: ${name}`);
      await mkdir(dir, { recursive: true });
      const path = join(dir, name);
      const existing = await stat(path).catch(() => undefined);
      if (existing?.isFile()) return { path, bytes: existing.size, rendered: false };
      const tmp = partPathFor(path);
      try {
        await writeFile(tmp, await deps.renderer.render(format, doc));
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return { path, bytes: (await stat(path)).size, rendered: true };
    },

    /** A signed link to a file by name, that works without an API key until it expires. */
    fileLink(name: string, now = Date.now()): { url: string; expiresAt: string } {
      const expires = Math.floor(now / 1000) + Math.round(config.reports.linkTtlMs / 1000);
      return {
        url: `/api/v1/reports/download?file=${encodeURIComponent(name)}&expires=${expires}&sig=${sign(`file:${name}`, expires)}`,
        expiresAt: new Date(expires * 1000).toISOString(),
      };
    },

    verifyFileSignature(name: string, expires: number | undefined, sig: string | undefined) {
      return this.verifySignature(`file:${name}`, expires, sig);
    },

    verifySignature(
      jobId: string,
      expires: number | undefined,
      sig: string | undefined,
    ): 'valid' | 'expired' | 'invalid' {
      if (expires === undefined || !sig) return 'invalid';
      const expected = Buffer.from(sign(jobId, expires));
      const given = Buffer.from(sig);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
      return expires * 1000 < Date.now() ? 'expired' : 'valid';
    },

    /** Deletes report files older than REPORT_RETENTION_DAYS; returns how many. */
    /**
     * Deletes report files past their retention, and partial files whose writer is gone
     * (`startup`: also those of this pid, left by an earlier run of this process).
     */
    async cleanup(now = Date.now(), { startup = false }: { startup?: boolean } = {}): Promise<number> {
      const names = await readdir(dir).catch(() => [] as string[]);
      let removed = 0;
      for (const name of names) {
        const path = join(dir, name);
        const info = await stat(path).catch(() => undefined);
        if (
          info &&
          (now - info.mtimeMs > config.reports.retentionMs || isOrphanPart(name, info.mtimeMs, now, startup))
        ) {
          await rm(path, { force: true });
          removed++;
        }
      }
      if (removed) logger.info({ removed }, 'old report files deleted');
      return removed;
    },
  };
}

/** Store and product labels and the business day of each raw sale line, for the lines export. */
export function salesLineLabels(snapshot: CatalogSnapshot, tz: string): SalesLineLabels {
  return {
    store: (id) => {
      const s = snapshot.storeById.get(id);
      return s ? { name: s.name, region: s.region } : undefined;
    },
    product: (id) => {
      const p = snapshot.productById.get(id);
      return p ? { sku: p.sku, name: p.name, category: p.category, brand: p.brand } : undefined;
    },
    businessDay: businessDayFormatter(tz),
    wallClock: wallClockFormatter(tz),
  };
}

export type ReportService = ReturnType<typeof reportServiceFactory>;
