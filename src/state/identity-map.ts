import type { Database, Statement } from 'better-sqlite3';
import type { JsonObject } from '../types.js';
import { naturalKeyOf } from '../plan/paths.js';
import { canonicalJson, hashJson } from '../util/hash.js';
import { isApiKey, normalizeInstanceKey, sameInstance } from '../plan/instance-key.js';
import type { Migration } from './state-db.js';

/** One record the engine has sent: the spec's "Ed-Fi Identity Mapping Report" row. */
export interface IdentityRow {
  connection: string;
  resource: string;
  sourceKey: string;
  student: string | null;
  /** The ODS instance the record lives in (see PlanOptions.instanceOf); null on rows written before it was kept. */
  instance: string | null;
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
  instance: string | null;
  edfi_id: string | null;
  natural_key: string;
  body: string;
  body_hash: string;
  last_method: string | null;
  last_status: number | null;
  last_outcome: string | null;
  last_sent_at: string | null;
}

/** The hash that identifies a natural key in the state file (canonical JSON, so key order does not matter). */
export function naturalKeyHash(naturalKey: JsonObject): string {
  return hashJson(naturalKey);
}

export interface IdentityFilter {
  connection?: string;
  resource?: string;
  student?: string;
  sourceKey?: string;
  edfiId?: string;
}

/** What the planner needs of a record's own row while it streams: enough to tell "unchanged" without the body. */
export interface IdentityBrief {
  instance: string | null;
  edfiId: string | null;
  nkHash: string;
  bodyHash: string;
  lastOutcome: string | null;
}

/**
 * Identity rows carry their ODS instance; within an instance one Ed-Fi id and one natural key have at most one
 * owner (partial unique indexes: rows of older files have no instance until a plan adopts them). ODS records whose
 * Campus record changed its natural key wait in `owed_deletes` until their DELETE went through.
 */
export const OWNERSHIP_PER_INSTANCE: Migration = {
  name: 'ownership-per-instance',
  sql: `ALTER TABLE identity_map ADD COLUMN instance TEXT;
        ALTER TABLE identity_map ADD COLUMN nk_hash TEXT;`,
  run(db) {
    const rows = db.prepare('SELECT rowid AS id, natural_key FROM identity_map').all() as Array<{ id: number; natural_key: string }>;
    const set = db.prepare('UPDATE identity_map SET nk_hash = ? WHERE rowid = ?');
    for (const r of rows) set.run(naturalKeyHash(JSON.parse(r.natural_key) as JsonObject), r.id);
    db.exec(`
      CREATE UNIQUE INDEX identity_map_instance_id ON identity_map(instance, resource, edfi_id)
        WHERE instance IS NOT NULL AND edfi_id IS NOT NULL;
      CREATE UNIQUE INDEX identity_map_instance_key ON identity_map(instance, resource, nk_hash)
        WHERE instance IS NOT NULL AND edfi_id IS NOT NULL;
      CREATE TABLE owed_deletes (
        instance     TEXT NOT NULL,
        resource     TEXT NOT NULL,
        edfi_id      TEXT NOT NULL,
        nk_hash      TEXT NOT NULL,
        natural_key  TEXT NOT NULL,
        connection   TEXT NOT NULL,
        source_key   TEXT NOT NULL,
        student      TEXT,
        reason       TEXT NOT NULL,
        since        TEXT NOT NULL,
        PRIMARY KEY (instance, resource, edfi_id)
      );
      CREATE INDEX owed_deletes_key ON owed_deletes(instance, resource, nk_hash);
      CREATE TABLE natural_key_paths (resource TEXT PRIMARY KEY, paths TEXT NOT NULL);`);
  },
};

/** How `identity_instances` spells a row without an instance (NULL cannot be part of its primary key). */
const NO_INSTANCE = "char(0)";

/**
 * Per connection, resource and ODS instance: how many identity rows there are and how many hold an Ed-Fi id.
 * Kept by triggers in the same transaction as every write to identity_map, so it cannot drift from it. The
 * planner asks these per connection (which instance a connection was sent to last, how many records the
 * mass-delete guard counts as mapped); counted from identity_map itself, each question read every row and body of
 * the connection: 11 s of a 72 s unchanged night at a million students.
 * A later migration that rebuilds identity_map must create these triggers again.
 */
