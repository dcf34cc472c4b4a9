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

export interface Shard {
  index: number;
  count: number;
}

/** `--shard INDEX/COUNT` (0-based), as a Kubernetes Indexed Job gives it: `--shard $(JOB_COMPLETION_INDEX)/8`. */
export function parseShard(v: string | undefined): Shard | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index >= shard.count) throw usageError(`--shard '${v}' must be INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4`);
  return shard;
}

/** A stable number for a text: the same on every machine and every night. */
function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The connections of one shard. A connection's shard follows from its ODS instance, not from its place in a list:
 * connections that share an instance (and so share records) always run in the same shard, and adding a district
 * moves no other connection to another shard.
 */
export function inShard<T>(items: T[], shard: Shard | undefined, groupOf: (item: T) => string): T[] {
  if (!shard) return items;
  return items.filter((x) => stableHash(groupOf(x)) % shard.count === shard.index);
}
