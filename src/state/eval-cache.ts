import type { Database, Statement } from 'better-sqlite3';
import type { Decision, JsonObject } from '../types.js';

/**
 * What the last evaluation of a record gave, keyed by a fingerprint of its inputs and of the profile's files.
 * A night where 1% of records changed re-evaluates 1%: the rest is read back from here.
 */
export interface CachedEvaluation {
  rulesKey: string;
  decision: Decision;
  mapKey: string | null;
  body: JsonObject | null;
  problems: string[] | null;
}

interface Raw {
  source_key: string;
  rules_key: string;
  decision: string;
  map_key: string | null;
  body: string | null;
  problems: string | null;
}

export class EvalCache {
  private readonly putStmt: Statement;

  constructor(private readonly db: Database) {
    this.putStmt = db.prepare(`INSERT OR REPLACE INTO eval_cache (connection, resource, source_key, rules_key, decision, map_key, body, problems)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  /** Rules keys of a whole connection: cheap to hold, and bodies are parsed only for the records that need one. */
  load(connection: string, resource: string): Map<string, { rulesKey: string; raw: Raw }> {
    const rows = this.db
      .prepare('SELECT source_key, rules_key, decision, map_key, body, problems FROM eval_cache WHERE connection = ? AND resource = ?')
      .all(connection, resource) as Raw[];
    return new Map(rows.map((r) => [r.source_key, { rulesKey: r.rules_key, raw: r }]));
  }

  static parse(raw: Raw): CachedEvaluation {
    return {
      rulesKey: raw.rules_key,
      decision: JSON.parse(raw.decision) as Decision,
      mapKey: raw.map_key,
      body: raw.body ? (JSON.parse(raw.body) as JsonObject) : null,
      problems: raw.problems ? (JSON.parse(raw.problems) as string[]) : null,
    };
  }

  /** Writes many entries in one transaction (batched writes are what make SQLite fast). */
  saveMany(connection: string, resource: string, entries: Array<{ sourceKey: string; value: CachedEvaluation }>): void {
    const tx = this.db.transaction(() => {
      for (const { sourceKey, value } of entries) {
        this.putStmt.run(
          connection,
          resource,
          sourceKey,
          value.rulesKey,
          JSON.stringify(value.decision),
          value.mapKey,
          value.body ? JSON.stringify(value.body) : null,
          value.problems ? JSON.stringify(value.problems) : null,
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
