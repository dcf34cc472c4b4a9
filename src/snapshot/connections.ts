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

/** A connection read by readAllConfigurations. */
export interface ConfigurationRead extends Connection {
  /** A school year Campus has for the district with no configuration row at all (with `campusYears`). */
  unconfigured?: boolean;
}

/**
 * The connections the profile's query gives when every configuration counts as enabled: a disabled configuration
 * sends nothing, but what it sent before may still be in an ODS the enabled ones share. The query runs as the
 * profile wrote it (its year windows, its facts) over a temporary view that shadows EdFiConfiguration (SQLite looks
 * an unqualified name up in the temp schema first); the view is gone when this returns.
 *
 * With `campusYears`, also every school year a configured district's schools have a calendar for but that has no
 * configuration at all, as if configured like the district's latest one (its configID: its Resource Preferences),
 * marked `unconfigured`. A configuration removed from Campus sends nothing ("Data will only send for the years that
 * have valid configuration"), but the records it sent are still Campus records: resync must not take them for
 * records with "no matching record in Campus". Years without a calendar have no enrollment, so no record.
 */
export function readAllConfigurations(db: Database, profile: LoadedProfile, o: { campusYears?: boolean } = {}): ConfigurationRead[] {
  // Column names match whatever their case, as in SQL.
  const named = (c: string, name: string): boolean => c.toLowerCase() === name.toLowerCase();
  const columnsOf = (table: string): string[] => (db.prepare(`PRAGMA main.table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
  const has = (table: string, ...names: string[]): boolean => names.every((n) => columnsOf(table).some((c) => named(c, n)));
  const columns = columnsOf('EdFiConfiguration');
  const campusYears = Boolean(o.campusYears) && has('EdFiConfiguration', 'districtID', 'endYear', 'profile') && has('Calendar', 'schoolID', 'endYear') && has('School', 'schoolID', 'districtID');
  if (!campusYears && !columns.some((c) => named(c, 'enabled'))) return readConnections(db, profile);
  const q = (c: string): string => `"${c.replace(/"/g, '""')}"`;
  const asEnabled = (prefix: string, endYear?: string): string =>
    columns.map((c) => (named(c, 'enabled') ? `1 AS ${q(c)}` : endYear && named(c, 'endYear') ? `${endYear} AS ${q(c)}` : `${prefix}${q(c)}`)).join(', ');
  let view = `SELECT ${asEnabled('')} FROM main.EdFiConfiguration`;
  if (campusYears) {
    // The added rows are worked out once into a table: as a view joined into the profile's query, the planner
    // evaluated them per configuration (9 s for 4,500 configurations, against 0.3 s).
    db.exec(`DROP TABLE IF EXISTS temp.campus_years;
      CREATE TEMP TABLE campus_years AS
      WITH latest AS (SELECT rowid AS rid, ROW_NUMBER() OVER (PARTITION BY districtID, lower(profile) ORDER BY endYear DESC, rowid DESC) AS n FROM main.EdFiConfiguration),
           years AS (SELECT DISTINCT s.districtID, cal.endYear FROM main.Calendar cal JOIN main.School s ON s.schoolID = cal.schoolID),
           taken AS (SELECT DISTINCT districtID, endYear, lower(profile) AS p FROM main.EdFiConfiguration)
      SELECT ${asEnabled('c.', 'y.endYear')} FROM main.EdFiConfiguration c
      JOIN latest l ON l.rid = c.rowid AND l.n = 1
      JOIN years y ON y.districtID = c.districtID
      LEFT JOIN taken t ON t.districtID = c.districtID AND t.endYear = y.endYear AND t.p = lower(c.profile)
      WHERE t.districtID IS NULL`);
    view += ` UNION ALL SELECT ${asEnabled('')} FROM temp.campus_years`;
  }
  db.exec(`CREATE TEMP VIEW EdFiConfiguration AS ${view}`);
  try {
    const connections = readConnections(db, profile);
    if (!campusYears) return connections;
    const added = new Set((db.prepare('SELECT districtID AS d, endYear AS y FROM temp.campus_years').all() as Array<{ d: number; y: number }>).map((r) => `${r.d}:${r.y}`));
    return connections.map((c) => (added.has(connectionKey(c)) ? { ...c, unconfigured: true } : c));
  } finally {
    db.exec('DROP VIEW temp.EdFiConfiguration; DROP TABLE IF EXISTS temp.campus_years;');
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
