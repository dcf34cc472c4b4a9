import type { Database, Statement } from 'better-sqlite3';
import type { Decision } from '../types.js';
import { canonicalJson, sha1 } from '../util/hash.js';
import type { Migration } from './state-db.js';

/**
 * What the last evaluation of a record gave, in a few fixed-size hashes: a night where 1% of records changed
 * evaluates 1%, and an unchanged record is judged without its facts, rules or body. A body is never stored here:
 * when a record must be sent, it is mapped again from the source row at hand.
 */
export interface CacheEntry {
  /** Fingerprint of the record's source row, the connection and the profile's files (hex; 20 bytes stored). */
  rulesKey: string;
  /** Row of `decisions`: a night has a handful of distinct decisions ("kept", "No Show", ...). */
  decisionId: number;
  /** Fingerprint of what the body depends on beyond the row: derived facts and Resource Preferences. */
  mapKey: string | null;
  /** Hex hashes of the body and of its natural key, as the identity mapping keeps them. */
  bodyHash: string | null;
  nkHash: string | null;
  /** Why the body may not be sent (schema, descriptor lists, ...), by body check id; null when it may. */
  problems: Array<{ id: string; message: string }> | null;
}

/**
 * Replaces the first evaluation cache (a ~1 KB JSON decision and the whole body per record) with hashes and a
 * decision id; the old rows are dropped, so the first night after the upgrade evaluates every record once.
 */
export const COMPACT_EVAL_CACHE: Migration = {
  name: 'compact-eval-cache',
  sql: `DROP TABLE eval_cache;
        CREATE TABLE eval_scopes (
          scope_id    INTEGER PRIMARY KEY,
          connection  TEXT NOT NULL,
          resource    TEXT NOT NULL,
          rows_read   INTEGER,
          UNIQUE (connection, resource)
        );
        CREATE TABLE decisions (
          decision_id INTEGER PRIMARY KEY,
          hash        TEXT NOT NULL UNIQUE,
          decision    TEXT NOT NULL
        );
        CREATE TABLE eval_cache (
          scope_id    INTEGER NOT NULL,
          source_key  TEXT NOT NULL,
          rules_key   BLOB NOT NULL,
          decision_id INTEGER NOT NULL,
          map_key     BLOB,
          body_hash   BLOB,
          nk_hash     BLOB,
          problems    TEXT,
          PRIMARY KEY (scope_id, source_key)
        ) WITHOUT ROWID;`,
};

/** A cache row as read: the hashes as lower-case hex, which SQLite makes cheaper than Buffers. */
export interface RawEntry {
  rules_key: string;
  decision_id: number;
  map_key: string | null;
  body_hash: string | null;
  nk_hash: string | null;
  problems: string | null;
}

/** The columns of a cache row as RawEntry reads them (`c` is the table's alias). */
export const ENTRY_COLUMNS = `lower(hex(c.rules_key)) AS rules_key, c.decision_id, lower(hex(c.map_key)) AS map_key,
  lower(hex(c.body_hash)) AS body_hash, lower(hex(c.nk_hash)) AS nk_hash, c.problems`;


/**
 * The Resource Preferences a connection is planned with (its rows, as JSON), for profiles whose preference changes
 * wait for a resync (src/plan/preferences-in-effect.ts). NULL until a run records them.
 */
export const PREFERENCES_IN_EFFECT: Migration = {
  name: 'preferences-in-effect',
  sql: 'ALTER TABLE eval_scopes ADD COLUMN preferences TEXT;',
};

/** A cache row as SQLite returns it, decoded. */
export function decodeEntry(r: RawEntry): CacheEntry {
  return {
    rulesKey: r.rules_key, decisionId: r.decision_id, mapKey: r.map_key || null, bodyHash: r.body_hash || null, nkHash: r.nk_hash || null,
    problems: r.problems ? (JSON.parse(r.problems) as Array<{ id: string; message: string }>) : null,
  };
}

