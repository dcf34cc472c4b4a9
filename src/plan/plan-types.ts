import type { Decision, JsonObject, Operation } from '../types.js';

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
  /** The check that held the record back (edfi-schema, duplicate-natural-key, reference-check, ...), for the error log. */
  check?: string;
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
  resourceEnabled: boolean;
  candidates: number;
  kept: number;
  evaluated: number;
  mapped: number;
  identityRows: number;
  deletes: number;
  note?: string;
}

export interface PlanSummary {
  operations: Record<string, number>;
  keyChanges: number;
  unchanged: number;
  excludedByReason: Record<string, number>;
  issues: Record<string, number>;
  candidates: number;
  evaluated: number;
}

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
}

/** A warning of the profile's `warnings` queries, e.g. a school year with records but no valid configuration. */
export interface PlanWarning {
  id: string;
  message: string;
  /** The connection it concerns, when it concerns one. */
  connection?: string;
}

/** A plan with nothing in it yet: the planner fills it; resync sends its own DELETEs through one. */
export function emptyPlan(profile: string, resource: string, operations: Operation[] = []): Plan {
  return {
    profile,
    resource,
    operations,
    issues: [],
    excluded: [],
    forget: [],
    warnings: [],
    connections: [],
    summary: { operations: { POST: 0, PUT: 0, DELETE: 0 }, keyChanges: 0, unchanged: 0, excludedByReason: {}, issues: {}, candidates: 0, evaluated: 0 },
  };
}
