/**
 * The metadata database's tables, as Kysely sees them. One definition serves SQLite and
 * PostgreSQL, so the columns keep to what both store the same way:
 * - timestamps are ISO 8601 UTC strings (`toISOString()`: fixed width, so they sort as text);
 * - JSON documents are text, parsed by the repository that owns the table;
 * - booleans are integers 0/1; counts are integers.
 */
export interface ImportsTable {
  id: string;
  kind: string;
  mode: string;
  on_error: string;
  /** ImportStatus: queued, running, validated, committed, partial, rejected, failed */
  status: string;
  file_name: string;
  file_bytes: number;
  file_format: string;
  /** the stored ImportRequest (JSON) */
  request: string;
  /** the ImportResult once finished (JSON), else null */
  result: string | null;
  rows: number;
  valid: number;
  invalid: number;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** The embedded queue's jobs, so that a job accepted survives a restart of the API. */
export interface JobRecordsTable {
  queue: string;
  id: string;
  name: string;
  /** JSON */
  payload: string;
  state: string;
  attempts: number;
  max_attempts: number;
  backoff_ms: number;
  /** queued: when it may run */
  run_at: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** JSON, once completed */
  result: string | null;
  error: string | null;
  updated_at: string;
}

/**
 * The delivery ledger: one row per (source, period, recipient, channel), claimed under a unique
 * key before anything is sent, so nothing goes out twice.
 */
export interface DeliveriesTable {
  /** dlv-<random>: what the API shows */
  id: string;
  /** unique: e.g. schedule:<id>:<period>:<channel>:<address> */
  key: string;
  /** schedule or alert */
  source: string;
  source_id: string;
  period: string;
  channel: string;
  address: string;
  /** pending, sending, sent, failed, retrying, unknown */
  state: string;
  attempts: number;
  /** sending: the sender's lease; past it, the outcome is unknown */
  lease_until: string | null;
  /** retrying: when the next attempt may start */
  next_attempt_at: string | null;
  provider_message_id: string | null;
  error: string | null;
  /** JSON: what to send (recipient name, slice, files), without secrets */
  detail: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

export interface SchedulesTable {
  id: string;
  name: string;
  enabled: number;
  /** JSON: {type, format, filters?} */
  report: string;
  cron: string;
  timezone: string;
  /** JSON: [{channel, address, name?, slice?}] */
  recipients: string;
  /** JSON */
  options: string;
  created_at: string;
  updated_at: string;
}

/** The execution log: one row per run of a schedule. */
export interface ScheduleRunsTable {
  id: string;
  schedule_id: string;
  period: string;
  /** cron, manual or catch_up */
  trigger: string;
  /** working, success, partial, error, noop */
  state: string;
  fire_at: string;
  started_at: string;
  finished_at: string | null;
  late: number;
  /** JSON: per recipient outcomes */
  outcome: string | null;
  error: string | null;
  /** attempts started (a retried run keeps its row) */
  attempts: number;
}

export interface Database {
  imports: ImportsTable;
  job_records: JobRecordsTable;
  deliveries: DeliveriesTable;
  schedules: SchedulesTable;
  schedule_runs: ScheduleRunsTable;
}
