import type { Database } from 'better-sqlite3';
import type { PreferenceTable } from '../mapping/functions.js';
import type { SpecRule } from '../profile/profile-def.js';
import { connectionKey } from '../snapshot/connections.js';
import { preferenceFingerprint, preferenceTableOf, readPreferenceTable } from '../snapshot/preferences.js';
import type { EvalCache } from '../state/eval-cache.js';
import type { Connection } from '../types.js';
import type { PlanWarning } from './plan-types.js';

const TABLE = 'EdFiResourcePreference';

/** A connection planned with today's preferences: their fingerprint, to keep as the ones in effect once a run says so. */
export interface PreferencesToRecord {
  connection: string;
  scope: number;
  rows: string;
}

/**
 * The Resource Preferences each connection is planned with, for a profile whose resync rules say a change of them
 * waits for a resync ("Changes to Resource Preferences mappings do NOT trigger. A manual resync must be performed").
 *
 * A connection is planned with the preferences in effect: the ones its last resync (or its first run) read, kept in
 * the state file as their fingerprint (snapshot/preferences.ts: the columns the spec names, so another column of the
 * export, a timestamp, is no change). Every record is judged with them, whatever else changes (its Campus data, a
 * profile file, the evaluation cache), so a preference change alone, or an export that came in short one night,
 * never sends or deletes anything. A resync plans the connections it reconciles with today's preferences; the caller
 * keeps them once the resync's sends went ahead (recordPreferences).
 *
 * The snapshot's table is shadowed by a TEMP table of the same name (SQLite looks an unqualified name up in the
 * temp schema first), so the source query, computed facts and mappings read the preferences in effect without
 * knowing it; the snapshot file itself is never written.
 */
export class PreferencesInEffect {
  /** Connections planned with today's preferences, whose fingerprint may be kept as the one in effect. */
  readonly toRecord: PreferencesToRecord[] = [];
  private shadowed = false;

  constructor(
    private readonly snapshot: Database,
    private readonly cache: EvalCache,
    private readonly resource: string,
    private readonly rule: SpecRule,
  ) {}

  /**
   * Chooses the preferences of each connection and shadows the snapshot's table with them. `today` says which
   * connections take today's (a resync of them). Returns a warning for each connection whose preferences changed
   * since the ones in effect.
   */
  apply(connections: Connection[], today: (connection: string) => boolean): PlanWarning[] {
    const warnings: PlanWarning[] = [];
    const stored: Array<{ configID: number; table: PreferenceTable }> = [];
    // Today's are read before the shadow exists (readPreferenceTable reads the unqualified name).
    for (const conn of connections) {
      const key = connectionKey(conn);
      const scope = this.cache.scope(key, this.resource);
      const now = preferenceFingerprint(readPreferenceTable(this.snapshot, conn.configID));
      const kept = this.cache.preferencesInEffect(scope);
      // A value that is no fingerprint (kept by an unreleased version) counts as none kept.
      const inEffect = kept === null ? undefined : preferenceTableOf(kept);
      if (inEffect === undefined || today(key)) {
        if (kept !== now) this.toRecord.push({ connection: key, scope, rows: now });
        continue;
      }
      if (kept === now) continue;
      stored.push({ configID: conn.configID, table: inEffect });
      warnings.push({
        id: 'plan.preferences-changed',
        connection: key,
        message: `the Resource Preferences of connection ${key} changed since its last resync (or its first run); "${this.rule.spec}" (${this.rule.id}): its records are planned with the preferences of its last resync; run \`edfi-sync resync\` to send the change`,
      });
    }
    if (stored.length > 0) this.shadow(stored);
    return warnings;
  }

  private shadow(stored: Array<{ configID: number; table: PreferenceTable }>): void {
    // CREATE TABLE AS drops the snapshot's key: without the index every look-up of a source query scans the table.
    this.snapshot.exec(`DROP TABLE IF EXISTS temp.${TABLE}; CREATE TEMP TABLE ${TABLE} AS SELECT * FROM main.${TABLE};
      CREATE INDEX temp.${TABLE}_lookup ON ${TABLE} (configID, resource, element, campusValue);`);
    this.shadowed = true;
    const remove = this.snapshot.prepare(`DELETE FROM temp.${TABLE} WHERE configID = ?`);
    const insert = this.snapshot.prepare(`INSERT INTO temp.${TABLE} (configID, resource, element, campusValue, edfiCode) VALUES (?, ?, ?, ?, ?)`);
    for (const { configID, table } of stored) {
      remove.run(configID);
      for (const [resource, elements] of table) {
        for (const [element, values] of elements) for (const [campusValue, edfiCode] of values) insert.run(configID, resource, element, campusValue, edfiCode);
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
 * Keeps today's preferences as the ones in effect for these connections (all of them without a list): after a run
 * whose sends went ahead for them (not refused by the mass-delete guard, not stopped), or whenever a caller sends
 * everything a plan says.
 */
export function recordPreferences(cache: EvalCache, toRecord: readonly PreferencesToRecord[], connections?: Iterable<string>): void {
  const wanted = connections ? new Set(connections) : undefined;
  for (const r of toRecord) if (!wanted || wanted.has(r.connection)) cache.setPreferencesInEffect(r.scope, r.rows);
}
