import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { COMPACT_EVAL_CACHE, PREFERENCES_IN_EFFECT } from './eval-cache.js';
import { IDENTITY_INSTANCES, OWNERSHIP_PER_INSTANCE } from './identity-map.js';
import { SCHEDULER_MIGRATIONS } from './scheduler-migrations.js';

// The engine's own state, in a SQLite file of its own: the Campus snapshot is replaced nightly and never written.
// Every table is keyed by connection (district:year) and resource so one state file can serve many.

/**
 * One change to the state file's tables. Applied once, in list order, and recorded by name in `migrations`, so
 * modules can add their own (each in its own file) without clashing version numbers: append yours at the end.
 */
export interface Migration {
  name: string;
  sql?: string;
  /** For changes SQL alone cannot make (e.g. hashing existing rows); runs inside the migration's transaction. */
  run?: (db: Db) => void;
}

export const MIGRATIONS: Migration[] = [
  {
    name: 'initial',
    sql: `CREATE TABLE identity_map (
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
  },
  {
    // The body's hash and natural key beside it, so an unchanged record is judged without parsing its body.
    name: 'eval-cache-hashes',
    sql: `ALTER TABLE eval_cache ADD COLUMN body_hash TEXT;
   ALTER TABLE eval_cache ADD COLUMN natural_key TEXT;`,
  },
  // The error log's entries and run ids (their own module); files written before names were recorded counted them
  // in user_version in this order.
  ...SCHEDULER_MIGRATIONS,
  OWNERSHIP_PER_INSTANCE,
  COMPACT_EVAL_CACHE,
  IDENTITY_INSTANCES,
  PREFERENCES_IN_EFFECT,
];

/**
 * Files written before migrations were recorded by name kept a count in `user_version`: the first that many of
 * the list are taken as applied.
 */
function appliedMigrations(db: Db): Set<string> {
  db.exec('CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const names = new Set((db.prepare('SELECT name FROM migrations').all() as Array<{ name: string }>).map((r) => r.name));
  const legacy = db.pragma('user_version', { simple: true }) as number;
  if (names.size === 0 && legacy > 0) {
    const at = new Date().toISOString();
    const record = db.prepare('INSERT INTO migrations (name, applied_at) VALUES (?, ?)');
    for (const m of MIGRATIONS.slice(0, legacy)) {
      record.run(m.name, at);
      names.add(m.name);
    }
  }
  return names;
}

function migrate(db: Db): void {
  const known = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'").get()
    ? new Set((db.prepare('SELECT name FROM migrations').all() as Array<{ name: string }>).map((r) => r.name))
    : new Set<string>();
  if (MIGRATIONS.every((m) => known.has(m.name))) return;
  // Parallel per-connection jobs share one state file: only one of them brings the schema up to date (what was
  // applied is read again under the write lock).
  db.transaction(() => {
    const applied = appliedMigrations(db);
    if (MIGRATIONS.every((m) => applied.has(m.name))) return;
    const record = db.prepare('INSERT INTO migrations (name, applied_at) VALUES (?, ?)');
    for (const m of MIGRATIONS) {
      if (applied.has(m.name)) continue;
      if (m.sql) db.exec(m.sql);
      m.run?.(db);
      record.run(m.name, new Date().toISOString());
    }
  }).immediate();
}

/** Opens (creating when needed) a state file and brings its schema up to date. */
export function openState(file: string): Db {
  const db = new Database(file);
  // Parallel per-connection jobs share one state file: wait for another process's write instead of failing.
  db.pragma('busy_timeout = 30000');
  if (file !== '' && file !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // A plan's working tables (desired records, operations, ...) live in the TEMP schema: on disk, not in memory,
  // so a million students cost disk space for the length of a run rather than RAM.
  db.pragma('temp_store = FILE');
  migrate(db);
  return db;
}

/**
 * A state for `plan` without --state: as if nothing had been sent yet. A private temporary file (SQLite removes
 * it when the connection closes), not memory: a large first plan would otherwise hold its cache in RAM.
 */
export function emptyState(): Db {
  return openState('');
}