export class EvalCache {
  private readonly getStmt: Statement;
  private readonly putStmt: Statement;
  private readonly decisionsById = new Map<number, Decision>();
  private readonly decisionIds = new Map<string, number>();
  private readonly byPlainText = new Map<string, number>();
  /** Decisions made in this run and not stored yet, by provisional id. */
  private readonly pending = new Map<number, { hash: string; text: string }>();
  /**
   * The next provisional id: negative, and never given twice in a run. The working tables keep the provisional id
   * of every record decided before a flush, so an id given again after a flush would make an earlier connection's
   * records read as another decision (another rule, another reason).
   */
  private nextProvisional = -1;

  constructor(private readonly db: Database) {
    this.getStmt = db.prepare(`SELECT ${ENTRY_COLUMNS} FROM eval_cache c WHERE c.scope_id = ? AND c.source_key = ?`);
    // New entries are staged in the TEMP schema as records come (in reading order, an append) and merged in key
    // order once per connection: written straight into the cache's B-tree in reading order, every entry landed on
    // another page, and a million-student first night rewrote gigabytes of pages.
    db.exec(`CREATE TEMP TABLE IF NOT EXISTS eval_stage (scope_id INTEGER NOT NULL, source_key TEXT NOT NULL, rules_key BLOB NOT NULL,
      decision_id INTEGER NOT NULL, map_key BLOB, body_hash BLOB, nk_hash BLOB, problems TEXT)`);
    // Hashes go in as hex and are stored as bytes by SQLite (unhex), not by a Buffer made per hash in JavaScript.
    this.putStmt = db.prepare("INSERT INTO temp.eval_stage VALUES (?, ?, unhex(?), ?, unhex(NULLIF(?, '')), unhex(NULLIF(?, '')), unhex(NULLIF(?, '')), ?)");
  }

  /** The cache of one connection and resource, as a small integer. */
  scope(connection: string, resource: string): number {
    const found = this.db.prepare('SELECT scope_id FROM eval_scopes WHERE connection = ? AND resource = ?').get(connection, resource) as { scope_id: number } | undefined;
    if (found) return found.scope_id;
    // Another process (a plan of the same connection) may add it at the same moment: whichever comes first names it.
    this.db.prepare('INSERT OR IGNORE INTO eval_scopes (connection, resource) VALUES (?, ?)').run(connection, resource);
    return (this.db.prepare('SELECT scope_id FROM eval_scopes WHERE connection = ? AND resource = ?').get(connection, resource) as { scope_id: number }).scope_id;
  }

  get(scope: number, sourceKey: string): CacheEntry | undefined {
    const r = this.getStmt.get(scope, sourceKey) as RawEntry | undefined;
    return r ? decodeEntry(r) : undefined;
  }

  /** Staged until `flush()`, which callers run inside a transaction. */
  put(scope: number, sourceKey: string, e: CacheEntry): void {
    this.putStmt.run(scope, sourceKey, e.rulesKey, e.decisionId, e.mapKey, e.bodyHash, e.nkHash, e.problems && e.problems.length > 0 ? JSON.stringify(e.problems) : null);
  }

  /**
   * Writes the decisions and entries staged, the entries in key order (a later entry of a key replaces an earlier
   * one); with `keepEntries` false, the entries are dropped (a preview must not change what later nights find). Callers run it in a write transaction of its own. Provisional decision ids stay readable by decision().
   */
  flush(keepEntries = true): void {
    for (const [provisional, { hash, text }] of this.pending) {
      this.db.prepare('INSERT OR IGNORE INTO decisions (hash, decision) VALUES (?, ?)').run(hash, text);
      const id = (this.db.prepare('SELECT decision_id FROM decisions WHERE hash = ?').get(hash) as { decision_id: number }).decision_id;
      this.db.prepare('UPDATE temp.eval_stage SET decision_id = ? WHERE decision_id = ?').run(id, provisional);
      this.decisionsById.set(id, this.decisionsById.get(provisional)!);
      // Later records with this decision get the stored id; the provisional one stays readable for this run's tables.
      this.decisionIds.set(hash, id);
      for (const [plain, known] of this.byPlainText) if (known === provisional) this.byPlainText.set(plain, id);
    }
    this.pending.clear();
    if (!keepEntries) {
      this.db.exec('DELETE FROM temp.eval_stage');
      return;
    }
    this.db.exec(`INSERT OR REPLACE INTO main.eval_cache (scope_id, source_key, rules_key, decision_id, map_key, body_hash, nk_hash, problems)
      SELECT scope_id, source_key, rules_key, decision_id, map_key, body_hash, nk_hash, problems FROM temp.eval_stage ORDER BY scope_id, source_key, rowid;
      DELETE FROM temp.eval_stage;`);
  }

