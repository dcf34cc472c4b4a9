import type { Database, Statement } from 'better-sqlite3';
import type { CatalogueEntry, ErrorCatalogue } from '../errors/catalogue.js';
import { fillSpecText } from '../errors/spec-text.js';
import type { PlanIssue, PlanWarning } from '../plan/plan-types.js';

/**
 * One entry of the spec's Error Log: one record (or, for a warning, one text) and one problem, with when it was
 * first and last seen and how often. An entry is open until the record goes through, or until a complete run of
 * its connection no longer finds a problem the engine itself found (held back, warning).
 */
export interface ErrorLogEntry {
  errorId?: number;
  /** The run that saw it last (the state file's run number). */
  runId: number | null;
  /** When it was seen (on input); the last time it was seen (when listed). */
  at: string;
  connection: string | null;
  resource: string | null;
  sourceKey: string | null;
  student: string | null;
  /** The request that failed; null for a record held back (not sent) and for warnings. */
  method: string | null;
  /** HTTP status of the failed request; null when nothing was sent. */
  status: number | null;
  level: 'error' | 'warning' | 'info';
  message: string;
  catalogueId: string | null;
  /** The spec's error text, RESOURCE and FIELD filled in. */
  specMessage: string | null;
  cause: string | null;
  fix: string | null;
  body: string | null;
  /** The check that held the record back ("held back, not sent"); absent or null when the record was sent. */
  heldBack?: string | null;
  // Filled when listed:
  firstSeen?: string;
  lastSeen?: string;
  count?: number;
  firstRunId?: number | null;
  state?: EntryState;
  resolvedAt?: string | null;
  resolution?: string | null;
}

export type EntryState = 'open' | 'resolved';

export interface ErrorFilter {
  resource?: string;
  status?: number;
  student?: string;
  sourceKey?: string;
  connection?: string;
  /** Entries seen in this run (first seen at or before it, last seen at or after it). */
  runId?: number;
  level?: string;
  /** Default: open entries only; 'all' for history. */
  state?: EntryState | 'all';
  limit?: number;
}

export function entryFor(base: Omit<ErrorLogEntry, 'catalogueId' | 'specMessage' | 'cause' | 'fix' | 'level'>, c: CatalogueEntry): ErrorLogEntry {
  return { ...base, level: c.level ?? 'error', catalogueId: c.id, specMessage: c.specMessage, cause: c.cause, fix: c.fix };
}

/** The words an operator reads for a record the engine did not send. */
export const HELD_BACK = 'held back, not sent';

/** A record the plan held back, as an entry: no method, no status, the check that held it. */
export function heldBackEntry(issue: PlanIssue, catalogue: ErrorCatalogue, runId: number | null, at: string): ErrorLogEntry {
  const c = catalogue.byId(issue.catalogueId) ?? catalogue.match(issue.status, issue.method, issue.message);
  return entryFor(
    {
      runId, at, connection: issue.connection, resource: issue.resource, sourceKey: issue.sourceKey, student: issue.student,
      method: null, status: null, message: issue.message, body: issue.body ? JSON.stringify(issue.body) : null,
      heldBack: issue.checks?.[0] ?? 'plan',
    },
    c,
  );
}

function problemKey(e: ErrorLogEntry): string {
  return [e.connection ?? '', e.resource ?? '', e.sourceKey ?? `message:${e.message}`, e.catalogueId ?? '', e.heldBack ? 'held back' : 'sent'].join('\x1f');
}

const SELECT = `SELECT error_id AS errorId, last_run_id AS runId, last_seen AS at, connection, resource, source_key AS sourceKey,
    student, method, status, level, message, catalogue_id AS catalogueId, spec_message AS specMessage, cause, fix, body,
    held_back AS heldBack, first_seen AS firstSeen, last_seen AS lastSeen, count, first_run_id AS firstRunId, state,
    resolved_at AS resolvedAt, resolution
  FROM error_log`;

export class ErrorLog {
  private readonly upsert: Statement;
  private readonly insertResolved: Statement;
  private readonly resolveRecord: Statement;

