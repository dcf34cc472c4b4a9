import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
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

/**
 * This process, as its locks name it. A pid alone is not a process: every job of a container image is pid 1, and
 * two containers can share a host name (host networking); a lock of "pid 1" was taken for this process's own.
 */
const TOKEN = randomUUID();

/** This process's pid namespace ("pid:[4026531836]" on Linux), or null where there is none to read. */
const PID_NS = ((): string | null => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
})();

/** How often a holder says it is alive. */
const HEARTBEAT_MS = 30_000;

/**
 * A lock whose holder has not said it is alive for this long is abandoned (a pod evicted or killed on another host,
 * where its pid cannot be asked). Far above the heartbeat: a long synchronous step delays the heartbeat, it does not
 * stop it. EDFI_SYNC_STALE_LOCK_MINUTES changes it.
 */
export function staleAfterMs(env: NodeJS.ProcessEnv = process.env): number {
  const minutes = Number(env['EDFI_SYNC_STALE_LOCK_MINUTES'] ?? 30);
  return (Number.isFinite(minutes) && minutes > 0 ? minutes : 30) * 60_000;
}

export interface LockRow {
  name: string;
  pid: number;
  host: string | null;
  started_at: string;
  token: string | null;
  heartbeat_at: string | null;
  pid_ns: string | null;
}

/** How a lock row stands for this process: its own, held by a live run, or left by a run that is gone. */
export function lockState(row: LockRow, now = Date.now(), staleMs = staleAfterMs()): 'mine' | 'live' | 'abandoned' {
  // Every lock this version takes carries its token: a row without one is an older version's, never this process's.
  if (row.token !== null && row.token === TOKEN) return 'mine';
  const seen = Date.parse(row.heartbeat_at ?? row.started_at);
  if (Number.isFinite(seen) && now - seen > staleMs) return 'abandoned';
  // A pid can be asked only on this host and in this pid namespace (containers on one host name each have their
  // own pid 1); elsewhere the holder is alive until its heartbeat goes stale.
  const askable = row.host === hostname() && row.pid !== process.pid && (row.token === null || (row.pid_ns !== null && row.pid_ns === PID_NS));
  if (askable) return alive(row.pid) ? 'live' : 'abandoned';
  return 'live';
}

export function lockRows(db: Database): LockRow[] {
  return db.prepare('SELECT name, pid, host, started_at, token, heartbeat_at, pid_ns FROM lock ORDER BY name').all() as LockRow[];
}

/** What a message says of a lock's holder. */
export function holderText(row: LockRow): string {
  return `pid ${row.pid} on ${row.host ?? 'an unknown host'}, started ${row.started_at}${row.heartbeat_at ? `, last alive ${row.heartbeat_at}` : ''}`;
}

/**
 * Takes the locks of the connections a run works on, so two runs never send for the same connection of a state
 * file at once, while runs for different connections (a scheduler's parallel per-connection jobs) go side by side.
 * All or none: a connection held by a live run refuses the whole run before it plans or sends. A lock left by a
 * process that died (killed mid-run on this host, or silent for longer than staleAfterMs() anywhere) is taken
 * over, and `onTakeOver` told: that is what makes a re-run safe.
 */
export function acquireLocks(db: Database, names: string[], onTakeOver?: (row: LockRow) => void): () => void {
  const wanted = new Set(names);
  const takenOver: LockRow[] = [];
  const take = db.transaction(() => {
    for (const row of lockRows(db)) {
      // Only the locks in this run's way: another connection's lock, live or not, is its next run's business.
      if (!(wanted.has(WHOLE_STATE) || row.name === WHOLE_STATE || wanted.has(row.name))) continue;
      const state = lockState(row);
      if (state === 'mine') continue;
      if (state === 'abandoned') {
        db.prepare('DELETE FROM lock WHERE name = ? AND pid = ? AND token IS ?').run(row.name, row.pid, row.token);
        takenOver.push(row);
        continue;
      }
      const what = row.name === WHOLE_STATE ? 'the lock of this state file' : `the lock of ${row.name.replace(/^connection:/, 'connection ')} in this state file`;
      throw new LockedError(`another run (${holderText(row)}) holds ${what}; wait for it to finish (if that run is gone, e.g. its container was removed, ` +
        `\`edfi-sync unlock\` ends its lock, or it is taken over ${Math.round(staleAfterMs() / 60_000)} minutes after it was last alive)`);
    }
    const insert = db.prepare('INSERT OR REPLACE INTO lock (name, pid, host, started_at, token, heartbeat_at, pid_ns) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const now = new Date().toISOString();
    for (const name of wanted) insert.run(name, process.pid, hostname(), now, TOKEN, now, PID_NS);
  });
  // IMMEDIATE: the check and the insert happen under one write lock, so two processes cannot both pass the check.
  take.immediate();
  for (const row of takenOver) onTakeOver?.(row);
  const beat = setInterval(() => {
    // Not inside a transaction of the run (a plan's pass): the beat would take the state file's write lock with it.
    // A missed beat costs nothing; the stale time is sixty beats.
    if (db.inTransaction) return;
    try {
      db.prepare('UPDATE lock SET heartbeat_at = ? WHERE token = ?').run(new Date().toISOString(), TOKEN);
    } catch {
      // A busy or closed state file: the next beat tries again; a lock is abandoned only after many missed beats.
    }
  }, HEARTBEAT_MS);
  beat.unref();
  return () => {
    clearInterval(beat);
    const del = db.prepare('DELETE FROM lock WHERE name = ? AND token = ?');
    db.transaction(() => wanted.forEach((name) => del.run(name, TOKEN))).immediate();
  };
}

/** The lock of the whole state file (kept for callers that work on every connection). */
export function acquireLock(db: Database, name = WHOLE_STATE): () => void {
  return acquireLocks(db, [name]);
}
