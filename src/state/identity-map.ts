import type { Database, Statement } from 'better-sqlite3';
import type { JsonObject } from '../types.js';

/** One record the engine has sent: the spec's "Ed-Fi Identity Mapping Report" row. */
export interface IdentityRow {
  connection: string;
  resource: string;
  sourceKey: string;
  student: string | null;
  edfiId: string | null;
  naturalKey: JsonObject;
  body: JsonObject;
  bodyHash: string;
  lastMethod: string | null;
  lastStatus: number | null;
  lastOutcome: string | null;
  lastSentAt: string | null;
}

interface RawRow {
  connection: string;
  resource: string;
  source_key: string;
  student: string | null;
  edfi_id: string | null;
  natural_key: string;
  body: string;
  body_hash: string;
  last_method: string | null;
  last_status: number | null;
  last_outcome: string | null;
  last_sent_at: string | null;
}

function fromRaw(r: RawRow): IdentityRow {
  return {
    connection: r.connection,
    resource: r.resource,
    sourceKey: r.source_key,
    student: r.student,
    edfiId: r.edfi_id,
    naturalKey: JSON.parse(r.natural_key) as JsonObject,
    body: JSON.parse(r.body) as JsonObject,
    bodyHash: r.body_hash,
    lastMethod: r.last_method,
    lastStatus: r.last_status,
    lastOutcome: r.last_outcome,
    lastSentAt: r.last_sent_at,
  };
}

export interface IdentityFilter {
  connection?: string;
  resource?: string;
  student?: string;
  sourceKey?: string;
  edfiId?: string;
}

/** What the planner needs of every mapped record: enough to tell "unchanged" without parsing bodies. */
export interface IdentitySummary {
  sourceKey: string;
  edfiId: string | null;
  bodyHash: string;
  lastOutcome: string | null;
}

export class IdentityMap {
  private readonly upsertStmt: Statement;
  private readonly deleteStmt: Statement;
  private readonly getStmt: Statement;
  private readonly holdersStmt: Statement;

  constructor(private readonly db: Database) {
    this.upsertStmt = db.prepare(`INSERT INTO identity_map
      (connection, resource, source_key, student, edfi_id, natural_key, body, body_hash, last_method, last_status, last_outcome, last_sent_at)
      VALUES (@connection, @resource, @sourceKey, @student, @edfiId, @naturalKey, @body, @bodyHash, @lastMethod, @lastStatus, @lastOutcome, @lastSentAt)
      ON CONFLICT (connection, resource, source_key) DO UPDATE SET
        student = excluded.student, edfi_id = excluded.edfi_id, natural_key = excluded.natural_key, body = excluded.body,
        body_hash = excluded.body_hash, last_method = excluded.last_method, last_status = excluded.last_status,
        last_outcome = excluded.last_outcome, last_sent_at = excluded.last_sent_at`);
    this.deleteStmt = db.prepare('DELETE FROM identity_map WHERE connection = ? AND resource = ? AND source_key = ?');
    this.getStmt = db.prepare('SELECT * FROM identity_map WHERE connection = ? AND resource = ? AND source_key = ?');
    this.holdersStmt = db.prepare('SELECT * FROM identity_map WHERE resource = ? AND edfi_id = ?');
  }

  get(connection: string, resource: string, sourceKey: string): IdentityRow | undefined {
    const r = this.getStmt.get(connection, resource, sourceKey) as RawRow | undefined;
    return r ? fromRaw(r) : undefined;
  }

  /** Every record (of any connection) mapped to this Ed-Fi id. */
  holders(resource: string, edfiId: string): IdentityRow[] {
    return (this.holdersStmt.all(resource, edfiId) as RawRow[]).map(fromRaw);
  }

  summaries(connection: string, resource: string): Map<string, IdentitySummary> {
    const rows = this.db
      .prepare(`SELECT source_key AS sourceKey, edfi_id AS edfiId, body_hash AS bodyHash, last_outcome AS lastOutcome
                FROM identity_map WHERE connection = ? AND resource = ? ORDER BY source_key`)
      .all(connection, resource) as IdentitySummary[];
    return new Map(rows.map((r) => [r.sourceKey, r]));
  }

  forConnection(connection: string, resource: string): Map<string, IdentityRow> {
    const rows = this.db
      .prepare('SELECT * FROM identity_map WHERE connection = ? AND resource = ? ORDER BY source_key')
      .all(connection, resource) as RawRow[];
    return new Map(rows.map((r) => [r.source_key, fromRaw(r)]));
  }

  find(filter: IdentityFilter): IdentityRow[] {
    const where: string[] = [];
    const params: Record<string, string> = {};
    if (filter.connection) (where.push('connection = @connection'), (params.connection = filter.connection));
    if (filter.resource) (where.push('resource = @resource'), (params.resource = filter.resource));
    if (filter.student) (where.push('student = @student'), (params.student = filter.student));
    if (filter.sourceKey) (where.push('source_key = @sourceKey'), (params.sourceKey = filter.sourceKey));
    if (filter.edfiId) (where.push('edfi_id = @edfiId'), (params.edfiId = filter.edfiId));
    const sql = `SELECT * FROM identity_map${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY connection, resource, source_key`;
    return (this.db.prepare(sql).all(params) as RawRow[]).map(fromRaw);
  }

  connections(resource: string): string[] {
    return (this.db.prepare('SELECT DISTINCT connection FROM identity_map WHERE resource = ?').all(resource) as Array<{ connection: string }>).map((r) => r.connection);
  }

  upsert(row: IdentityRow): void {
    this.upsertStmt.run({
      ...row,
      naturalKey: JSON.stringify(row.naturalKey),
      body: JSON.stringify(row.body),
    });
  }

  remove(connection: string, resource: string, sourceKey: string): void {
    this.deleteStmt.run(connection, resource, sourceKey);
  }
}
