import type { Database, Statement } from 'better-sqlite3';
import type { Decision, JsonObject } from '../types.js';

/**
 * What the last evaluation of a record gave, keyed by a fingerprint of its inputs and of the profile's files.
 * A night where 1% of records changed re-evaluates 1%: the rest is read back from here, and an unchanged
 * record is judged by hashes alone (its body is read only when it must be sent).
 */
export interface CachedEvaluation {
  rulesKey: string;
  decision: Decision;
  mapKey: string | null;
  body: JsonObject | null;
  bodyHash: string | null;
  /** Canonical JSON of the natural key. */
  naturalKey: string | null;
  problems: string[] | null;
}

/** A cache row as loaded for a whole connection: everything but the body. */
export interface CacheEntry {
  rulesKey: string;
  decision: string;
  mapKey: string | null;
  bodyHash: string | null;
  naturalKey: string | null;
  problems: string | null;
}

export class EvalCache {
  private readonly putStmt: Statement;
  private readonly bodyStmt: Statement;

  constructor(private readonly db: Database) {
    this.putStmt = db.prepare(`INSERT OR REPLACE INTO eval_cache
      (connection, resource, source_key, rules_key, decision, map_key, body, problems, body_hash, natural_key)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.bodyStmt = db.prepare('SELECT body FROM eval_cache WHERE connection = ? AND resource = ? AND source_key = ?');
  }

  load(connection: string, resource: string): Map<string, CacheEntry> {
    const rows = this.db
      .prepare(`SELECT source_key, rules_key AS rulesKey, decision, map_key AS mapKey, body_hash AS bodyHash, natural_key AS naturalKey, problems
                FROM eval_cache WHERE connection = ? AND resource = ?`)
      .all(connection, resource) as Array<CacheEntry & { source_key: string }>;
    return new Map(rows.map(({ source_key, ...e }) => [source_key, e]));
  }

  body(connection: string, resource: string, sourceKey: string): JsonObject | null {
    const r = this.bodyStmt.get(connection, resource, sourceKey) as { body: string | null } | undefined;
    return r?.body ? (JSON.parse(r.body) as JsonObject) : null;
  }

  /** Writes many entries in one transaction (batched writes are what make SQLite fast). */
  saveMany(connection: string, resource: string, entries: Array<{ sourceKey: string; value: CachedEvaluation }>): void {
    const tx = this.db.transaction(() => {
      for (const { sourceKey, value } of entries) {
        this.putStmt.run(
          connection, resource, sourceKey, value.rulesKey, JSON.stringify(value.decision), value.mapKey,
          value.body ? JSON.stringify(value.body) : null, value.problems ? JSON.stringify(value.problems) : null,
          value.bodyHash, value.naturalKey,
        );
      }
    });
    tx();
  }

  prune(connection: string, resource: string, keep: Set<string>): void {
    const keys = this.db.prepare('SELECT source_key FROM eval_cache WHERE connection = ? AND resource = ?').all(connection, resource) as Array<{ source_key: string }>;
    const del = this.db.prepare('DELETE FROM eval_cache WHERE connection = ? AND resource = ? AND source_key = ?');
    this.db.transaction(() => {
      for (const k of keys) if (!keep.has(k.source_key)) del.run(connection, resource, k.source_key);
    })();
  }
}