export const IDENTITY_INSTANCES: Migration = {
  name: 'identity-instances',
  sql: `
    CREATE TABLE identity_instances (
      connection TEXT NOT NULL,
      resource   TEXT NOT NULL,
      instance   TEXT NOT NULL,
      rows       INTEGER NOT NULL,
      mapped     INTEGER NOT NULL,
      PRIMARY KEY (connection, resource, instance)
    ) WITHOUT ROWID;
    INSERT INTO identity_instances (connection, resource, instance, rows, mapped)
      SELECT connection, resource, COALESCE(instance, ${NO_INSTANCE}), COUNT(*), SUM(edfi_id IS NOT NULL)
      FROM identity_map GROUP BY connection, resource, COALESCE(instance, ${NO_INSTANCE});
    CREATE TRIGGER identity_instances_insert AFTER INSERT ON identity_map BEGIN
      INSERT INTO identity_instances (connection, resource, instance, rows, mapped)
        VALUES (NEW.connection, NEW.resource, COALESCE(NEW.instance, ${NO_INSTANCE}), 1, NEW.edfi_id IS NOT NULL)
        ON CONFLICT (connection, resource, instance) DO UPDATE SET rows = rows + 1, mapped = mapped + excluded.mapped;
    END;
    CREATE TRIGGER identity_instances_delete AFTER DELETE ON identity_map BEGIN
      UPDATE identity_instances SET rows = rows - 1, mapped = mapped - (OLD.edfi_id IS NOT NULL)
        WHERE connection = OLD.connection AND resource = OLD.resource AND instance = COALESCE(OLD.instance, ${NO_INSTANCE});
      DELETE FROM identity_instances
        WHERE connection = OLD.connection AND resource = OLD.resource AND instance = COALESCE(OLD.instance, ${NO_INSTANCE}) AND rows <= 0;
    END;
    CREATE TRIGGER identity_instances_update AFTER UPDATE OF connection, resource, instance, edfi_id ON identity_map
      WHEN OLD.connection IS NOT NEW.connection OR OLD.resource IS NOT NEW.resource OR OLD.instance IS NOT NEW.instance
        OR (OLD.edfi_id IS NULL) <> (NEW.edfi_id IS NULL)
    BEGIN
      UPDATE identity_instances SET rows = rows - 1, mapped = mapped - (OLD.edfi_id IS NOT NULL)
        WHERE connection = OLD.connection AND resource = OLD.resource AND instance = COALESCE(OLD.instance, ${NO_INSTANCE});
      DELETE FROM identity_instances
        WHERE connection = OLD.connection AND resource = OLD.resource AND instance = COALESCE(OLD.instance, ${NO_INSTANCE}) AND rows <= 0;
      INSERT INTO identity_instances (connection, resource, instance, rows, mapped)
        VALUES (NEW.connection, NEW.resource, COALESCE(NEW.instance, ${NO_INSTANCE}), 1, NEW.edfi_id IS NOT NULL)
        ON CONFLICT (connection, resource, instance) DO UPDATE SET rows = rows + 1, mapped = mapped + excluded.mapped;
    END;`,
};

/** The connection key "districtID:endYear" split in SQL, for the winner rule (later year, then lower district). */
const YEAR_SQL = "CAST(substr(connection, instr(connection, ':') + 1) AS INTEGER)";
const DISTRICT_SQL = "CAST(substr(connection, 1, instr(connection, ':') - 1) AS INTEGER)";

export class IdentityMap {
  private readonly upsertStmt: Statement;
  private readonly deleteStmt: Statement;
  private readonly getStmt: Statement;
  private readonly briefStmt: Statement;
  private readonly byIdStmt: Statement;
  private readonly byKeyStmt: Statement;
  private readonly releaseStmt: Statement;
  private readonly holdersStmt: Statement;
  private readonly byRowidStmt: Statement;
  private readonly releaseKeyStmt: Statement;
  /** Natural-key paths per resource, read once. */
  private readonly paths = new Map<string, string[] | undefined>();

