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
import type { RunState, RunTrigger } from '../models/schedules.ts';
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

/** One run of a schedule for one period (the run id is the job id). */
export interface RunSchedulePayload {
  scheduleId: string;
  runId: string;
  /** the period key; absent: the period the fire time covers */
  period?: string;
  /** ISO: when the schedule fired (or was run by hand) */
  fireAt: string;
  trigger: RunTrigger;
  late: boolean;
}

export interface RunScheduleResult {
  runId: string;
  state: Exclude<RunState, 'working'>;
  sent: number;
  failed: number;
  unknown: number;
  skipped: number;
}

export type AppJobs = {
  deliveries: {
    /** a schedule's run: render once per slice, send to each recipient through the ledger */
    run: JobSpec<RunSchedulePayload, RunScheduleResult>;
    /** a job scheduler's fire (shared mode): enqueues the runs that are due, caught-up ones included */
    fire: JobSpec<{ scheduleId: string }, { enqueued: number }>;
    /** an admin's resend of one delivery (reopened in the ledger) */
    resend: JobSpec<{ deliveryId: string }, { state: string }>;
    /** the daily alert check (ALERTS_CRON), made by a job scheduler in shared mode */
    'alerts-check': JobSpec<Record<string, never>, { day: string; alerts: number; deliveries: number }>;
  };
  reports: {
    render: JobSpec<RenderReportPayload, RenderReportResult>;
  };
  imports: {
    run: JobSpec<RunImportPayload, { status: ImportStatus }>;
  };
};

export type AppJobQueue = JobQueue<AppJobs>;
export type AppProcessors = ProcessorsFor<AppJobs>;
