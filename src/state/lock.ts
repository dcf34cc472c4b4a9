import { hostname } from 'node:os';
import type { Database } from 'better-sqlite3';

export class LockedError extends Error {
  readonly exitCode = 5;
  constructor(message: string) {
    super(message);
    this.name = 'LockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock of the whole state file (older versions took only this one; `delete --id` without a connection takes it). */
export const WHOLE_STATE = 'sync';

/** The lock name of one connection. */
export const connectionLock = (connection: string): string => `connection:${connection}`;

interface LockRow {
  name: string;
  pid: number;
  host: string;
  started_at: string;
}

/**
 * Takes the locks of the connections a run works on, so two runs never send for the same connection of a state
 * file at once, while runs for different connections (a scheduler's parallel per-connection jobs) go side by side.
 * All or none: a connection held by a live run refuses the whole run before it plans or sends. A lock left by a
 * process that died (killed mid-run) is taken over: that is what makes a re-run safe.
 */
export function acquireLocks(db: Database, names: string[]): () => void {
  const wanted = new Set(names);
  const take = db.transaction(() => {
    const rows = db.prepare('SELECT name, pid, host, started_at FROM lock').all() as LockRow[];
    for (const row of rows) {
      if (row.pid === process.pid) continue;
      const live = row.host !== hostname() || alive(row.pid);
      if (!live) {
        db.prepare('DELETE FROM lock WHERE name = ? AND pid = ?').run(row.name, row.pid);
        continue;
      }
      if (wanted.has(WHOLE_STATE) || row.name === WHOLE_STATE || wanted.has(row.name)) {
        const what = row.name === WHOLE_STATE ? 'the lock of this state file' : `the lock of ${row.name.replace(/^connection:/, 'connection ')} in this state file`;
        throw new LockedError(`another run (pid ${row.pid} on ${row.host}, started ${row.started_at}) holds ${what}; wait for it to finish`);
      }
    }
    const insert = db.prepare('INSERT OR REPLACE INTO lock (name, pid, host, started_at) VALUES (?, ?, ?, ?)');
    const now = new Date().toISOString();
    for (const name of wanted) insert.run(name, process.pid, hostname(), now);
  });
  // IMMEDIATE: the check and the insert happen under one write lock, so two processes cannot both pass the check.
  take.immediate();
  return () => {
    const del = db.prepare('DELETE FROM lock WHERE name = ? AND pid = ?');
    db.transaction(() => wanted.forEach((name) => del.run(name, process.pid))).immediate();
  };
}

/** The lock of the whole state file (kept for callers that work on every connection). */
export function acquireLock(db: Database, name = WHOLE_STATE): () => void {
  return acquireLocks(db, [name]);
}
