import type { Database } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { Connection, Decision, JsonObject } from '../types.js';
import type { MassDeleteLimits } from './mass-delete.js';

/** Without API information every school year shares the ODS behind the default data path. */
export const DEFAULT_INSTANCE = '/data/v3';

/**
 * Facts computed from a row's own facts before the rules see them (the rules engineer's `facts:` of a profile).
 * Synchronous, and a function of the row and the connection only: the row's fingerprint covers it.
 */
export interface ComputedFacts {
  apply(facts: JsonObject, connection: JsonObject): JsonObject;
}

/** What decides a record: today's rule evaluator, or rules compiled into functions (same decisions). */
export interface RuleDecider {
  decide(facts: JsonObject): Decision | Promise<Decision>;
}

/** One problem a body check found; `hold` keeps the record out (error log entry `id`), `warn` sends it and logs. */
export interface BodyProblem {
  id: string;
  message: string;
  severity: 'hold' | 'warn';
}

/** A check of a mapped body before it is sent: the Ed-Fi schema, the published descriptor lists, sanity rules. */
export type BodyCheck = (body: JsonObject) => BodyProblem[];

/** What a profile may bring beyond its files once other parts of the engine provide them. */
export interface ProfileHooks {
  computedFacts?: ComputedFacts;
  compiledRules?: RuleDecider;
  bodyChecks?: BodyCheck[];
}

export interface PlanOptions {
  profile: LoadedProfile;
  snapshot: Database;
  state: Database;
  /**
   * The ODS instance a connection's records live in (the resolved data URL). Connections of one instance are
   * planned together: one owner per natural key. Default: one shared instance (DEFAULT_INSTANCE).
   */
  instanceOf?: (conn: Connection) => string;
  /** Only these connections ("districtID:endYear") are read, sent and deleted; owners in other connections are respected. */
  onlyConnections?: Set<string>;
  /** Only these source keys (retry); others keep their identity rows untouched. */
  onlySourceKeys?: Set<string>;
  /** The mass-delete guard: connections whose deletes exceed the limits are refused (nothing of theirs is sent). */
  deleteGuard?: { limits: MassDeleteLimits; allow: boolean };
  /** Keep every excluded record for StreamedPlan.excluded() (collectPlan; small callers): otherwise a sample. */
  keepExcluded?: boolean;
  onProgress?: (done: number, connection: string) => void;
  /** Every decision as it is made (fixture coverage, explain). */
  onDecision?: (connection: string, sourceKey: string, decision: Decision) => void;
  /** Cross-record facts of each kept record (explain). */
  onDerived?: (connection: string, sourceKey: string, derived: JsonObject) => void;
  /**
   * Every record the ODS should hold, with its body: per natural key and instance, the record that wins it
   * (resync compares them with the ODS). Costs a body per record: small callers only.
   */
  onDesired?: (connection: string, sourceKey: string, naturalKey: JsonObject, body: JsonObject) => void;
}

/** The instance function of a data path: '/data/v3/{endYear}' gives one instance per school year. */
export function instanceFromDataPath(dataPath: string, apiBase = ''): (conn: Connection) => string {
  return (conn) => `${apiBase.replace(/\/+$/, '')}${dataPath.replace('{endYear}', String(conn.endYear))}`;
}
