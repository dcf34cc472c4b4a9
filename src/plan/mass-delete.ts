import type { LoadedProfile } from '../profile/load-profile.js';
import type { Plan } from './plan-types.js';

export interface MassDeleteLimits {
  /** Share of a connection's mapped records a run may delete (default 0.10). */
  maxShare: number;
  /** A run may always delete this many (default 500): small districts are not stopped by the share alone. */
  minCount: number;
}

export interface MassDeleteViolation {
  connection: string;
  deletes: number;
  mapped: number;
  limit: number;
}

/** The limits in force: the command line first, then the profile's `massDelete`, then 10% or 500. */
export function massDeleteLimits(o: { maxDeleteShare?: number; maxDeleteCount?: number }, profile: LoadedProfile): MassDeleteLimits {
  return {
    maxShare: o.maxDeleteShare ?? profile.def.massDelete?.maxShare ?? 0.1,
    minCount: o.maxDeleteCount ?? profile.def.massDelete?.minCount ?? 500,
  };
}

/**
 * A snapshot that lost a table or a school (a failed export) looks like "everything was deleted". Refuse to
 * act on it: deletes beyond max(share x mapped, minCount) in one connection need --allow-mass-delete.
 */
export function violationsOf(counts: Map<string, { deletes: number; mapped: number }>, limits: MassDeleteLimits): MassDeleteViolation[] {
  const out: MassDeleteViolation[] = [];
  for (const [connection, { deletes, mapped }] of counts) {
    const limit = Math.max(Math.floor(mapped * limits.maxShare), limits.minCount);
    if (deletes > limit) out.push({ connection, deletes, mapped, limit });
  }
  return out;
}

/** The plan's deletes per connection; key changes (DELETE + POST) do not count: the record is sent again. */
export function massDeleteViolations(plan: Plan, limits: MassDeleteLimits): MassDeleteViolation[] {
  const counts = new Map(plan.connections.map((c) => [c.connection, { deletes: 0, mapped: c.identityRows }]));
  for (const o of plan.operations) {
    const c = counts.get(o.connection);
    if (c && o.method === 'DELETE' && !o.unit) c.deletes++;
  }
  return violationsOf(counts, limits);
}

export function massDeleteMessage(v: MassDeleteViolation[]): string {
  return [
    'Refusing to delete this many records (a broken snapshot export looks like this):',
    ...v.map((x) => `  connection ${x.connection}: ${x.deletes} delete(s) of ${x.mapped} mapped record(s); the limit is ${x.limit}`),
    'Check the snapshot. If the deletes are intended, run again with --allow-mass-delete.',
  ].join('\n');
}
