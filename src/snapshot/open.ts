// The two ways the project touches a snapshot file: read a nightly export (checked), or write a new one
// (generator, fixtures) from the same DDL the check compares against.
import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { campusDdl } from './schema.js';
import { checkSnapshotSchema } from './schema-check.js';

export { checkSnapshotSchema, findSnapshotProblems, SnapshotSchemaError } from './schema-check.js';

/** The command line's exit code for an input that cannot be read (EXIT.input). */
const SNAPSHOT_UNREADABLE = 4;

/** An open snapshot connection (better-sqlite3). */
export type SnapshotDb = Database.Database;

/** Opens a snapshot read-only and throws SnapshotSchemaError if it does not match campus-schema.sql. */
export function openSnapshot(file: string): SnapshotDb {
  let db: SnapshotDb;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw Object.assign(new Error(`Cannot open snapshot ${file}: ${(err as Error).message}`), { exitCode: SNAPSHOT_UNREADABLE });
  }
  try {
    checkSnapshotSchema(db, file);
  } catch (err) {
    db.close();
    // A file that is not SQLite at all surfaces here, on the first read, as SQLITE_NOTADB.
    if (err instanceof Error && (err as { code?: string }).code === 'SQLITE_NOTADB') {
      throw Object.assign(new Error(`Cannot open snapshot ${file}: ${err.message}`), { exitCode: SNAPSHOT_UNREADABLE });
    }
    throw err;
  }
  return db;
}

export interface CreateSnapshotOptions {
  /** Replace an existing file. Off by default so a real export is never clobbered by mistake. */
  overwrite?: boolean;
}

/** Creates a new, empty snapshot file holding the Campus DDL, open for writing. */
export function createSnapshot(file: string, opts: CreateSnapshotOptions = {}): SnapshotDb {
  if (file !== ':memory:' && existsSync(file)) {
    if (!opts.overwrite) throw new Error(`Snapshot ${file} already exists`);
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  }
  const db = new Database(file);
  db.exec(campusDdl());
  return db;
}
