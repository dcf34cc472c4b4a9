import type { Decision, JsonObject, Operation } from '../types.js';
import type { PreferencesToRecord } from './preferences-in-effect.js';
import type { MassDeleteViolation } from './mass-delete.js';

/** A record the plan will not send because something is wrong with it: it goes to the error log. */
export interface PlanIssue {
  connection: string;
  resource: string;
  sourceKey: string;
  student: string | null;
  /** Error catalogue entry that explains it (cause and fix). */
  catalogueId: string;
  status: number;
  method: 'POST' | 'PUT' | 'DELETE';
  message: string;
  body?: JsonObject;
  /** 'warning': logged, and the record is sent anyway (a body check of severity warn). Default: held back. */
  level?: 'warning';
  /** Every check that held the record back, the one the error-log entry is for first: a body check id
   *  (edfi-schema, published-descriptors, a sanity rule id), duplicate-natural-key, duplicate-source-key, or
   *  immutableFields ids. */
  checks?: string[];
}

export interface ExcludedRecord {
  connection: string;
  sourceKey: string;
  student: string | null;
  decision: Decision;
}

export interface ConnectionSummary {
  connection: string;
  configID: number;
  endYear: number;
  /** The ODS instance the connection's records live in. */
  instance: string;
  resourceEnabled: boolean;
  candidates: number;
  kept: number;
  evaluated: number;
  mapped: number;
  /** Records of the connection that hold an ODS record (identity rows with an id) before this run. */
  identityRows: number;
  /**
   * Deletes of records the snapshot no longer wants, and of the old records of Campus duplicates (held back, nothing
   * replaces them); key changes not counted: what the mass-delete guard judges.
   */
  deletes: number;
  /** Kept records whose natural key another connection of the same ODS instance sends (the winner rule). */
  shared: number;
  /** Records held back (body checks, Campus duplicates, immutable fields). */
  heldBack: number;
  note?: string;
}

export interface PlanSummary {
  operations: Record<string, number>;
  keyChanges: number;
  unchanged: number;
  /** Kept records another connection of the same ODS instance sends (one owner per natural key and instance). */
  shared: number;
  /** Records the rules kept out. */
  excluded: number;
  excludedByReason: Record<string, number>;
  issues: Record<string, number>;
  candidates: number;
  evaluated: number;
}

/** A warning of the plan: a profile's `warnings` query (a school year with records but no valid configuration), or the planner's own. */
export interface PlanWarning {
  id: string;
  message: string;
  /** Set when the warning is about one connection, or one record (a sanity rule of severity warn, with sourceKey). */
  connection?: string;
  sourceKey?: string;
  student?: string | null;
}

/**
 * A whole plan in memory: for fixtures, `explain`, tests and other small callers (collectPlan). Large runs use the
 * streamed plan (StreamedPlan), which keeps operations, issues and excluded records on disk.
 */
export interface Plan {
  profile: string;
  resource: string;
  operations: Operation[];
  issues: PlanIssue[];
  excluded: ExcludedRecord[];
  /** Identity rows of records never created in the ODS (their POST failed) that are no longer wanted. */
  forget: Array<{ connection: string; sourceKey: string }>;
  warnings: PlanWarning[];
  connections: ConnectionSummary[];
  summary: PlanSummary;
  /** Connections the mass-delete guard refused: none of their operations is in the plan. */
  refused: MassDeleteViolation[];
  /** Connections planned with today's Resource Preferences, to keep as the ones in effect once their sends go ahead. */
  preferencesToRecord?: PreferencesToRecord[];
}

/** What the emitter reads of a plan, whether it is held in memory or streamed from disk. */
export interface PlanSource {
  profile: string;
  resource: string;
  warnings: PlanWarning[];
  /** Operations in emit order: deletes, key changes, new records, updates; the operations of a unit are adjacent. */
  operations(): Iterable<Operation>;
  operationCount(): number;
  issues(): Iterable<PlanIssue>;
  forget(): Iterable<{ connection: string; sourceKey: string }>;
}

export function emptySummary(): PlanSummary {
  return { operations: { POST: 0, PUT: 0, DELETE: 0 }, keyChanges: 0, unchanged: 0, shared: 0, excluded: 0, excludedByReason: {}, issues: {}, candidates: 0, evaluated: 0 };
}

/** A plan with nothing in it yet: resync sends its own DELETEs through one. */
export function emptyPlan(profile: string, resource: string, operations: Operation[] = []): Plan {
  return { profile, resource, operations, issues: [], excluded: [], forget: [], warnings: [], connections: [], summary: emptySummary(), refused: [] };
}

/** Emit phases, in order: deletes, then key changes (units), then new records, then updates. */
export const PHASE = { delete: 0, unit: 1, post: 2, put: 3 } as const;

/** Emit phase of an operation. */
export function phaseOf(op: Operation): number {
  if (op.unit) return PHASE.unit;
  return op.method === 'DELETE' ? PHASE.delete : op.method === 'POST' ? PHASE.post : PHASE.put;
}

/** A plan held in memory, read as the emitter reads a streamed one. */
export function planSource(plan: Plan): PlanSource {
  const ordered = plan.operations.map((op, i) => ({ op, i })).sort((a, b) => phaseOf(a.op) - phaseOf(b.op) || a.i - b.i).map((x) => x.op);
  return {
    profile: plan.profile,
    resource: plan.resource,
    warnings: plan.warnings,
    operations: () => ordered,
    operationCount: () => ordered.length,
    issues: () => plan.issues,
    forget: () => plan.forget,
  };
}