  constructor(private readonly db: Database) {
    this.upsertStmt = db.prepare(`INSERT INTO identity_map
      (connection, resource, source_key, student, instance, edfi_id, natural_key, nk_hash, body, body_hash, last_method, last_status, last_outcome, last_sent_at)
      VALUES (@connection, @resource, @sourceKey, @student, @instance, @edfiId, @naturalKey, @nkHash, @body, @bodyHash, @lastMethod, @lastStatus, @lastOutcome, @lastSentAt)
      ON CONFLICT (connection, resource, source_key) DO UPDATE SET
        student = excluded.student, instance = excluded.instance, edfi_id = excluded.edfi_id, natural_key = excluded.natural_key,
        nk_hash = excluded.nk_hash, body = excluded.body, body_hash = excluded.body_hash, last_method = excluded.last_method,
        last_status = excluded.last_status, last_outcome = excluded.last_outcome, last_sent_at = excluded.last_sent_at`);
    this.deleteStmt = db.prepare('DELETE FROM identity_map WHERE connection = ? AND resource = ? AND source_key = ?');
    this.getStmt = db.prepare('SELECT * FROM identity_map WHERE connection = ? AND resource = ? AND source_key = ?');
    this.briefStmt = db.prepare(`SELECT instance, edfi_id AS edfiId, nk_hash AS nkHash, body_hash AS bodyHash, last_outcome AS lastOutcome
      FROM identity_map WHERE connection = ? AND resource = ? AND source_key = ?`);
    this.byIdStmt = db.prepare('SELECT * FROM identity_map WHERE instance = ? AND resource = ? AND edfi_id = ?');
    this.byKeyStmt = db.prepare('SELECT * FROM identity_map WHERE instance = ? AND resource = ? AND nk_hash = ? AND edfi_id IS NOT NULL');
    this.releaseStmt = db.prepare(`UPDATE identity_map SET edfi_id = NULL, last_outcome = 'released'
      WHERE instance = ? AND resource = ? AND edfi_id = ? AND NOT (connection = ? AND source_key = ?)`);
    this.holdersStmt = db.prepare('SELECT * FROM identity_map WHERE resource = ? AND edfi_id = ?');
    this.byRowidStmt = db.prepare('SELECT * FROM identity_map WHERE rowid = ?');
    this.releaseKeyStmt = db.prepare(`UPDATE identity_map SET edfi_id = NULL, last_outcome = 'released'
      WHERE instance = ? AND resource = ? AND nk_hash = ? AND edfi_id IS NOT NULL AND NOT (connection = ? AND source_key = ?)`);
  }

  byRowid(rowid: number): IdentityRow | undefined {
    const r = this.byRowidStmt.get(rowid) as RawRow | undefined;
    return r ? this.fromRaw(r) : undefined;
  }

  get(connection: string, resource: string, sourceKey: string): IdentityRow | undefined {
    const r = this.getStmt.get(connection, resource, sourceKey) as RawRow | undefined;
    return r ? this.fromRaw(r) : undefined;
  }

  /** The row of one record without its body (the planner's per-record look-up). */
  brief(connection: string, resource: string, sourceKey: string): IdentityBrief | undefined {
    return this.briefStmt.get(connection, resource, sourceKey) as IdentityBrief | undefined;
  }

  /** The owner of an Ed-Fi id in an instance. */
  ownerOfId(instance: string, resource: string, edfiId: string): IdentityRow | undefined {
    const r = this.byIdStmt.get(instance, resource, edfiId) as RawRow | undefined;
    return r ? this.fromRaw(r) : undefined;
  }

  /** The record of an instance that holds an ODS record with this natural key. */
  ownerOfKey(instance: string, resource: string, nkHash: string): IdentityRow | undefined {
    const r = this.byKeyStmt.get(instance, resource, nkHash) as RawRow | undefined;
    return r ? this.fromRaw(r) : undefined;
  }

  /** Every record (of any connection and instance) mapped to this Ed-Fi id. */
  holders(resource: string, edfiId: string): IdentityRow[] {
    return (this.holdersStmt.all(resource, edfiId) as RawRow[]).map((r) => this.fromRaw(r));
  }

  /**
   * Another record's claim on an ODS record ends (the record was taken over, or deleted): its row keeps its body
   * and natural key but no id, so it is sent again if it is still wanted. The given record's own row is kept.
   */
  releaseId(instance: string, resource: string, edfiId: string, keep: { connection: string; sourceKey: string }): number {
    return this.releaseStmt.run(instance, resource, edfiId, keep.connection, keep.sourceKey).changes;
  }

