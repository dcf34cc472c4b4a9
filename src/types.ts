// The plain types that cross module boundaries: snapshot -> rules -> mappings -> plan -> emit.
// Each stage takes one of these and returns the next, so a reader can follow a record through the pipeline.

/** A JSON value as it appears in rows, facts and Ed-Fi bodies. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One Ed-Fi connection of the snapshot: a district and a configured school year. */
export interface Connection {
  configID: number;
  districtID: number;
  endYear: number;
  profile: string;
  /** The configured year's window, after the spec's NULL defaults (07/01/StartYear, 06/30/EndYear). */
  yearStart: string;
  yearEnd: string;
  /** Whether the profile's resource is toggled on for this connection. */
  resourceEnabled: boolean;
  /** Any further columns the profile's connection query returns (district number, ...). */
  facts: JsonObject;
}

/** The facts of one source record, as the profile's source query returned them. */
export interface Candidate {
  connection: Connection;
  /** Stable key of the Campus record(s) behind this Ed-Fi record, e.g. "participationID=42". */
  sourceKey: string;
  facts: JsonObject;
}

export type DecisionKind = 'kept' | 'excluded' | 'not-triggered';

export interface RuleOutcome {
  ruleId: string;
  /** trigger: the record is only sent when this rule passes; exclude: the record is not sent when it fires. */
  type: 'trigger' | 'exclude';
  /** Whether the rule's conditions were met. */
  met: boolean;
  reason?: string;
}

/** Kept or not, and which rules said so. */
export interface Decision {
  kind: DecisionKind;
  /** The rule ids that decided: for kept, every trigger rule; otherwise the rules that stopped it. */
  ruleIds: string[];
  reasons: string[];
  outcomes: RuleOutcome[];
}

/** A record the snapshot wants in the ODS. */
export interface Desired {
  connection: Connection;
  sourceKey: string;
  naturalKey: JsonObject;
  body: JsonObject;
  /** Rule and mapping ids that produced it. */
  ruleIds: string[];
}

export type Method = 'POST' | 'PUT' | 'DELETE';

/**
 * One Ed-Fi API call the plan asks for. Calls that must run together and in order share a `unit`: a natural-key
 * change is a POST (or a PUT taking over another record) then the DELETE of the old record.
 */
export interface Operation {
  method: Method;
  resource: string;
  /** "configID:endYear" of the connection the record belongs to. */
  connection: string;
  sourceKey: string;
  /** The student the record is about (the profile's `source.student` column), for the error log and filters. */
  student?: string | null;
  naturalKey: JsonObject;
  body?: JsonObject;
  /** The Ed-Fi resource id (PUT and DELETE). */
  id?: string;
  /** Rule ids that decided this operation (trigger rules for POST/PUT, the exclusion or delete rule for DELETE). */
  rules: string[];
  /** Why, in words a person reads in the plan. */
  reason: string;
  /** Operations that must run together and in order share a unit id; a later one runs only if the earlier succeeded. */
  unit?: string;
  /** Hash of `body`, stored in the identity mapping once sent. */
  bodyHash?: string;
  /** The ODS instance the record lives in (see PlanOptions.instanceOf). */
  instance?: string;
  /**
   * A PUT onto an ODS record another Campus record held under the same natural key (a re-entered record, a key
   * swap, a record of another school year in a shared ODS): once it succeeds, that record's claim ends.
   */
  takesOver?: { connection: string; sourceKey: string; stillWanted: boolean } | { owedDelete: true };
  /**
   * The ODS record this record held before its natural key changed. `owed`: nobody else wants it, so it is
   * written down as an owed DELETE when this operation succeeds, and the unit's DELETE removes it.
   */
  replaces?: { id: string; naturalKey: JsonObject; owed: boolean };
  /** A DELETE then POST of a key-change field (same natural key): the body last sent, POSTed again if the POST is refused. */
  restore?: JsonObject;
}

/** What happened when an operation was sent. */
export interface Outcome {
  operation: Operation;
  ok: boolean;
  status: number;
  /** Ed-Fi id from the Location header (POST) or the id used (PUT/DELETE). */
  id?: string;
  message?: string;
  attempts: number;
}
