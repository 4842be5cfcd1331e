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
  /** an admin's resends of a sent delivery: each copy gets a Message-ID of its own */
  resends: number;
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

/** Alert rules: each row one AlertRule (JSON), as the admin last saved it. */
export interface AlertRulesTable {
  id: string;
  /** JSON: the AlertRule, defaults filled in */
  rule: string;
  created_at: string;
  updated_at: string;
}

/**
 * Alerts: one row per (rule, entity), kept across days while it lasts and reopened by a later
 * episode. Days are YYYY-MM-DD business days; the latest detection is kept whole (JSON).
 */
export interface AlertsTable {
  /** alr-<hash of rule and entity>: the same (rule, entity) always has the same id */
  id: string;
  rule_id: string;
  entity_id: string;
  entity_level: string;
  entity_name: string;
  store_id: string | null;
  product_id: string | null;
  metric: string;
  kind: string;
  direction: string | null;
  /** pending, firing, resolved */
  state: string;
  severity: string;
  score: number | null;
  /** money at stake of the latest detection */
  money: number;
  /** first anomalous day of the current (or last) episode */
  first_seen: string;
  last_seen: string;
  /** the last day a check evaluated this alert's rule: a day at or before it changes nothing */
  last_checked: string;
  /** anomalous checks in a row in this episode */
  consecutive: number;
  episodes: number;
  fired_on: string | null;
  resolved_on: string | null;
  acknowledged: number;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  snoozed_until: string | null;
  last_notified_at: string | null;
  last_notified_day: string | null;
  /** JSON: the AlertCandidate of the latest anomalous day (score, explanation...) */
  detection: string;
  created_at: string;
  updated_at: string;
}

/** Silences: no notification for alerts of a rule and/or an entity until `ends_at`. */
export interface SilencesTable {
  id: string;
  rule_id: string | null;
  entity_id: string | null;
  starts_at: string;
  ends_at: string;
  comment: string;
  created_by: string | null;
  created_at: string;
}

export interface Database {
  imports: ImportsTable;
  job_records: JobRecordsTable;
  deliveries: DeliveriesTable;
  schedules: SchedulesTable;
  schedule_runs: ScheduleRunsTable;
  alert_rules: AlertRulesTable;
  alerts: AlertsTable;
  silences: SilencesTable;
}
