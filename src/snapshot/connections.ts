import type { Database } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { Connection, JsonObject } from '../types.js';

const STANDARD = new Set(['configID', 'districtID', 'endYear', 'profile', 'yearStart', 'yearEnd', 'resourceEnabled']);

/** Identity of a connection in the state file: district and school year, stable across configID renumbering. */
export function connectionKey(c: Pick<Connection, 'districtID' | 'endYear'>): string {
  return `${c.districtID}:${c.endYear}`;
}

const factObjects = new WeakMap<Connection, JsonObject>();

/** `connection` as rules, mappings and computed facts read it: the connection query's facts plus ids and the year window. */
export function connectionFactsOf(conn: Connection): JsonObject {
  let f = factObjects.get(conn);
  if (!f) {
    f = { ...conn.facts, configID: conn.configID, districtID: conn.districtID, endYear: conn.endYear, yearStart: conn.yearStart, yearEnd: conn.yearEnd };
    factObjects.set(conn, f);
  }
  return f;
}

/**
 * The connections the profile's query gives when every configuration counts as enabled: a disabled configuration
 * sends nothing, but what it sent before may still be in an ODS the enabled ones share. The query runs as the
 * profile wrote it (its year windows, its facts) over a temporary view that shadows EdFiConfiguration (SQLite looks
 * an unqualified name up in the temp schema first); the view is gone when this returns.
 */
export function readAllConfigurations(db: Database, profile: LoadedProfile): Connection[] {
  const columns = (db.prepare('PRAGMA main.table_info(EdFiConfiguration)').all() as Array<{ name: string }>).map((c) => c.name);
  // Column names match whatever their case, as in SQL.
  const isEnabled = (c: string): boolean => c.toLowerCase() === 'enabled';
  if (!columns.some(isEnabled)) return readConnections(db, profile);
  const select = columns.map((c) => (isEnabled(c) ? `1 AS "${c}"` : `"${c.replace(/"/g, '""')}"`)).join(', ');
  db.exec(`CREATE TEMP VIEW EdFiConfiguration AS SELECT ${select} FROM main.EdFiConfiguration`);
  try {
    return readConnections(db, profile);
  } finally {
    db.exec('DROP VIEW temp.EdFiConfiguration');
  }
}

/**
 * readAllConfigurations, and besides, for each district a configuration of the profile serves, every school year
 * Campus knows (School Year Setup, calendars) that has no configuration at all, as if configured like the
 * district's latest one (its configID: its Resource Preferences). A configuration removed from Campus sends nothing
 * ("Data will only send for the years that have valid configuration"), but the records it sent are still Campus
 * records: resync must not take them for records with "no matching record in Campus".
 */
export function readCampusYears(db: Database, profile: LoadedProfile): Connection[] {
  const columns = (db.prepare('PRAGMA main.table_info(EdFiConfiguration)').all() as Array<{ name: string }>).map((c) => c.name);
  const has = (table: string, column: string): boolean =>
    (db.prepare(`PRAGMA main.table_info(${table})`).all() as Array<{ name: string }>).some((c) => c.name.toLowerCase() === column.toLowerCase());
  const yearTables = ['SchoolYear', 'Calendar'].filter((t) => has(t, 'endYear'));
  const named = (c: string, name: string): boolean => c.toLowerCase() === name.toLowerCase();
  if (yearTables.length === 0 || !['districtID', 'endYear', 'profile'].every((n) => columns.some((c) => named(c, n)))) return readAllConfigurations(db, profile);
  const q = (c: string): string => `"${c.replace(/"/g, '""')}"`;
  const configured = columns.map((c) => (named(c, 'enabled') ? `1 AS ${q(c)}` : q(c))).join(', ');
  const unconfigured = columns.map((c) => (named(c, 'enabled') ? `1 AS ${q(c)}` : named(c, 'endYear') ? `y.endYear AS ${q(c)}` : `c.${q(c)}`)).join(', ');
  db.exec(`CREATE TEMP VIEW EdFiConfiguration AS
    SELECT ${configured} FROM main.EdFiConfiguration
    UNION ALL
    SELECT ${unconfigured} FROM main.EdFiConfiguration c
    JOIN (${yearTables.map((t) => `SELECT endYear FROM main.${t}`).join(' UNION ')}) y
    WHERE c.rowid = (SELECT l.rowid FROM main.EdFiConfiguration l WHERE l.districtID = c.districtID AND lower(l.profile) = lower(c.profile) ORDER BY l.endYear DESC, l.rowid DESC LIMIT 1)
      AND NOT EXISTS (SELECT 1 FROM main.EdFiConfiguration o WHERE o.districtID = c.districtID AND o.endYear = y.endYear AND lower(o.profile) = lower(c.profile))`);
  try {
    return readConnections(db, profile);
  } finally {
    db.exec('DROP VIEW temp.EdFiConfiguration');
  }
}

/** The Ed-Fi connections of the snapshot that this profile serves, from the profile's connections query. */
export function readConnections(db: Database, profile: LoadedProfile): Connection[] {
  const rows = db.prepare(profile.connectionsSql).all({
    profile: profile.def.connectionProfile ?? profile.def.name,
    resource: profile.def.resource.name,
  }) as Array<Record<string, unknown>>;
  return rows.map((r) => {
    const facts: JsonObject = {};
    for (const [k, v] of Object.entries(r)) if (!STANDARD.has(k)) facts[k] = v as JsonObject[string];
    return {
      configID: Number(r.configID),
      districtID: Number(r.districtID),
      endYear: Number(r.endYear),
      profile: String(r.profile ?? profile.def.name),
      yearStart: String(r.yearStart),
      yearEnd: String(r.yearEnd),
      resourceEnabled: Number(r.resourceEnabled ?? 1) !== 0,
      facts,
    };
  });
}