  /** The same for whatever row claims an ODS record with this natural key (the ODS holds one record per natural key). */
  releaseKey(instance: string, resource: string, nkHash: string, keep: { connection: string; sourceKey: string }): number {
    return this.releaseKeyStmt.run(instance, resource, nkHash, keep.connection, keep.sourceKey).changes;
  }

  forConnection(connection: string, resource: string): Map<string, IdentityRow> {
    const rows = this.db
      .prepare('SELECT * FROM identity_map WHERE connection = ? AND resource = ? ORDER BY source_key')
      .all(connection, resource) as RawRow[];
    return new Map(rows.map((r) => [r.source_key, this.fromRaw(r)]));
  }

  /** The ODS instance a connection's rows carry, when they all carry one (what it was sent to last). */
  instanceOfConnection(connection: string, resource: string): string | undefined {
    const rows = this.db.prepare(`SELECT instance FROM identity_instances WHERE connection = ? AND resource = ? AND instance <> ${NO_INSTANCE} LIMIT 8`)
      .all(connection, resource) as Array<{ instance: string }>;
    const keys = [...new Set(rows.map((r) => normalizeInstanceKey(r.instance)))];
    if (keys.length === 1) return keys[0];
    // Rows an older version keyed by data path beside rows keyed by the data URL that path is part of: one instance.
    const apiKeys = keys.filter(isApiKey);
    if (apiKeys.length === 1 && keys.every((k) => sameInstance(k, apiKeys[0]!))) return apiKeys[0];
    return undefined;
  }

  /** Every instance the resource's identity rows of any connection were sent to, one spelling each. */
  recordedInstances(resource: string): string[] {
    const rows = this.db.prepare(`SELECT DISTINCT instance FROM identity_instances WHERE resource = ? AND instance <> ${NO_INSTANCE}`).all(resource) as Array<{ instance: string }>;
    return [...new Set(rows.map((r) => normalizeInstanceKey(r.instance)))];
  }

  /** Connections with records sent (an Ed-Fi id) of a resource, with how many. */
  mappedByConnection(resource: string): Map<string, number> {
    const rows = this.db.prepare('SELECT connection, SUM(mapped) AS n FROM identity_instances WHERE resource = ? GROUP BY connection HAVING SUM(mapped) > 0')
      .all(resource) as Array<{ connection: string; n: number }>;
    return new Map(rows.map((r) => [r.connection, r.n]));
  }

  /** Records of a connection that hold an ODS record (what the mass-delete guard calls "mapped"). */
  countMapped(connection: string, resource: string): number {
    return (this.db.prepare('SELECT COALESCE(SUM(mapped), 0) AS n FROM identity_instances WHERE connection = ? AND resource = ?')
      .get(connection, resource) as { n: number }).n;
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
    return (this.db.prepare(sql).all(params) as RawRow[]).map((r) => this.fromRaw(r));
  }

  /** Source keys whose last send failed or that never got an Ed-Fi id: what `retry` sends again. */
  unsettled(resource: string, connections?: Set<string>): string[] {
    const rows = this.db.prepare("SELECT connection, source_key FROM identity_map WHERE resource = ? AND (last_outcome = 'error' OR edfi_id IS NULL)")
      .all(resource) as Array<{ connection: string; source_key: string }>;
    return rows.filter((r) => !connections || connections.has(r.connection)).map((r) => r.source_key);
  }

  connections(resource: string): string[] {
    return (this.db.prepare('SELECT DISTINCT connection FROM identity_map WHERE resource = ?').all(resource) as Array<{ connection: string }>).map((r) => r.connection);
  }

  /** Writes a record's row; `nkHash` when the caller has it already (naturalKeyHash of its natural key). */
  upsert(row: IdentityRow, nkHash = naturalKeyHash(row.naturalKey)): void {
    this.upsertStmt.run({
      ...row,
      naturalKey: this.storedKey(row.resource, row.naturalKey, row.body),
      nkHash,
      body: JSON.stringify(row.body),
    });
  }

