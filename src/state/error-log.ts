import type { Database, Statement } from 'better-sqlite3';
import type { CatalogueEntry } from '../errors/catalogue.js';

/** A row of the spec's Error Log: what failed, what the API said, and the spec's cause and fix. */
export interface ErrorLogEntry {
  errorId?: number;
  runId: number | null;
  at: string;
  connection: string | null;
  resource: string | null;
  sourceKey: string | null;
  student: string | null;
  method: string | null;
  status: number | null;
  level: 'error' | 'warning' | 'info';
  message: string;
  catalogueId: string | null;
  specMessage: string | null;
  cause: string | null;
  fix: string | null;
  body: string | null;
}

export interface ErrorFilter {
  resource?: string;
  status?: number;
  student?: string;
  sourceKey?: string;
  runId?: number;
  level?: string;
  limit?: number;
}

export function entryFor(base: Omit<ErrorLogEntry, 'catalogueId' | 'specMessage' | 'cause' | 'fix' | 'level'>, c: CatalogueEntry): ErrorLogEntry {
  return { ...base, level: c.level ?? 'error', catalogueId: c.id, specMessage: c.specMessage, cause: c.cause, fix: c.fix };
}

export class ErrorLog {
  private readonly insert: Statement;

  constructor(private readonly db: Database) {
    this.insert = db.prepare(`INSERT INTO error_log
      (run_id, at, connection, resource, source_key, student, method, status, level, message, catalogue_id, spec_message, cause, fix, body)
      VALUES (@runId, @at, @connection, @resource, @sourceKey, @student, @method, @status, @level, @message, @catalogueId, @specMessage, @cause, @fix, @body)`);
  }

  add(e: ErrorLogEntry): void {
    this.insert.run(e);
  }

  addMany(entries: ErrorLogEntry[]): void {
    this.db.transaction(() => entries.forEach((e) => this.insert.run(e)))();
  }

  /** A record that later went through cleanly: its old errors are resolved, not deleted (the log is history). */
  resolve(connection: string, resource: string, sourceKey: string): void {
    // Prepared once: the emitter resolves on every success, and a prepare per call was a tenth of its own cost.
    this.resolveStmt ??= this.db.prepare('UPDATE error_log SET resolved = 1 WHERE connection = ? AND resource = ? AND source_key = ? AND resolved = 0');
    this.resolveStmt.run(connection, resource, sourceKey);
  }

  private resolveStmt: Statement | undefined;

  list(filter: ErrorFilter = {}): ErrorLogEntry[] {
    const where: string[] = [];
    const p: Record<string, string | number> = {};
    if (filter.resource) (where.push('resource = @resource'), (p.resource = filter.resource));
    if (filter.status !== undefined) (where.push('status = @status'), (p.status = filter.status));
    if (filter.student) (where.push('student = @student'), (p.student = filter.student));
    if (filter.sourceKey) (where.push('source_key = @sourceKey'), (p.sourceKey = filter.sourceKey));
    if (filter.runId !== undefined) (where.push('run_id = @runId'), (p.runId = filter.runId));
    if (filter.level) (where.push('level = @level'), (p.level = filter.level));
    const sql = `SELECT error_id AS errorId, run_id AS runId, at, connection, resource, source_key AS sourceKey, student, method, status,
        level, message, catalogue_id AS catalogueId, spec_message AS specMessage, cause, fix, body
      FROM error_log${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY error_id${filter.limit ? ' LIMIT ' + Number(filter.limit) : ''}`;
    return this.db.prepare(sql).all(p) as ErrorLogEntry[];
  }

  /** Source keys whose latest logged outcome is an unresolved error: what `retry` resends. */
  unresolvedKeys(resource: string): Array<{ connection: string; sourceKey: string }> {
    return this.db
      .prepare(`SELECT DISTINCT connection, source_key AS sourceKey FROM error_log
                WHERE resource = ? AND resolved = 0 AND level = 'error' AND source_key IS NOT NULL`)
      .all(resource) as Array<{ connection: string; sourceKey: string }>;
  }
}
