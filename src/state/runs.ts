import type { Plan } from '../plan/plan-types.js';
import type { Database } from 'better-sqlite3';

export function startRun(db: Database, command: string, profile: string | null, snapshot: string | null): number {
  const r = db
    .prepare(`INSERT INTO runs (command, profile, snapshot, started_at, status) VALUES (?, ?, ?, ?, 'running')`)
    .run(command, profile, snapshot, new Date().toISOString());
  return Number(r.lastInsertRowid);
}

export function finishRun(db: Database, runId: number, status: string, summary: unknown): void {
  db.prepare('UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?').run(
    new Date().toISOString(),
    status,
    JSON.stringify(summary),
    runId,
  );
}

/** The records the rules kept out of a run, for the report (kept for the last five runs only: it is a large list). */
export function recordExcluded(db: Database, runId: number, plan: Plan): void {
  const insert = db.prepare('INSERT INTO excluded (run_id, connection, source_key, student, kind, rule_ids, reasons) VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    db.prepare('DELETE FROM excluded WHERE run_id NOT IN (SELECT run_id FROM runs ORDER BY run_id DESC LIMIT 5)').run();
    for (const x of plan.excluded) {
      insert.run(runId, x.connection, x.sourceKey, x.student, x.decision.kind, x.decision.ruleIds.join(' '), x.decision.reasons.join('; '));
    }
  })();
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
}

export function listRuns(db: Database): RunRow[] {
  return db.prepare('SELECT * FROM runs ORDER BY run_id').all() as RunRow[];
}
