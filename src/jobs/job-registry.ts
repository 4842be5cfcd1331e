/**
 * The application's queues: queue name → job name → payload and result types. Enqueueing checks
 * against it (`jobs.enqueue('reports', 'render', { request, dataVersion })`), and both runners take their
 * processors in its shape (ProcessorsFor<AppJobs>). A new kind of job is a line here plus its
 * processor.
 *
 * Payloads carry ids and parameters, never data sets; results are small (where a file was written,
 * not the file): both live in Redis until retention drops them.
 */
import type { ImportStatus } from '../models/imports.ts';
import type { ReportJobRequest } from '../models/reports.ts';
import type { JobQueue, JobSpec, ProcessorsFor } from './queue-types.ts';

/** A report to render: its request and the version of the data it was asked over. */
export interface RenderReportPayload {
  request: ReportJobRequest;
  dataVersion: string;
  /** ISO: when the job was first asked for, printed as the report's "Produced" (absent in older jobs) */
  producedAt?: string;
}

/** Where the file went (an opaque name under EXPORTS_DIR/reports), its size and hash. */
export interface RenderReportResult {
  file: string;
  bytes: number;
  sha256: string;
}

/** An uploaded file to import: everything else (options, file) is stored under its id. */
export interface RunImportPayload {
  importId: string;
}

export type AppJobs = {
  reports: {
    render: JobSpec<RenderReportPayload, RenderReportResult>;
  };
  imports: {
    run: JobSpec<RunImportPayload, { status: ImportStatus }>;
  };
};

export type AppJobQueue = JobQueue<AppJobs>;
export type AppProcessors = ProcessorsFor<AppJobs>;
