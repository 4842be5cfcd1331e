/**
 * The application's queues: queue name → job name → payload and result types. Enqueueing checks
 * against it (`jobs.enqueue('reports', 'render', { reportId })`), and both runners take their
 * processors in its shape (ProcessorsFor<AppJobs>). A new kind of job is a line here plus its
 * processor.
 *
 * Payloads carry ids and parameters, never data sets; results are small (where a file was written,
 * not the file): both live in Redis until retention drops them.
 */
import type { JobQueue, JobSpec, ProcessorsFor } from './queue-types.ts';

/** Placeholder shapes until the reports work defines them. */
export interface RenderReportPayload {
  reportId: string;
}

export interface RenderReportResult {
  reportId: string;
  bytes: number;
}

export type AppJobs = {
  reports: {
    render: JobSpec<RenderReportPayload, RenderReportResult>;
  };
};

export type AppJobQueue = JobQueue<AppJobs>;
export type AppProcessors = ProcessorsFor<AppJobs>;