  constructor(private readonly db: Database) {
    // Seen again: the open entry of the same record and problem counts it; otherwise a new entry opens.
    this.upsert = db.prepare(`INSERT INTO error_log
      (problem_key, state, first_seen, last_seen, count, first_run_id, last_run_id, connection, resource, source_key, student,
       method, status, held_back, level, message, catalogue_id, spec_message, cause, fix, body)
      VALUES (@problemKey, 'open', @at, @at, 1, @runId, @runId, @connection, @resource, @sourceKey, @student,
       @method, @status, @heldBack, @level, @message, @catalogueId, @specMessage, @cause, @fix, @body)
      ON CONFLICT (problem_key) WHERE state = 'open' DO UPDATE SET
        last_seen = excluded.last_seen, count = count + 1, last_run_id = IFNULL(excluded.last_run_id, last_run_id),
        student = IFNULL(excluded.student, student), method = excluded.method, status = excluded.status,
        message = excluded.message, spec_message = excluded.spec_message, body = excluded.body`);
    // Information only ("this error can be ignored"): history, never a current problem.
    this.insertResolved = db.prepare(`INSERT INTO error_log
      (problem_key, state, first_seen, last_seen, count, first_run_id, last_run_id, resolved_at, resolved_run_id, resolution,
       connection, resource, source_key, student, method, status, held_back, level, message, catalogue_id, spec_message, cause, fix, body)
      VALUES (@problemKey, 'resolved', @at, @at, 1, @runId, @runId, @at, @runId, 'information only',
       @connection, @resource, @sourceKey, @student, @method, @status, @heldBack, @level, @message, @catalogueId, @specMessage, @cause, @fix, @body)`);
    this.resolveRecord = db.prepare(`UPDATE error_log SET state = 'resolved', resolved_at = @at, resolved_run_id = @runId, resolution = @resolution
      WHERE connection = @connection AND resource = @resource AND source_key = @sourceKey AND state = 'open'`);
  }

  /**
   * The API refused a record again, for another reason: what it answered on an earlier run (a 500 one night, a 400
   * the next) is no longer the record's problem, and two open entries sent the operator after a fixed one. Problems
   * of this run stay (a key change can meet two), as do the engine's own (held back: resolved when not found again).
   */
  supersede(e: ErrorLogEntry): void {
    if (e.runId === null || e.runId === undefined || !e.sourceKey || !e.method) return;
    this.db.prepare(`UPDATE error_log SET state = 'resolved', resolved_at = ?, resolved_run_id = ?, resolution = 'another problem since'
        WHERE state = 'open' AND connection = ? AND resource = ? AND source_key = ? AND method IS NOT NULL
          AND IFNULL(last_run_id, -1) <> ? AND problem_key <> ?`)
      .run(e.at, e.runId, e.connection, e.resource, e.sourceKey, e.runId, problemKey(e));
  }

  /** Records a problem seen now: a new open entry, or the open one of the same record and problem seen once more. */
  add(e: ErrorLogEntry): void {
    (e.level === 'info' ? this.insertResolved : this.upsert).run({
      ...e,
      heldBack: e.heldBack ?? null,
      problemKey: problemKey(e),
      specMessage: e.specMessage ? fillSpecText(e.specMessage, e.resource, e.message) : null,
    });
  }

  addMany(entries: ErrorLogEntry[]): void {
    // IMMEDIATE, as every write transaction on a state file that parallel jobs share: it waits for another writer.
    if (entries.length > 0) this.db.transaction(() => entries.forEach((e) => this.add(e))).immediate();
  }

  /** The records a plan held back, each with the check that held it. */
  addHeldBack(issues: PlanIssue[], catalogue: ErrorCatalogue, runId: number | null, at = new Date().toISOString()): void {
    this.addMany(issues.map((i) => heldBackEntry(i, catalogue, runId, at)));
  }

  /** A profile's plan warnings (a school year without a valid configuration, ...). */
  addWarnings(warnings: PlanWarning[], resource: string, runId: number | null, catalogue?: ErrorCatalogue, at = new Date().toISOString()): void {
    this.addMany(warnings.map((w) => ({
      runId, at, connection: w.connection ?? null, resource, sourceKey: w.sourceKey ?? null, student: w.student ?? null, method: null, status: null,
      level: 'warning' as const, message: w.message, catalogueId: w.id, specMessage: catalogue?.byId(w.id)?.specMessage ?? null,
      cause: catalogue?.byId(w.id)?.cause ?? null, fix: catalogue?.byId(w.id)?.fix ?? null, body: null,
    })));
  }

