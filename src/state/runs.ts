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
