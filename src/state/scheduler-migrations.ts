// State-file migrations of the error log and the run history, registered by name in state-db.ts.

/** The key of "one record and one problem": connection, resource, the record (or, for a warning, its text), catalogue entry, held back or sent. */
export const PROBLEM_KEY_SQL = `IFNULL(connection, '') || char(31) || IFNULL(resource, '') || char(31) ||
  IFNULL(source_key, 'message:' || message) || char(31) || IFNULL(catalogue_id, '') || char(31) ||
  CASE WHEN held_back IS NULL THEN 'sent' ELSE 'held back' END`;

/**
 * The error log becomes one entry per record and problem (first seen, last seen, count, open or resolved) instead of
 * a row per run. Existing rows are folded: the open rows of a record and problem become one open entry, its resolved
 * rows one resolved entry. Rows of records the engine held back (never sent, though logged as "POST 400/409") are
 * recognised by the engine's own message texts and lose their method and status.
 */
const ERROR_LOG_ENTRIES = `
  CREATE TABLE error_entries (
    error_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_key      TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'open',
    first_seen       TEXT NOT NULL,
    last_seen        TEXT NOT NULL,
    count            INTEGER NOT NULL DEFAULT 1,
    first_run_id     INTEGER,
    last_run_id      INTEGER,
    resolved_at      TEXT,
    resolved_run_id  INTEGER,
    resolution       TEXT,
    connection       TEXT,
    resource         TEXT,
    source_key       TEXT,
    student          TEXT,
    method           TEXT,
    status           INTEGER,
    held_back        TEXT,
    level            TEXT NOT NULL,
    message          TEXT NOT NULL,
    catalogue_id     TEXT,
    spec_message     TEXT,
    cause            TEXT,
    fix              TEXT,
    body             TEXT
  );

  CREATE TEMP TABLE old_rows AS
    SELECT e.*,
      CASE
        WHEN e.message LIKE 'the body does not pass the Ed-Fi schema%' THEN 'edfi-schema'
        WHEN e.message LIKE 'same natural key as %' THEN 'duplicate-natural-key'
        WHEN e.message LIKE 'the source query returned % twice%' THEN 'duplicate-source-row'
        WHEN e.message LIKE 'not sent: the referenced %' THEN 'reference-check'
        WHEN e.status = 0 AND e.message LIKE '% changed after the record was sent%' THEN 'immutable-field'
      END AS held_back
    FROM error_log e;

  CREATE TEMP TABLE old_groups AS
    SELECT ${PROBLEM_KEY_SQL} AS problem_key, resolved,
           MIN(at) AS first_seen, MAX(at) AS last_seen, COUNT(*) AS n,
           MIN(run_id) AS first_run_id, MAX(run_id) AS last_run_id, MAX(error_id) AS last_row
    FROM old_rows GROUP BY 1, resolved;

  INSERT INTO error_entries
    (problem_key, state, first_seen, last_seen, count, first_run_id, last_run_id, resolved_at, resolution,
     connection, resource, source_key, student, method, status, held_back, level, message, catalogue_id, spec_message, cause, fix, body)
  SELECT g.problem_key, CASE WHEN g.resolved = 1 THEN 'resolved' ELSE 'open' END, g.first_seen, g.last_seen, g.n,
         g.first_run_id, g.last_run_id, CASE WHEN g.resolved = 1 THEN g.last_seen END,
         CASE WHEN g.resolved = 1 THEN 'resolved before this log kept one entry per problem' END,
         r.connection, r.resource, r.source_key, r.student,
         CASE WHEN r.held_back IS NULL THEN r.method END, CASE WHEN r.held_back IS NULL THEN r.status END, r.held_back,
         r.level, r.message, r.catalogue_id, r.spec_message, r.cause, r.fix, r.body
  FROM old_groups g JOIN old_rows r ON r.error_id = g.last_row
  ORDER BY g.first_seen, g.last_row;

  DROP TABLE old_groups;
  DROP TABLE old_rows;
  DROP TABLE error_log;
  ALTER TABLE error_entries RENAME TO error_log;
  CREATE UNIQUE INDEX error_log_open_problem ON error_log(problem_key) WHERE state = 'open';
  CREATE INDEX error_log_record ON error_log(connection, resource, source_key, state);
  CREATE INDEX error_log_runs ON error_log(last_run_id);
`;

/** Runs get an id that exists before the state file is opened (logs and --summary-json carry it) and their connections. */
const RUN_IDS = `
  ALTER TABLE runs ADD COLUMN run_uid TEXT;
  ALTER TABLE runs ADD COLUMN connections TEXT;
  CREATE INDEX runs_uid ON runs(run_uid);
`;

/**
 * A lock names its process by a token of its own (in containers every job is pid 1, often on one host name) and
 * says it is alive by a heartbeat (a process on another host cannot be asked).
 */
const LOCK_HEARTBEAT = `
  ALTER TABLE lock ADD COLUMN token TEXT;
  ALTER TABLE lock ADD COLUMN heartbeat_at TEXT;
`;

/** The pid namespace of a lock's process: a pid is asked about only within its own namespace (containers). */
const LOCK_PID_NAMESPACE = `
  ALTER TABLE lock ADD COLUMN pid_ns TEXT;
`;

export interface NamedMigration {
  name: string;
  sql: string;
}

export const SCHEDULER_MIGRATIONS: NamedMigration[] = [
  { name: 'error-log-entries', sql: ERROR_LOG_ENTRIES },
  { name: 'run-ids', sql: RUN_IDS },
  { name: 'lock-heartbeat', sql: LOCK_HEARTBEAT },
  { name: 'lock-pid-namespace', sql: LOCK_PID_NAMESPACE },
];
