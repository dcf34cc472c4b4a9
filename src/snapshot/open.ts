// The two ways the project touches a snapshot file: read a nightly export (checked), or write a new one
// (generator, fixtures) from the same DDL the check compares against.
import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { EXIT } from '../cli/exit-codes.js';
import { campusDdl } from './schema.js';
import { checkSnapshotSchema } from './schema-check.js';

export { checkSnapshotSchema, findSnapshotProblems, SnapshotSchemaError } from './schema-check.js';

/** The command line's exit code for an input that cannot be read (EXIT.input). */
const SNAPSHOT_UNREADABLE = 4;

/** An open snapshot connection (better-sqlite3). */
export type SnapshotDb = Database.Database;

/** A snapshot file that cannot be read at all (missing, not SQLite, damaged): an input problem, not a bug. */
export class SnapshotUnreadableError extends Error {
  readonly exitCode = EXIT.input;
  constructor(readonly file: string, reason: string) {
    super(`Cannot open snapshot ${file}: ${reason}`);
    this.name = 'SnapshotUnreadableError';
  }
}

/** SQLite's answers for a file that is not a readable database (damaged, truncated, not SQLite, unreadable). */
const UNREADABLE = /^SQLITE_(NOTADB|CORRUPT|CANTOPEN|IOERR|PERM|AUTH|FORMAT|RANGE)/;

/**
 * Opens a snapshot read-only and checks it against campus-schema.sql (SnapshotSchemaError lists every problem).
 * The checks read every table, so a damaged file is found here too (SnapshotUnreadableError); both exit 4.
 */
export function openSnapshot(file: string): SnapshotDb {
  let db: SnapshotDb;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new SnapshotUnreadableError(file, (err as Error).message);
  }
  try {
    checkSnapshotSchema(db, file);
  } catch (err) {
    db.close();
    // A file that is not SQLite at all, or a damaged one, surfaces on the first reads.
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && UNREADABLE.test(code)) throw new SnapshotUnreadableError(file, `${(err as Error).message} (${code})`);
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
  // A file being made (generator, fixture nights) is worthless until it is complete: a crash means making it again,
  // so no journal and no waiting for the disk on every statement (each fixture night writes one).
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec(`BEGIN;\n${campusDdl()}\nCOMMIT;`);
  return db;
}
