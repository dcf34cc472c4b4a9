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

/**
 * Takes the run lock of a state file, so two scheduled runs never send for the same state at once.
 * A lock left by a process that died (killed mid-run) is taken over: that is what makes a re-run safe.
 */
export function acquireLock(db: Database, name = 'sync'): () => void {
  const take = db.transaction(() => {
    const row = db.prepare('SELECT pid, host, started_at FROM lock WHERE name = ?').get(name) as { pid: number; host: string; started_at: string } | undefined;
    if (row && row.pid !== process.pid && (row.host !== hostname() || alive(row.pid))) {
      throw new LockedError(`another run (pid ${row.pid} on ${row.host}, started ${row.started_at}) holds the lock of this state file; wait for it to finish`);
    }
    db.prepare('INSERT OR REPLACE INTO lock (name, pid, host, started_at) VALUES (?, ?, ?, ?)').run(name, process.pid, hostname(), new Date().toISOString());
  });
  take.immediate();
  return () => {
    db.prepare('DELETE FROM lock WHERE name = ? AND pid = ?').run(name, process.pid);
  };
}
