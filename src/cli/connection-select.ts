import type { Database } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import { connectionKey, readConnections } from '../snapshot/connections.js';
import { instanceOf, targetsFromCommandLine, targetsFromFile, type ConnectionTargets } from '../targets/targets.js';
import { connectionRef } from '../targets/types.js';
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

/** The targets of a run: a targets file, or --api-base with one key for every connection. */
export function targetsOf(o: { targets?: string; apiBase?: string; dataPath?: string; credentialsFile?: string }): ConnectionTargets | undefined {
  if (o.targets && o.apiBase) throw usageError('give --targets or --api-base, not both');
  if (o.targets) return targetsFromFile(o.targets);
  if (o.apiBase) return targetsFromCommandLine({ apiBase: o.apiBase, dataPath: o.dataPath, credentialsFile: o.credentialsFile });
  return undefined;
}

/** `--state` naming one file per connection: `/state/{connection}.sqlite`. */
export const PER_CONNECTION_STATE = '{connection}';

/** The state file of one connection: its key with ':' made file-name safe ("1:2026" -> "1-2026"). */
export function stateFileOf(template: string, connection: string): string {
  return template.split(PER_CONNECTION_STATE).join(connection.replace(/:/g, '-'));
}

/**
 * The state file of an operator command (retry, resync, delete) given a per-connection --state: it needs exactly
 * one --connection to know which file.
 */
export function singleStateFile(state: string, connection: string[] | undefined): string {
  if (!state.includes(PER_CONNECTION_STATE)) return state;
  if (connection?.length !== 1) throw usageError(`with --state ${state}, give exactly one --connection (it names the file)`);
  return stateFileOf(state, connection[0]!);
}

/** The instance the targets alone give (the data path, `/data/v3` when none): what a run without an API knows. */
export function plannedInstances(targets: ConnectionTargets): (c: Connection) => string {
  return (c) => instanceOf(targets.specFor(connectionRef(c, connectionKey(c))));
}

/**
 * The connections of this run: --connection, then --shard, by ODS instance: `instanceOfConnection` (the instances
 * the APIs' root documents give), else the instance the targets give, else each connection alone.
 */
export function runConnections(
  snapshot: Database, profile: LoadedProfile, o: { connection?: string[]; shard?: string }, targets: ConnectionTargets | undefined,
  instanceOfConnection?: (c: Connection) => string,
): Connection[] {
  const selected = selectConnections(snapshot, profile, checkConnectionKeys(o.connection));
  const shard = parseShard(o.shard);
  const group = instanceOfConnection ?? (targets ? plannedInstances(targets) : connectionKey);
  return inShard(selected, shard, group);
}

/**
 * Records of connections that share an ODS instance have one owner among them, which only one state file can
 * know: per-connection state files are refused for them (they would each claim, and later delete, the other's records).
 */
export function refuseSharedInstances(all: Connection[], keys: string[], instanceOfConnection: (c: Connection) => string): void {
  const instanceOfKey = new Map(all.map((c) => [connectionKey(c), instanceOfConnection(c)]));
  for (const key of keys) {
    const others = [...instanceOfKey].filter(([k, i]) => k !== key && i === instanceOfKey.get(key)).map(([k]) => k);
    if (others.length > 0) {
      throw usageError(`connection ${key} shares its ODS instance ${instanceOfKey.get(key)} with ${others.join(', ')}: connections of one instance must share one state file (give --state without ${PER_CONNECTION_STATE})`);
    }
  }
}

