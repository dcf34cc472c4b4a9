import type { Database } from 'better-sqlite3';
import type { ResourceApi } from '../emit/api.js';
import { fieldTypes } from '../edfi/field-paths.js';
import { naturalKeyOf } from '../plan/paths.js';
import { instanceResolver } from '../plan/instance-key.js';
import { DEFAULT_INSTANCE } from '../plan/plan-options.js';
import { buildPlan } from '../plan/planner.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import { readAllConfigurations, readConnections, connectionKey } from '../snapshot/connections.js';
import { IdentityMap, type IdentityRow } from '../state/identity-map.js';
import { emptyState } from '../state/state-db.js';
import type { Connection, Json, JsonObject, Operation } from '../types.js';
import { canonicalJson, hashJson } from '../util/hash.js';
import { comparableHash } from './ods-body.js';
import { listOdsRecords, lookUpEach, type Lookups } from './ods-listing.js';

export type ReconcileAction = 'forget-mapping' | 'delete-from-ods' | 'adopt' | 'refresh' | 'in-step' | 'unchecked' | 'outside-scope' | 'kept-in-ods';

export interface ReconcileRow {
  action: ReconcileAction;
  connection: string;
  sourceKey: string | null;
  edfiId: string | null;
  naturalKey: JsonObject;
  detail: string;
  rule?: string;
}

export interface Reconciliation {
  rows: ReconcileRow[];
  /** DELETEs of ODS records nobody wants (sent by the emitter like any other operation). */
  deletes: Operation[];
  counts: Record<ReconcileAction, number>;
  odsRecords: number;
  /** Whether every ODS instance could be listed; when not, mapped records were looked up by id instead. */
  complete: boolean;
  /** What could not be done and what was done instead (an API that cannot list records). */
  notes: string[];
}

/**
 * Resync (the specs' "Resync" rows; Core "a manual resync must be performed"): compares the ODS, the identity
 * mapping and the snapshot for each connection. Mapping rows whose record the ODS lost are forgotten; ODS
 * records that Campus wants but nobody mapped are adopted; ODS records nobody wants are deleted; mapped rows
 * take the ODS body as "last sent", so the following plan PUTs wherever the ODS differs from today's mapping.
 */
