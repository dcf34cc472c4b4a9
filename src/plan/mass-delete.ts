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

/**
 * A snapshot that lost a table or a school (a failed export) looks like "everything was deleted". Refuse to
 * act on it: deletes beyond max(share x mapped, minCount) in one connection need --allow-mass-delete.
 * Key changes (DELETE + POST) are not counted: the record is sent again in the same run.
 */
export function massDeleteViolations(plan: Plan, limits: MassDeleteLimits): MassDeleteViolation[] {
  const out: MassDeleteViolation[] = [];
  for (const c of plan.connections) {
    const deletes = plan.operations.filter((o) => o.connection === c.connection && o.method === 'DELETE' && !o.unit).length;
    const limit = Math.max(Math.floor(c.identityRows * limits.maxShare), limits.minCount);
    if (deletes > limit) out.push({ connection: c.connection, deletes, mapped: c.identityRows, limit });
  }
  return out;
}

export function massDeleteMessage(v: MassDeleteViolation[]): string {
  return [
    'Refusing to delete this many records (a broken snapshot export looks like this):',
    ...v.map((x) => `  connection ${x.connection}: ${x.deletes} delete(s) of ${x.mapped} mapped record(s); the limit is ${x.limit}`),
    'Check the snapshot. If the deletes are intended, run again with --allow-mass-delete.',
  ].join('\n');
}
