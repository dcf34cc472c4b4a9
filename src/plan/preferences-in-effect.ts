import type { Database } from 'better-sqlite3';
import { connectionKey } from '../snapshot/connections.js';
import type { EvalCache } from '../state/eval-cache.js';
import type { Connection } from '../types.js';
import { canonicalJson } from '../util/hash.js';
import type { PlanWarning } from './plan-types.js';
import type { SpecRule } from '../profile/profile-def.js';

const TABLE = 'EdFiResourcePreference';

/**
 * The Resource Preferences each connection is planned with, for a profile whose resync rules say a change of them
 * waits for a resync ("Changes to Resource Preferences mappings do NOT trigger. A manual resync must be performed").
 *
 * A connection is planned with the preferences in effect: the ones its last resync (or its first run) read, kept in
 * the state file. Every record is judged with them, whatever else changes (its Campus data, a profile file, the
 * evaluation cache), so a preference change alone, or a preferences export that came in short one night, never
 * sends or deletes anything. A resync plans the connections it reconciles with today's preferences and keeps them
 * as the ones in effect, once the resync went through (the caller records them: see recordPreferences).
 *
 * The snapshot's table is shadowed by a TEMP table of the same name (SQLite looks an unqualified name up in the
 * temp schema first), so the source query, computed facts and mappings read the preferences in effect without
 * knowing it; the snapshot file itself is never written.
 */
/** The columns a preference row is made of (what the source queries, facts and mappings read), as the spec names them. */
const COLUMNS = ['configID', 'resource', 'element', 'campusValue', 'edfiCode'] as const;

/** A connection planned with today's preferences: its rows, to keep as the ones in effect once a run says so. */
export interface PreferencesToRecord {
  connection: string;
  scope: number;
  rows: string;
}

export class PreferencesInEffect {
  /** The snapshot's spelling of each column (SQLite and the snapshot check match names whatever their case). */
  private readonly column: Record<(typeof COLUMNS)[number], string>;
  /** Connections planned with today's preferences, whose rows may be kept as the ones in effect. */
  readonly toRecord: PreferencesToRecord[] = [];
  private shadowed = false;

  constructor(
    private readonly snapshot: Database,
    private readonly cache: EvalCache,
    private readonly resource: string,
    private readonly rule: SpecRule,
  ) {
    const names = (snapshot.prepare(`PRAGMA main.table_info(${TABLE})`).all() as Array<{ name: string }>).map((c) => c.name);
    const find = (want: string): string => {
      const found = names.find((n) => n.toLowerCase() === want.toLowerCase());
      // The snapshot check refuses a snapshot without them; a profile cannot plan without knowing its preferences.
      if (!found) throw new Error(`the snapshot's ${TABLE} table has no ${want} column: the Resource Preferences in effect cannot be kept (${rule.id})`);
      return found;
    };
    this.column = Object.fromEntries(COLUMNS.map((c) => [c, find(c)])) as Record<(typeof COLUMNS)[number], string>;
  }

  private q(c: (typeof COLUMNS)[number]): string {
    return `"${this.column[c].replace(/"/g, '""')}"`;
  }

  /**
   * Today's rows of a configuration in one canonical text (equal sets, equal text): the columns the spec names only,
   * so another column of the export (a timestamp) is no change.
   */
  private today(configID: number): string {
    const rows = this.snapshot.prepare(`SELECT ${this.q('resource')} AS resource, ${this.q('element')} AS element, ${this.q('campusValue')} AS campusValue,
      ${this.q('edfiCode')} AS edfiCode FROM main.${TABLE} WHERE ${this.q('configID')} = ?`).all(configID) as Array<Record<string, unknown>>;
    return `[${rows.map((r) => canonicalJson(r as never)).sort().join(',')}]`;
  }

  /** Rows a run kept (a JSON array); anything else (a value an unreleased version wrote) counts as none kept. */
  private stored(scope: number): string | null {
    const v = this.cache.preferencesInEffect(scope);
    return v !== null && v.startsWith('[') ? v : null;
  }

  /**
   * Chooses the preferences of each connection and shadows the snapshot's table with them. `today` says which
   * connections take today's (a resync of them). Returns a warning for each connection whose preferences changed
   * since the ones in effect.
   */
  apply(connections: Connection[], today: (connection: string) => boolean): PlanWarning[] {
    const warnings: PlanWarning[] = [];
    const stored: Array<{ configID: number; rows: string }> = [];
    for (const conn of connections) {
      const key = connectionKey(conn);
      const scope = this.cache.scope(key, this.resource);
      const now = this.today(conn.configID);
      const inEffect = this.stored(scope);
      if (inEffect === null || today(key)) {
        if (inEffect !== now) this.toRecord.push({ connection: key, scope, rows: now });
        continue;
      }
      if (inEffect === now) continue;
      stored.push({ configID: conn.configID, rows: inEffect });
      warnings.push({
        id: 'plan.preferences-changed',
        connection: key,
        message: `the Resource Preferences of connection ${key} changed since its last resync; "${this.rule.spec}" (${this.rule.id}): its records are planned with the preferences of its last resync; run \`edfi-sync resync\` to send the change`,
      });
    }
    if (stored.length > 0) this.shadow(stored);
    return warnings;
  }

  private shadow(stored: Array<{ configID: number; rows: string }>): void {
    const [config, resource, element, campusValue, edfiCode] = COLUMNS.map((c) => this.q(c));
    this.snapshot.exec(`DROP TABLE IF EXISTS temp.${TABLE}; CREATE TEMP TABLE ${TABLE} AS SELECT * FROM main.${TABLE};
      CREATE INDEX temp.${TABLE}_lookup ON ${TABLE} (${config}, ${resource}, ${element}, ${campusValue});`);
    // CREATE TABLE AS drops the snapshot's key: without the index every look-up of a source query would scan the table.
    this.shadowed = true;
    const remove = this.snapshot.prepare(`DELETE FROM temp.${TABLE} WHERE ${config} = ?`);
    const insert = this.snapshot.prepare(`INSERT INTO temp.${TABLE} (${config}, ${resource}, ${element}, ${campusValue}, ${edfiCode}) VALUES (?, ?, ?, ?, ?)`);
    for (const { configID, rows } of stored) {
      remove.run(configID);
      for (const row of JSON.parse(rows) as Array<Record<string, string | number | null>>) {
        insert.run(configID, row.resource ?? null, row.element ?? null, row.campusValue ?? null, row.edfiCode ?? null);
      }
    }
  }

  /** Drops the shadow: later readers of the snapshot (explain, the next plan) see the file as it is. */
  close(): void {
    if (this.shadowed) this.snapshot.exec(`DROP TABLE IF EXISTS temp.${TABLE}`);
    this.shadowed = false;
  }
}

/**
 * Keeps today's preferences as the ones in effect for these connections: after a run whose sends went ahead for
 * them (not refused by the mass-delete guard, not stopped), or whenever a caller sends everything a plan says.
 */
export function recordPreferences(cache: EvalCache, toRecord: readonly PreferencesToRecord[], connections: Iterable<string>): void {
  const wanted = new Set(connections);
  for (const r of toRecord) if (wanted.has(r.connection)) cache.setPreferencesInEffect(r.scope, r.rows);
}
