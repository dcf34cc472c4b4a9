import type { LoadedProfile } from '../profile/load-profile.js';
import type { Plan } from './plan-types.js';

export interface MassDeleteLimits {
  /** Share of a connection's mapped records a run may delete (default 0.10). */
  maxShare: number;
  /** A run may always delete this many (default 5), so a district of a dozen records can still lose one or two. */
  minCount: number;
}

export interface MassDeleteViolation {
  connection: string;
  deletes: number;
  mapped: number;
  limit: number;
}

export const DEFAULT_MAX_DELETE_SHARE = 0.1;
export const DEFAULT_MAX_DELETE_COUNT = 5;

/** A limit given on the command line that makes no sense: a usage error (exit code 2). */
export class DeleteLimitError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'DeleteLimitError';
  }
}

function checkShare(value: number, from: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new DeleteLimitError(`${from}: the share of a connection's records one run may delete must be a number above 0 and at most 1 (0.10 is 10%), got ${String(value)}`);
  }
  return value;
}

function checkCount(value: number, from: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new DeleteLimitError(`${from}: the number of deletes always allowed must be a whole number of 0 or more, got ${String(value)}`);
  }
  return value;
}

/**
 * The limits in force: the command line first, then the profile's `massDelete`, then 10% of a connection's mapped
 * records with an allowance of 5. Values outside (0, 1] or negative / fractional counts are refused.
 */
export function massDeleteLimits(o: { maxDeleteShare?: number; maxDeleteCount?: number }, profile: LoadedProfile): MassDeleteLimits {
  const share = o.maxDeleteShare !== undefined ? checkShare(o.maxDeleteShare, '--max-delete-share')
    : profile.def.massDelete?.maxShare !== undefined ? checkShare(profile.def.massDelete.maxShare, `${profile.def.name} profile massDelete.maxShare`)
      : DEFAULT_MAX_DELETE_SHARE;
  const count = o.maxDeleteCount !== undefined ? checkCount(o.maxDeleteCount, '--max-delete-count')
    : profile.def.massDelete?.minCount !== undefined ? checkCount(profile.def.massDelete.minCount, `${profile.def.name} profile massDelete.minCount`)
      : DEFAULT_MAX_DELETE_COUNT;
  return { maxShare: share, minCount: count };
}

/** The most deletes one run may make in a connection that maps this many records. */
export function deleteLimit(mapped: number, limits: MassDeleteLimits): number {
  return Math.max(Math.floor(mapped * limits.maxShare), limits.minCount);
}

/**
 * A snapshot that lost a table, a school or most of a table (a failed export) looks like "everything was deleted".
 * Judged per connection: deletes beyond max(share x mapped, allowance) refuse that connection.
 */
export function violationsOf(counts: Map<string, { deletes: number; mapped: number }>, limits: MassDeleteLimits): MassDeleteViolation[] {
  const out: MassDeleteViolation[] = [];
  for (const [connection, { deletes, mapped }] of counts) {
    const limit = deleteLimit(mapped, limits);
    if (deletes > limit) out.push({ connection, deletes, mapped, limit });
  }
  return out;
}

/**
 * The connections of a plan the guard refuses: each connection's deletes of records the snapshot no longer wants
 * (ConnectionSummary.deletes: key changes and records still sent as another's do not count) against its mapped records.
 */
export function massDeleteViolations(plan: Pick<Plan, 'connections'>, limits: MassDeleteLimits): MassDeleteViolation[] {
  return violationsOf(new Map(plan.connections.filter((c) => c.resourceEnabled).map((c) => [c.connection, { deletes: c.deletes, mapped: c.identityRows }])), limits);
}

export function massDeleteMessage(v: MassDeleteViolation[]): string {
  return [
    `Refusing to delete this many records in ${v.length} connection(s) (a broken snapshot export looks like this); nothing was sent for ${v.length === 1 ? 'it' : 'them'}, other connections ran:`,
    ...v.map((x) => `  connection ${x.connection}: ${x.deletes} delete(s) of ${x.mapped} mapped record(s); the limit is ${x.limit}`),
    'Check the snapshot. If the deletes are intended, run again with --allow-mass-delete (or raise --max-delete-share / --max-delete-count).',
  ].join('\n');
}