  /** The record went through (or is no longer wanted): its open entries are resolved, and stay as history. */
  resolve(connection: string, resource: string, sourceKey: string, runId: number | null = null, resolution = 'sent'): void {
    this.resolveRecord.run({ connection, resource, sourceKey, runId, resolution, at: new Date().toISOString() });
  }

  /**
   * After a complete run of a connection: problems the engine finds itself (held back, warnings) that this run did
   * not find again are gone (the Campus data was fixed, or the record is no longer wanted). `connection` null: the
   * warnings that belong to no connection.
   */
  resolveNotSeen(connection: string | null, resource: string, runId: number): number {
    return this.db.prepare(`UPDATE error_log SET state = 'resolved', resolved_at = ?, resolved_run_id = ?, resolution = 'not found again'
        WHERE state = 'open' AND method IS NULL AND resource = ? AND connection IS ? AND IFNULL(last_run_id, -1) <> ?`)
      .run(new Date().toISOString(), runId, resource, connection, runId).changes;
  }

  /**
   * The connection-level problems (the connection stopped: no key, API unreachable, another Data Standard) of a
   * connection that got through this run without them: over. For a connection whose records were not looked at
   * (resource toggled off), the only ones that may be resolved.
   */
  resolveConnectionNotSeen(connection: string, resource: string, runId: number): number {
    return this.db.prepare(`UPDATE error_log SET state = 'resolved', resolved_at = ?, resolved_run_id = ?, resolution = 'not found again'
        WHERE state = 'open' AND method IS NULL AND source_key IS NULL AND resource = ? AND connection = ? AND IFNULL(last_run_id, -1) <> ?`)
      .run(new Date().toISOString(), runId, resource, connection, runId).changes;
  }

  list(filter: ErrorFilter = {}): ErrorLogEntry[] {
    const where: string[] = [];
    const p: Record<string, string | number> = {};
    const state = filter.state ?? 'all';
    if (state !== 'all') (where.push('state = @state'), (p.state = state));
    if (filter.resource) (where.push('resource = @resource'), (p.resource = filter.resource));
    // A record held back by the engine was not sent, so it has no status; the spec's text it is logged under has one
    // ("400: Validation of ..."): `errors --status 400` finds it too.
    if (filter.status !== undefined) (where.push("(status = @status OR (status IS NULL AND spec_message LIKE @statusPrefix))"), (p.status = filter.status), (p.statusPrefix = `${filter.status}:%`));
    if (filter.student) (where.push('student = @student'), (p.student = filter.student));
    if (filter.sourceKey) (where.push('source_key = @sourceKey'), (p.sourceKey = filter.sourceKey));
    if (filter.connection) (where.push('connection = @connection'), (p.connection = filter.connection));
    if (filter.runId !== undefined) (where.push('first_run_id <= @runId AND last_run_id >= @runId'), (p.runId = filter.runId));
    if (filter.level) (where.push('level = @level'), (p.level = filter.level));
    const sql = `${SELECT}${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY error_id${filter.limit ? ' LIMIT ' + Number(filter.limit) : ''}`;
    return (this.db.prepare(sql).all(p) as ErrorLogEntry[]).map((e) => ({ ...e, heldBack: e.heldBack ?? null }));
  }

  /** Records with an open error from the API: what `retry` resends (records held back were never sent). */
  unresolvedKeys(resource: string, connections?: Set<string>): Array<{ connection: string; sourceKey: string }> {
    const rows = this.db
      .prepare(`SELECT DISTINCT connection, source_key AS sourceKey FROM error_log
                WHERE resource = ? AND state = 'open' AND level = 'error' AND method IS NOT NULL AND source_key IS NOT NULL`)
      .all(resource) as Array<{ connection: string; sourceKey: string }>;
    return connections ? rows.filter((r) => connections.has(r.connection)) : rows;
  }
}
