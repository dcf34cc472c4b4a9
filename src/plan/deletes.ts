import type { LoadedProfile } from '../profile/load-profile.js';
import type { EvalCache } from '../state/eval-cache.js';
import type { IdentityMap, OwedDeletes } from '../state/identity-map.js';
import { SEEN, type WorkTables } from './work-tables.js';

export interface DeleteContext {
  profile: LoadedProfile;
  identity: IdentityMap;
  owed: OwedDeletes;
  cache: EvalCache;
  tables: WorkTables;
  instance: string;
  /** The connections of this instance the plan reads; records of others are never deleted. */
  connections: string[];
  inScope: (sourceKey: string) => boolean;
}

/**
 * The delete stage: ODS records of this instance that no wanted record claims by natural key.
 * - The record's Campus row is excluded by a rule, or gone from Campus: DELETE (counted by the mass-delete guard).
 * - The record is held back by a body check or an immutable field: kept; what was sent stays until Campus is fixed.
 * - The record changed its natural key: its own unit deletes it after the new record is in; a record whose new key
 *   another record already has loses its old record: counted when it is a Campus duplicate (held back, nothing
 *   replaces it), not when another connection of the instance sends it (still in the ODS, as the other's).
 * - A key change's leftover (owed DELETE): deleted (not counted).
 * Rows that never got an Ed-Fi id and are no longer wanted are forgotten.
 */
export function planDeletes(ctx: DeleteContext): void {
  const { profile, tables, identity } = ctx;
  const resource = profile.def.resource.name;
  const gone = profile.def.deletes?.notFoundInCampus ?? { id: 'delete.not-in-campus', spec: '', reason: 'the Campus record no longer exists' };
  for (const page of tables.unclaimed(ctx.instance, resource, ctx.connections)) {
    for (const rowid of page) {
      const row = identity.byRowid(rowid);
      if (!row || !row.edfiId || !ctx.inScope(row.sourceKey)) continue;
      const seen = tables.seenState(row.connection, row.sourceKey);
      const base = { method: 'DELETE' as const, resource, connection: row.connection, sourceKey: row.sourceKey, student: row.student, naturalKey: row.naturalKey, id: row.edfiId, instance: ctx.instance };
      if (!seen) {
        tables.operation(0, { ...base, rules: [gone.id], reason: gone.reason ?? gone.spec }, true, false, null);
        continue;
      }
      if (seen.state === SEEN.heldBack) continue;
      if (seen.state === SEEN.excluded) {
        const d = ctx.cache.decision(seen.decisionId);
        tables.operation(0, { ...base, rules: d.ruleIds, reason: d.reasons.join('; ') }, true, false, null);
        continue;
      }
      // Kept and winning its key: its key change deletes its old record in its own unit. An immutable field: kept.
      const duplicate = seen.state === SEEN.duplicate || seen.loser === 'duplicate';
      const why = duplicate
        ? 'key change: the record now repeats the natural key of another Campus record (a duplicate), which the ODS has'
        : seen.loser === 'shared' ? 'key change: the record is now sent as another connection\'s record of the same ODS instance (same natural key)' : undefined;
      if (!why) continue;
      // A duplicate is held back and nothing replaces its old record: counted by the mass-delete guard (an export
      // that repeats one record of each student must not delete the others). A record now sent as another
      // connection's is still in the ODS: not counted.
      tables.operation(0, { ...base, rules: [], reason: why }, duplicate, false, null);
    }
  }
  for (const o of ctx.owed.list(ctx.instance, resource, ctx.connections)) {
    if (tables.isWanted(ctx.instance, o.nkHash) || !ctx.inScope(o.sourceKey)) continue;
    tables.operation(0, {
      method: 'DELETE', resource, connection: o.connection, sourceKey: o.sourceKey, student: o.student, naturalKey: o.naturalKey, id: o.edfiId,
      rules: [], reason: `owed by an earlier key change: ${o.reason}`, instance: ctx.instance,
    }, false, false, null);
  }
}

/** Rows that never got an Ed-Fi id (their POST failed) and are no longer wanted. */
export function planForget(tables: WorkTables, resource: string, connections: string[], inScope: (sourceKey: string) => boolean): void {
  for (const f of tables.unsentNotWanted(resource, connections)) if (inScope(f.sourceKey)) tables.forget(f.connection, f.sourceKey);
}
