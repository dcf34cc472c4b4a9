import type { Database } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import { connectionKey, readConnections } from '../snapshot/connections.js';
import type { Connection } from '../types.js';
import { usageError } from './cli-error.js';

/** `--connection` values: "districtID:endYear", as `connections` lists them. */
export function checkConnectionKeys(keys: string[] | undefined): Set<string> | undefined {
  if (!keys || keys.length === 0) return undefined;
  for (const k of keys) {
    if (!/^\d+:\d{4}$/.test(k)) throw usageError(`--connection '${k}' is not a connection key: write districtID:endYear, as \`edfi-sync connections\` lists them`);
  }
  return new Set(keys);
}

/**
 * The snapshot's connections for the profile, limited to `only`. A key the snapshot does not have is a usage
 * error: a scheduler mapping over a stale list must not report success for a connection it did not run.
 */
export function selectConnections(snapshot: Database, profile: LoadedProfile, only: Set<string> | undefined): Connection[] {
  const all = readConnections(snapshot, profile);
  if (!only) return all;
  const known = new Set(all.map(connectionKey));
  const unknown = [...only].filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw usageError(`no connection ${unknown.join(', ')} for profile '${profile.def.name}' in this snapshot (it has: ${[...known].join(', ') || 'none'})`);
  }
  return all.filter((c) => only.has(connectionKey(c)));
}
