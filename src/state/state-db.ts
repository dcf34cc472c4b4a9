import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { SCHEDULER_MIGRATIONS } from './scheduler-migrations.js';

// The engine's own state, in a SQLite file of its own: the Campus snapshot is replaced nightly and never written.
// Every table is keyed by connection (district:year) and resource so one state file can serve many.
const MIGRATIONS: string[] = [
  `CREATE TABLE identity_map (
     connection     TEXT NOT NULL,
     resource       TEXT NOT NULL,
     source_key     TEXT NOT NULL,
     student        TEXT,
     edfi_id        TEXT,
     natural_key    TEXT NOT NULL,
     body           TEXT NOT NULL,
     body_hash      TEXT NOT NULL,
     last_method    TEXT,
     last_status    INTEGER,
     last_outcome   TEXT,
     last_sent_at   TEXT,
     PRIMARY KEY (connection, resource, source_key)
   );
   CREATE INDEX identity_map_edfi_id ON identity_map(edfi_id);
   CREATE INDEX identity_map_student ON identity_map(student);

   CREATE TABLE error_log (
     error_id       INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id         INTEGER,
     at             TEXT NOT NULL,
     connection     TEXT,
     resource       TEXT,
     source_key     TEXT,
     student        TEXT,
     method         TEXT,
     status         INTEGER,
     level          TEXT NOT NULL,
     message        TEXT NOT NULL,
     catalogue_id   TEXT,
     spec_message   TEXT,
     cause          TEXT,
     fix            TEXT,
     body           TEXT,
     resolved       INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX error_log_key ON error_log(connection, resource, source_key);

   CREATE TABLE runs (
     run_id         INTEGER PRIMARY KEY AUTOINCREMENT,
     command        TEXT NOT NULL,
     profile        TEXT,
     snapshot       TEXT,
     started_at     TEXT NOT NULL,
     finished_at    TEXT,
     status         TEXT NOT NULL,
     summary        TEXT
   );

   CREATE TABLE eval_cache (
     connection     TEXT NOT NULL,
     resource       TEXT NOT NULL,
     source_key     TEXT NOT NULL,
     rules_key      TEXT NOT NULL,
     decision       TEXT NOT NULL,
     map_key        TEXT,
     body           TEXT,
     problems       TEXT,
     PRIMARY KEY (connection, resource, source_key)
   );

   CREATE TABLE excluded (
     run_id         INTEGER NOT NULL,
     connection     TEXT NOT NULL,
     source_key     TEXT NOT NULL,
     student        TEXT,
     kind           TEXT NOT NULL,
     rule_ids       TEXT NOT NULL,
     reasons        TEXT NOT NULL
   );

   CREATE TABLE lock (
     name           TEXT PRIMARY KEY,
     pid            INTEGER NOT NULL,
     host           TEXT,
     started_at     TEXT NOT NULL
   );`,
  // The body's hash and natural key beside it, so an unchanged record is judged without parsing its body.
  `ALTER TABLE eval_cache ADD COLUMN body_hash TEXT;
   ALTER TABLE eval_cache ADD COLUMN natural_key TEXT;`,
  // Named migrations of other modules (the error log's entries, run ids), applied in this order.
  ...SCHEDULER_MIGRATIONS.map((m) => m.sql),
];

/** Opens (creating when needed) a state file and brings its schema up to date. */
export function openState(file: string): Db {
  const db = new Database(file);
  // Parallel per-connection jobs share one state file: wait for another process's write instead of failing,
  // and let only one of them bring the schema up to date (the version is read again under the write lock).
  db.pragma('busy_timeout = 30000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  if ((db.pragma('user_version', { simple: true }) as number) < MIGRATIONS.length) {
    db.transaction(() => {
      const version = db.pragma('user_version', { simple: true }) as number;
      for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
  }
  return db;
}

/** A state in memory, for `plan` without --state: as if nothing had been sent yet. */
export function emptyState(): Db {
  return openState(':memory:');
}
