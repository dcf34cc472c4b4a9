import type { Plan } from '../plan/plan-types.js';
import type { Database } from 'better-sqlite3';

/**
 * Records a run. `runUid` is the id its logs and --summary-json carry; `connections` the ones it works on
 * (parallel per-connection jobs each record their own run in a shared state file).
 */
export function startRun(db: Database, command: string, profile: string | null, snapshot: string | null, runUid: string | null = null, connections: string[] | null = null): number {
  const r = db
    .prepare(`INSERT INTO runs (command, profile, snapshot, started_at, status, run_uid, connections) VALUES (?, ?, ?, ?, 'running', ?, ?)`)
    .run(command, profile, snapshot, new Date().toISOString(), runUid, connections ? JSON.stringify(connections) : null);
  return Number(r.lastInsertRowid);
}

/**
 * Runs still "running" that a lock takeover found dead, of one connection (null: the whole state file's lock, held by
 * runs that name no connection; parallel jobs of connections are not touched): marked interrupted. Returns their numbers.
 */
export function markInterrupted(db: Database, connection: string | null): number[] {
  const rows = db.prepare(`SELECT run_id FROM runs WHERE status = 'running' AND finished_at IS NULL
      AND (connections IS NULL OR EXISTS (SELECT 1 FROM json_each(runs.connections) WHERE value = ?))`).all(connection) as Array<{ run_id: number }>;
  const mark = db.prepare("UPDATE runs SET status = 'interrupted' WHERE run_id = ?");
  for (const r of rows) mark.run(r.run_id);
  return rows.map((r) => r.run_id);
}

export function finishRun(db: Database, runId: number, status: string, summary: unknown): void {
  db.prepare('UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?').run(
    new Date().toISOString(),
    status,
    JSON.stringify(summary),
    runId,
  );
}

/**
 * The records the rules kept out of a run, for the report. Kept for each connection's last five runs only (it is a
 * large list): parallel runs of other connections do not push a connection's latest list out.
 */
export function recordExcluded(db: Database, runId: number, plan: Plan): void {
  const insert = db.prepare('INSERT INTO excluded (run_id, connection, source_key, student, kind, rule_ids, reasons) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const prune = db.prepare(`DELETE FROM excluded WHERE connection = ? AND run_id NOT IN
    (SELECT DISTINCT run_id FROM excluded WHERE connection = ? ORDER BY run_id DESC LIMIT 4)`);
  db.transaction(() => {
    for (const c of plan.connections) prune.run(c.connection, c.connection);
    for (const x of plan.excluded) {
      insert.run(runId, x.connection, x.sourceKey, x.student, x.decision.kind, x.decision.ruleIds.join(' '), x.decision.reasons.join('; '));
    }
  }).immediate();
}

export interface RunRow {
  run_id: number;
  command: string;
  profile: string | null;
  snapshot: string | null;
  started_at: string;
  finished_at: string | null;
  status: string;
  summary: string | null;
  run_uid: string | null;
  connections: string | null;
}

export function listRuns(db: Database): RunRow[] {
  return db.prepare('SELECT * FROM runs ORDER BY run_id').all() as RunRow[];
}