  /**
   * The natural key is written once per resource as its list of paths (natural_key_paths) and read back from the
   * body: a row keeps '' instead of ~350 bytes of JSON. A key the body does not give back is kept as JSON.
   */
  private storedKey(resource: string, naturalKey: JsonObject, body: JsonObject): string {
    const paths = Object.keys(naturalKey);
    if (!this.keyPaths(resource)) {
      this.db.prepare('INSERT OR IGNORE INTO natural_key_paths (resource, paths) VALUES (?, ?)').run(resource, JSON.stringify(paths));
      this.paths.delete(resource);
    }
    const known = this.keyPaths(resource);
    const same = known !== undefined && known.length === paths.length && known.every((p, i) => p === paths[i])
      && canonicalJson(naturalKeyOf(body, known)) === canonicalJson(naturalKey);
    return same ? '' : JSON.stringify(naturalKey);
  }

  private keyPaths(resource: string): string[] | undefined {
    if (!this.paths.has(resource)) {
      const r = this.db.prepare('SELECT paths FROM natural_key_paths WHERE resource = ?').get(resource) as { paths: string } | undefined;
      this.paths.set(resource, r ? (JSON.parse(r.paths) as string[]) : undefined);
    }
    return this.paths.get(resource);
  }

  private fromRaw(r: RawRow): IdentityRow {
    const body = JSON.parse(r.body) as JsonObject;
    const naturalKey = r.natural_key === '' ? naturalKeyOf(body, this.keyPaths(r.resource) ?? []) : (JSON.parse(r.natural_key) as JsonObject);
    return {
      connection: r.connection, resource: r.resource, sourceKey: r.source_key, student: r.student, instance: r.instance, edfiId: r.edfi_id,
      naturalKey, body, bodyHash: r.body_hash, lastMethod: r.last_method, lastStatus: r.last_status, lastOutcome: r.last_outcome, lastSentAt: r.last_sent_at,
    };
  }

  remove(connection: string, resource: string, sourceKey: string): void {
    this.deleteStmt.run(connection, resource, sourceKey);
  }

  /**
   * Rows written before identity rows carried their instance, or keyed by another spelling of it (see
   * instance-key.ts), are adopted into their connection's instance. Where
   * two rows claim one Ed-Fi id or one natural key in that instance (files written before one owner per instance
   * was kept), the claim of the row sent last stays (the ODS holds what was written last), ties by the winner
   * rule (later school year, then lower district); the other rows are released: they keep their body but no id,
   * so they are sent again if still wanted and the ODS upserts them by natural key. Nothing is deleted here.
   * Returns the number of claims released.
   */
  adoptIntoInstance(resource: string, instance: string, connections: string[]): number {
    if (connections.length === 0) return 0;
    const conns = JSON.stringify(connections);
    const duplicates = (column: 'edfi_id' | 'nk_hash'): string => `
      UPDATE identity_map SET edfi_id = NULL, last_outcome = 'released'
      WHERE rowid IN (
        SELECT id FROM (
          SELECT rowid AS id, ROW_NUMBER() OVER (
            PARTITION BY ${column}
            ORDER BY instance IS NULL, COALESCE(last_sent_at, '') DESC, ${YEAR_SQL} DESC, ${DISTRICT_SQL}, source_key) AS rn
          FROM identity_map
          WHERE resource = @resource AND edfi_id IS NOT NULL
            AND (instance = @instance OR (instance IS NULL AND connection IN (SELECT value FROM json_each(@conns))))
        ) WHERE rn > 1)`;
    return this.db.transaction(() => {
      // The instances the connections' rows name (from the counts, not the rows): unkeyed rows (written before
      // instances were kept) and rows keyed by another spelling of this instance (a data path written without API
      // information, a URL with a trailing slash or upper-case host) are this instance's.
      const stored = (this.db.prepare(`SELECT DISTINCT NULLIF(instance, ${NO_INSTANCE}) AS instance FROM identity_instances
        WHERE resource = ? AND connection IN (SELECT value FROM json_each(?))`).all(resource, conns) as Array<{ instance: string | null }>)
        .map((r) => r.instance);
      const aliases = stored.filter((k): k is string => k !== null && k !== instance && sameInstance(k, instance));
      if (aliases.length === 0 && !stored.includes(null)) return 0;
      const aliasList = JSON.stringify(aliases);
      this.db.prepare(`UPDATE identity_map SET instance = NULL
        WHERE resource = ? AND instance IN (SELECT value FROM json_each(?)) AND connection IN (SELECT value FROM json_each(?))`).run(resource, aliasList, conns);
      this.db.prepare(`UPDATE OR REPLACE owed_deletes SET instance = ?
        WHERE resource = ? AND instance IN (SELECT value FROM json_each(?)) AND connection IN (SELECT value FROM json_each(?))`).run(instance, resource, aliasList, conns);
      const params = { resource, instance, conns };
      const released = this.db.prepare(duplicates('edfi_id')).run(params).changes + this.db.prepare(duplicates('nk_hash')).run(params).changes;
      this.db.prepare(`UPDATE identity_map SET instance = @instance
        WHERE resource = @resource AND instance IS NULL AND connection IN (SELECT value FROM json_each(@conns))`).run(params);
      return released;
    }).immediate();
  }
}

