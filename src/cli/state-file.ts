import { existsSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { emptyState, openState } from '../state/state-db.js';
import { inputError } from './cli-error.js';

/**
 * Opens the state file named on the command line. A file that is not a state file (corrupt, another kind of file,
 * a folder that does not exist) is an input problem that names the path: nothing is written to it.
 */
export function openStateFile(file: string | undefined, o: { mustExist?: boolean } = {}): Database {
  if (!file) return emptyState();
  // Commands that only read the state (errors, identity, report) never create one by a typo.
  if (o.mustExist && !existsSync(file)) throw inputError(`state file ${file} does not exist`);
  try {
    return openState(file);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const why = e.code === 'SQLITE_NOTADB' ? 'it is not a state file (not an SQLite database, or corrupt)'
      : e.code === 'SQLITE_CORRUPT' ? 'it is corrupt'
      : e.code === 'SQLITE_CANTOPEN' ? 'it cannot be opened (does its folder exist, and may this user write there?)'
      : e.message ?? String(err);
    throw inputError(`state file ${file}: ${why}. Restore it from a backup, or start a new one and run \`resync\` to adopt what the ODS holds.`);
  }
}