export async function reconcile(o: {
  profile: LoadedProfile;
  snapshot: Database;
  state: Database;
  api: (connection: string) => ResourceApi;
  apply: boolean;
  /** Only these connections are reconciled; the others of their ODS are read, never changed. */
  onlyConnections?: Set<string>;
  /** The ODS instance of a connection (as sync plans it); default: one shared instance. */
  instanceOf?: (conn: Connection) => string | undefined;
}): Promise<Reconciliation> {
  const { profile, snapshot, state } = o;
  const resource = profile.def.resource.name;
  const identity = new IdentityMap(state);
  // As the planner does (and the same for the plan below and the grouping here).
  const instanceOf = instanceResolver(connectionKey, o.instanceOf, (key) => identity.instanceOfConnection(key, resource), DEFAULT_INSTANCE, () => identity.recordedInstances(resource));
  // What each wanted record would be sent as: its hash as the plan keeps it, and as an ODS would hold it.
  const desired = new Map<string, Map<string, { sourceKey: string; student: string | null; naturalKey: JsonObject; bodyHash: string; comparable: string }>>();
  // The plan also repairs identity rows of older state files (one owner per ODS record and instance), and names
  // the one record per natural key and instance that the ODS should hold.
  await buildPlan({
    // The connections reconciled are planned with today's Resource Preferences (what a resync is for), the others
    // with theirs; a preview writes nothing.
    profile, snapshot, state, instanceOf, reevaluate: o.onlyConnections ?? true, preview: !o.apply,
    onDesired: (conn, sourceKey, naturalKey, body, student) => {
      let m = desired.get(conn);
      if (!m) desired.set(conn, (m = new Map()));
      m.set(canonicalJson(naturalKey), { sourceKey, student, naturalKey, bodyHash: hashJson(body), comparable: comparableHash(body) });
    },
  });
  const rows: ReconcileRow[] = [];
  const deletes: Operation[] = [];
  let odsRecords = 0;
  const notInOds = profile.def.resync?.notInOds?.id ?? 'resync.not-in-ods';
  const notInCampus = profile.def.resync?.notInCampus ?? { id: 'resync.not-in-campus', spec: 'In the ODS with no Campus record and no identity mapping' };

  // Connections that send to the same ODS instance (one for several school years) are reconciled together:
  // a record another connection of that ODS wants or maps is never "nobody's".
  const groups = new Map<string, Connection[]>();
  const connections = readConnections(snapshot, profile);
  // What configurations this run does not send would want, worked out once and only if some record is up for deletion.
  let unsentClaims: Promise<UnsentClaims> | undefined;
  const unsent = (): Promise<UnsentClaims> => (unsentClaims ??= claimsOf(profile, snapshot, connections));
  for (const conn of connections) {
    if (!conn.resourceEnabled) continue;
    const instance = instanceOf(conn);
    groups.set(instance, [...(groups.get(instance) ?? []), conn]);
  }
  // A scope parameter the Ed-Fi body carries as a number is filtered by the number the bodies carry: a State
  // District Number kept as text with a leading zero ('0480101') is sent as 480101.
  const numericParams = new Set(Object.keys(profile.def.resync?.scope ?? {}).filter((param) => {
    const types = fieldTypes(profile.def.resource.schema, param);
    return types.size > 0 && [...types].every((t) => t === 'integer' || t === 'number');
  }));
  const notes: string[] = [];
  let complete = true;
  const touched = (connection: string): boolean => !o.onlyConnections || o.onlyConnections.has(connection);
  for (const [instance, conns] of groups) {
    if (!conns.some((c) => touched(connectionKey(c)))) continue;
    const api = o.api(connectionKey(conns.find((c) => touched(connectionKey(c)))!));
    const queries: Array<Record<string, string | number>> = [];
    /** The connection whose scope query each query is: a record nobody wants belongs to the connection that found it. */
    const queryConnection: string[] = [];
    const seenQueries = new Set<string>();
    for (const conn of conns) {
      const query: Record<string, string | number> = {};
      for (const [param, fact] of Object.entries(profile.def.resync?.scope ?? {})) {
        const v = fact in conn.facts ? conn.facts[fact] : (conn as unknown as Record<string, Json>)[fact];
        if (v !== null && v !== undefined) query[param] = scopeValue(v, numericParams.has(param));
      }
      const q = canonicalJson(query);
      if (seenQueries.has(q)) continue;
      seenQueries.add(q);
      queries.push(query);
      queryConnection.push(connectionKey(conn));
    }
    // The group's identity rows, read once: the ids to look up where the ODS cannot list, then the comparison.
    const mappedRows = conns.flatMap((c) => [...identity.forConnection(connectionKey(c), resource).values()]);
    const mappedIds = mappedRows.map((r) => r.edfiId).filter((id): id is string => Boolean(id));
    const listing = await listOdsRecords(api, profile.def.resource.path, queries, mappedIds, `connection${conns.length > 1 ? 's' : ''} ${conns.map(connectionKey).join(', ')}`);
    const ods = listing.records;
    notes.push(...listing.notes);
    if (!listing.complete) complete = false;
    odsRecords += ods.size;
    const mappedById = new Map<string, IdentityRow>();
    for (const row of mappedRows) if (row.edfiId) mappedById.set(row.edfiId, row);
    const wanted = new Map<string, { connection: string; sourceKey: string; student: string | null; bodyHash: string; comparable: string }>();
    for (const conn of conns) {
      const key = connectionKey(conn);
      for (const [nk, w] of desired.get(key) ?? new Map()) if (!wanted.has(nk)) wanted.set(nk, { connection: key, sourceKey: w.sourceKey, student: w.student, bodyHash: w.bodyHash, comparable: w.comparable });
    }

    const changes: Array<() => void> = [];
    const scopeOf = new Map(queries.map((q, i) => [queryConnection[i]!, q]));
    const scopeText = (connection: string): string => Object.entries(scopeOf.get(connection) ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || 'no filter';
    const missing = mappedRows.filter((row) => row.edfiId && !listing.unchecked.has(row.edfiId) && !ods.has(row.edfiId) && touched(row.connection));
    // Not being listed is no proof of absence: the listing is filtered by today's scope values (a district number
    // that changed after sending lists none of the records sent under the old one). Only a 404 on the record's own
    // id is; a listing that failed has already looked every mapped id up that way.
    const lookups: Lookups = listing.complete
      ? await lookUpEach(api, profile.def.resource.path, missing.map((r) => r.edfiId!))
      : { found: new Map(), gone: new Set(missing.map((r) => r.edfiId!)), failed: new Map() };
    for (const row of mappedRows) {
      if (row.edfiId && listing.unchecked.has(row.edfiId)) {
        rows.push({ action: 'unchecked', connection: row.connection, sourceKey: row.sourceKey, edfiId: row.edfiId, naturalKey: row.naturalKey, detail: 'the ODS could not be asked for this record: the mapping is kept as it is' });
      }
    }
    for (const row of missing) {
      const id = row.edfiId!;
      const base = { connection: row.connection, sourceKey: row.sourceKey, edfiId: id, naturalKey: row.naturalKey };
      if (lookups.gone.has(id)) {
        rows.push({ ...base, action: 'forget-mapping', detail: 'in the identity mapping but not in the ODS (404 on its id): mapping removed (sent again if Campus still wants it)', rule: notInOds });
        changes.push(() => identity.remove(row.connection, resource, row.sourceKey));
      } else if (lookups.found.has(id)) {
        rows.push({ ...base, action: 'outside-scope', detail: `in the ODS (found by its id) but not listed under ${scopeText(row.connection)}: the mapping is kept (did a scope value change since it was sent?)` });
      } else {
        rows.push({ ...base, action: 'unchecked', detail: `not listed under ${scopeText(row.connection)}, and the lookup by id failed (${lookups.failed.get(id) ?? 'no answer'}): the mapping is kept as it is` });
      }
    }
    /** Whether a mapped record is known to be in the ODS, listed or found by its id. */
    const inOds = (id: string): boolean => ods.has(id) || lookups.found.has(id);
    const adopted = new Set<string>();
    for (const [id, body] of ods) {
      const naturalKey = naturalKeyOf(body, profile.def.naturalKey);
      const hash = hashJson(body);
      const row = mappedById.get(id);
      if (row) {
        if (!touched(row.connection)) continue;
        // Compared as an ODS holds records (empty collections answered as [], items in its own order): compared
        // as text, every record of an ODS/API read as changed, and every resync PUT them all again.
        const same = row.bodyHash === hash || comparableHash(row.body) === comparableHash(body);
        rows.push({ action: same ? 'in-step' : 'refresh', connection: row.connection, sourceKey: row.sourceKey, edfiId: id, naturalKey, detail: same ? 'mapped and identical' : "the ODS body differs from what was last sent: compared again with today's mapping" });
        if (!same) changes.push(() => identity.upsert({ ...row, naturalKey, body, bodyHash: hash, lastOutcome: 'ok' }));
        continue;
      }
      const want = wanted.get(canonicalJson(naturalKey));
      const current = want ? identity.get(want.connection, resource, want.sourceKey) : undefined;
      const wantKey = want ? `${want.connection}/${want.sourceKey}` : '';
      if (want && !touched(want.connection)) continue;
      if (want && !adopted.has(wantKey) && !(current?.edfiId && inOds(current.edfiId))) {
        adopted.add(wantKey);
        rows.push({ action: 'adopt', connection: want.connection, sourceKey: want.sourceKey, edfiId: id, naturalKey, detail: 'in the ODS and wanted by Campus but not mapped: adopted by natural key' });
        // An adopted record that already holds what would be sent is in step: the next sync sends it nothing.
        const bodyHash = want.comparable === comparableHash(body) ? want.bodyHash : hash;
        changes.push(() => identity.upsert({
          connection: want.connection, resource, sourceKey: want.sourceKey, student: current?.student ?? want.student, instance, edfiId: id, naturalKey,
          body, bodyHash, lastMethod: 'GET', lastStatus: 200, lastOutcome: 'ok', lastSentAt: new Date().toISOString(),
        }));
        continue;
      }
      const found = listing.foundBy.get(id);
      const conn = found !== undefined ? queryConnection[found]! : connectionKey(conns[0]!);
      if (!touched(conn)) continue;
      // "No matching Campus record" is only as sure as what this run plans. A record another connection maps (its
      // configuration disabled, its resource toggled off, or gone from the snapshot) or that Campus has under a
      // configuration this run does not send is kept: toggled-off data "remains in the ODS", and a DELETE cannot
      // be taken back. The operator can still remove it with `edfi-sync delete`.
      const holder = identity.holders(resource, id)[0];
      if (holder) {
        rows.push({ action: 'kept-in-ods', connection: holder.connection, sourceKey: holder.sourceKey, edfiId: id, naturalKey, detail: `mapped by connection ${holder.connection}, which this run does not reconcile: kept in the ODS` });
        continue;
      }
      const claims = await unsent();
      if (claims.error !== undefined) {
        rows.push({ action: 'kept-in-ods', connection: conn, sourceKey: null, edfiId: id, naturalKey, detail: `no connection of this run wants it, but what configurations this run does not send want could not be worked out (${claims.error}): kept in the ODS` });
        continue;
      }
      const claim = claims.wanted.get(canonicalJson(naturalKey));
      if (claim) {
        rows.push({ action: 'kept-in-ods', connection: claim.connection, sourceKey: claim.sourceKey, edfiId: id, naturalKey, detail: `Campus has this record under connection ${claim.connection} (${claims.why.get(claim.connection)}), which this run does not send: kept in the ODS` });
        continue;
      }
      rows.push({ action: 'delete-from-ods', connection: conn, sourceKey: null, edfiId: id, naturalKey, detail: 'in the ODS with no matching Campus record or identity mapping: to be deleted', rule: notInCampus.id });
      deletes.push({ method: 'DELETE', resource, connection: conn, sourceKey: `ods-id=${id}`, naturalKey, id, rules: [notInCampus.id], reason: notInCampus.spec, instance });
    }
    // IMMEDIATE: parallel jobs share the state file, and a change reads (the row, the key paths) before it writes;
    // a transaction that starts as a reader cannot wait for another writer and would fail with SQLITE_BUSY.
    if (o.apply) state.transaction(() => changes.forEach((c) => c())).immediate();
  }
  const counts = { 'forget-mapping': 0, 'delete-from-ods': 0, adopt: 0, refresh: 0, 'in-step': 0, unchecked: 0, 'outside-scope': 0, 'kept-in-ods': 0 } as Record<ReconcileAction, number>;
  for (const r of rows) counts[r.action]++;
  return { rows, deletes, counts, odsRecords, complete, notes };
}

interface UnsentClaims {
  /** Natural key (canonical JSON) -> the record of an unsent configuration that would hold it. */
  wanted: Map<string, { connection: string; sourceKey: string }>;
  /** Connection -> why this run does not send it. */
  why: Map<string, string>;
  /** Set when the configurations could not be read or planned: nothing they might want may be deleted. */
  error?: string;
}

// A resync reconciles twice (a preview, then for real) over one snapshot: the claims are worked out once.
const claimsBySnapshot = new WeakMap<Database, Map<LoadedProfile, Promise<UnsentClaims>>>();

function claimsOf(profile: LoadedProfile, snapshot: Database, connections: Connection[]): Promise<UnsentClaims> {
  let byProfile = claimsBySnapshot.get(snapshot);
  if (!byProfile) claimsBySnapshot.set(snapshot, (byProfile = new Map()));
  let claims = byProfile.get(profile);
  if (!claims) byProfile.set(profile, (claims = claimsOfUnsent(profile, snapshot, connections)));
  return claims;
}

/**
 * What the configurations this run does not send (disabled, the resource toggled off, or a school year Campus has
 * with no configuration, see readAllConfigurations) would want if they were
 * sent: planned as if on, against an empty state so that nothing of the real state file is read or repaired, and
 * each in an instance of its own so that every one of them names all its records.
 */
async function claimsOfUnsent(profile: LoadedProfile, snapshot: Database, connections: Connection[]): Promise<UnsentClaims> {
  const out: UnsentClaims = { wanted: new Map(), why: new Map() };
  const state = emptyState();
  try {
    const unsent: Connection[] = [];
    for (const c of connections) {
      if (c.resourceEnabled) continue;
      unsent.push({ ...c, resourceEnabled: true });
      out.why.set(connectionKey(c), 'resource toggled off');
    }
    const enabled = new Set(connections.map(connectionKey));
    for (const { unconfigured, ...c } of readAllConfigurations(snapshot, profile, { campusYears: true })) {
      const key = connectionKey(c);
      if (enabled.has(key) || out.why.has(key)) continue;
      unsent.push({ ...c, resourceEnabled: true });
      out.why.set(key, unconfigured ? 'a school year Campus has without a configuration' : 'configuration disabled');
    }
    if (unsent.length === 0) return out;
    await buildPlan({
      profile, snapshot, state, connections: unsent, instanceOf: (c) => `unsent:${connectionKey(c)}`,
      onDesired: (connection, sourceKey, naturalKey) => {
        const k = canonicalJson(naturalKey);
        if (!out.wanted.has(k)) out.wanted.set(k, { connection, sourceKey });
      },
    });
    return out;
  } catch (err) {
    return { ...out, error: (err as Error).message };
  } finally {
    state.close();
  }
}

/** A scope value as the listing's query gives it: a numeric parameter's text that is a number goes as that number. */
function scopeValue(v: Json, numeric: boolean): string | number {
  if (typeof v === 'number') return v;
  const text = String(v);
  return numeric && /^\s*-?\d+\s*$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : text;
}
