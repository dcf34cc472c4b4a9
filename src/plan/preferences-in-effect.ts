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
 * as the ones in effect.
 *
 * The snapshot's table is shadowed by a TEMP table of the same name (SQLite looks an unqualified name up in the
 * temp schema first), so the source query, computed facts and mappings read the preferences in effect without
 * knowing it; the snapshot file itself is never written.
 */
export class PreferencesInEffect {
  private readonly columns: string[];
  /** Connections planned with today's preferences, whose rows are kept as the ones in effect after their pass. */
  private readonly recordToday = new Map<string, { scope: number; rows: string }>();
  private shadowed = false;

  constructor(
    private readonly snapshot: Database,
    private readonly cache: EvalCache,
    private readonly resource: string,
    private readonly rule: SpecRule,
  ) {
    this.columns = (snapshot.prepare(`PRAGMA main.table_info(${TABLE})`).all() as Array<{ name: string }>).map((c) => c.name);
  }

  /** Today's rows of a configuration, without its configID, in one canonical text (equal sets, equal text). */
  private today(configID: number): string {
    if (!this.columns.includes('configID')) return '[]';
    const rows = this.snapshot.prepare(`SELECT * FROM main.${TABLE} WHERE configID = ?`).all(configID) as Array<Record<string, unknown>>;
    return `[${rows.map(({ configID: _c, ...r }) => canonicalJson(r as never)).sort().join(',')}]`;
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
      const inEffect = this.cache.preferencesInEffect(scope);
      if (inEffect === null || today(key)) {
        if (inEffect !== now) this.recordToday.set(key, { scope, rows: now });
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
    this.snapshot.exec(`DROP TABLE IF EXISTS temp.${TABLE}; CREATE TEMP TABLE ${TABLE} AS SELECT * FROM main.${TABLE}`);
    this.shadowed = true;
    const remove = this.snapshot.prepare(`DELETE FROM temp.${TABLE} WHERE configID = ?`);
    for (const { configID, rows } of stored) {
      remove.run(configID);
      for (const row of JSON.parse(rows) as Array<Record<string, unknown>>) {
        const names = Object.keys(row).filter((n) => this.columns.includes(n));
        this.snapshot.prepare(`INSERT INTO temp.${TABLE} (configID${names.map((n) => `, "${n}"`).join('')}) VALUES (?${', ?'.repeat(names.length)})`)
          .run(configID, ...names.map((n) => row[n] as string | number | null));
      }
    }
  }

  /** After a connection's pass: today's preferences are the ones in effect (its first run, or a resync of it). */
  record(connection: string): void {
    const r = this.recordToday.get(connection);
    if (r) this.cache.setPreferencesInEffect(r.scope, r.rows);
  }

  /** Drops the shadow: later readers of the snapshot (explain, the next plan) see the file as it is. */
  close(): void {
    if (this.shadowed) this.snapshot.exec(`DROP TABLE IF EXISTS temp.${TABLE}`);
    this.shadowed = false;
  }
}