  /** The id of a decision, stored once however many records share it. */
  decisionId(decision: Decision): number {
    // A decision is known by its kind, its rules and which rule outcomes were met (their reasons are the rules'
    // own texts): a short key finds it without serializing it.
    const plain = `${decision.kind}|${decision.ruleIds.join(',')}|${decision.outcomes.map((o) => `${o.ruleId}${o.met ? '+' : '-'}`).join(',')}`;
    const known = this.byPlainText.get(plain);
    if (known !== undefined) return known;
    const text = canonicalJson(decision as never);
    const hash = sha1(text);
    let id = this.decisionIds.get(hash);
    if (id !== undefined) return id;
    const found = this.db.prepare('SELECT decision_id FROM decisions WHERE hash = ?').get(hash) as { decision_id: number } | undefined;
    // A decision not stored yet gets a provisional (negative) id until flush(): the plan's long read transaction
    // writes nothing to the state file, so parallel jobs sharing it never wait on each other mid-plan.
    if (found) id = found.decision_id;
    else {
      id = this.nextProvisional--;
      this.pending.set(id, { hash, text });
    }
    this.decisionIds.set(hash, id);
    this.decisionsById.set(id, decision);
    if (this.byPlainText.size < 10_000) this.byPlainText.set(plain, id);
    return id;
  }

  decision(id: number): Decision {
    const d = this.storedDecision(id);
    if (!d) throw new Error(`evaluation cache: no decision ${id}`);
    return d;
  }

  /**
   * The decision of an id, or undefined when the state file has none by that id (an entry written by an older
   * version, or a damaged file): the record is then decided again rather than the run failing.
   */
  storedDecision(id: number): Decision | undefined {
    let d = this.decisionsById.get(id);
    if (!d && id > 0) {
      const r = this.db.prepare('SELECT decision FROM decisions WHERE decision_id = ?').get(id) as { decision: string } | undefined;
      if (!r) return undefined;
      d = JSON.parse(r.decision) as Decision;
      this.decisionsById.set(id, d);
    }
    return d;
  }

  /** How many records the last run of this connection read (the cache is pruned when it holds many more). */
  rowsRead(scope: number): number | null {
    return (this.db.prepare('SELECT rows_read FROM eval_scopes WHERE scope_id = ?').get(scope) as { rows_read: number | null } | undefined)?.rows_read ?? null;
  }

  /** The Resource Preferences rows the scope is planned with (JSON text), if a run recorded them. */
  preferencesInEffect(scope: number): string | null {
    return (this.db.prepare('SELECT preferences FROM eval_scopes WHERE scope_id = ?').get(scope) as { preferences: string | null } | undefined)?.preferences ?? null;
  }

  setPreferencesInEffect(scope: number, rows: string): void {
    this.db.prepare('UPDATE eval_scopes SET preferences = ? WHERE scope_id = ?').run(rows, scope);
  }

  setRowsRead(scope: number, n: number): void {
    this.db.prepare('UPDATE eval_scopes SET rows_read = ? WHERE scope_id = ?').run(n, scope);
  }

  count(scope: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM eval_cache WHERE scope_id = ?').get(scope) as { n: number }).n;
  }

  /** Drops the entries of records this run did not read (`seenSql` selects the source keys it read). */
  pruneUnseen(scope: number, seenSql: string, params: unknown[]): number {
    return this.db.prepare(`DELETE FROM eval_cache WHERE scope_id = ? AND source_key NOT IN (${seenSql})`).run(scope, ...params).changes;
  }

  /** Forgets every evaluation (tests; a profile change does the same through the fingerprints). */
  clear(): void {
    this.db.exec('DELETE FROM eval_cache');
  }
}
