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