/** An ODS record no Campus record owns any more (its record moved to a new natural key): deleted when its turn comes. */
export interface OwedDelete {
  instance: string;
  resource: string;
  edfiId: string;
  nkHash: string;
  naturalKey: JsonObject;
  connection: string;
  sourceKey: string;
  student: string | null;
  reason: string;
  since: string;
}

interface RawOwed {
  instance: string;
  resource: string;
  edfi_id: string;
  nk_hash: string;
  natural_key: string;
  connection: string;
  source_key: string;
  student: string | null;
  reason: string;
  since: string;
}

function owedFromRaw(r: RawOwed): OwedDelete {
  return {
    instance: r.instance, resource: r.resource, edfiId: r.edfi_id, nkHash: r.nk_hash, naturalKey: JSON.parse(r.natural_key) as JsonObject,
    connection: r.connection, sourceKey: r.source_key, student: r.student, reason: r.reason, since: r.since,
  };
}

/**
 * The DELETEs a key change still owes. A key change POSTs the new record first; the old record is written here in
 * the same transaction as the POST's outcome, so a run killed before the DELETE leaves the debt for the next run.
 */
export class OwedDeletes {
  private readonly addStmt: Statement;
  private readonly removeStmt: Statement;
  private readonly byKeyStmt: Statement;
  private readonly byIdStmt: Statement;

  constructor(private readonly db: Database) {
    this.addStmt = db.prepare(`INSERT OR REPLACE INTO owed_deletes
      (instance, resource, edfi_id, nk_hash, natural_key, connection, source_key, student, reason, since)
      VALUES (@instance, @resource, @edfiId, @nkHash, @naturalKey, @connection, @sourceKey, @student, @reason, @since)`);
    this.removeStmt = db.prepare('DELETE FROM owed_deletes WHERE instance = ? AND resource = ? AND edfi_id = ?');
    this.byKeyStmt = db.prepare('SELECT * FROM owed_deletes WHERE instance = ? AND resource = ? AND nk_hash = ?');
    this.byIdStmt = db.prepare('SELECT * FROM owed_deletes WHERE instance = ? AND resource = ? AND edfi_id = ?');
  }

  add(d: OwedDelete): void {
    this.addStmt.run({ ...d, naturalKey: JSON.stringify(d.naturalKey) });
  }

  remove(instance: string, resource: string, edfiId: string): number {
    return this.removeStmt.run(instance, resource, edfiId).changes;
  }

  removeByKey(instance: string, resource: string, nkHash: string): number {
    return this.db.prepare('DELETE FROM owed_deletes WHERE instance = ? AND resource = ? AND nk_hash = ?').run(instance, resource, nkHash).changes;
  }

  byKey(instance: string, resource: string, nkHash: string): OwedDelete | undefined {
    const r = this.byKeyStmt.get(instance, resource, nkHash) as RawOwed | undefined;
    return r ? owedFromRaw(r) : undefined;
  }

  byId(instance: string, resource: string, edfiId: string): OwedDelete | undefined {
    const r = this.byIdStmt.get(instance, resource, edfiId) as RawOwed | undefined;
    return r ? owedFromRaw(r) : undefined;
  }

  /** Every owed DELETE of an instance whose record belonged to one of these connections. */
  list(instance: string, resource: string, connections: string[]): OwedDelete[] {
    return (this.db.prepare(`SELECT * FROM owed_deletes WHERE instance = ? AND resource = ? AND connection IN (SELECT value FROM json_each(?))
      ORDER BY connection, source_key, edfi_id`).all(instance, resource, JSON.stringify(connections)) as RawOwed[]).map(owedFromRaw);
  }
}
