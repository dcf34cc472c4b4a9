import type { Database } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { Connection, Decision, JsonObject } from '../types.js';
import type { MassDeleteLimits } from './mass-delete.js';

/** Without API information every school year shares the ODS behind the default data path. */
export const DEFAULT_INSTANCE = '/data/v3';

/** What decides a record: the profile's compiled rules (json-rules-engine semantics). */
export interface RuleDecider {
  decide(facts: JsonObject): Decision | Promise<Decision>;
}

export interface PlanOptions {
  profile: LoadedProfile;
  snapshot: Database;
  state: Database;
  /**
   * The ODS instance a connection's records live in (the resolved data URL). Connections of one instance are
   * planned together: one owner per natural key. Where it gives none (no API information: a dry run, `plan`,
   * `explain`), the instance the connection's identity rows were sent to, else one shared instance (DEFAULT_INSTANCE).
   */
  instanceOf?: (conn: Connection) => string | undefined;
  /** The connections to plan instead of the snapshot's (resync asks what configurations it does not send would want). */
  connections?: Connection[];
  /** Only these connections ("districtID:endYear") are read, sent and deleted; owners in other connections are respected. */
  onlyConnections?: Set<string>;
  /** Only these source keys (retry); others keep their identity rows untouched. */
  onlySourceKeys?: Set<string>;
  /** The mass-delete guard: connections whose deletes exceed the limits are refused (nothing of theirs is sent). */
  deleteGuard?: { limits: MassDeleteLimits; allow: boolean };
  /**
   * A resync of these connections (all, with true): under a profile whose resync rules say Resource Preferences
   * changes wait for a resync, they are planned with today's preferences, which then become the ones in effect;
   * the others keep theirs.
   */
  reevaluate?: boolean | Set<string>;
  /**
   * A preview of a resync (`resync --dry-run`): neither the evaluation cache nor the Resource Preferences in effect
   * are written, so the nights after it find them as they were.
   */
  preview?: boolean;
  /**
   * Keep today's Resource Preferences as the ones in effect as the plan is made: for callers that send everything a
   * plan says (the fixture runner). `sync` keeps them itself, only for connections whose sends went ahead.
   */
  recordPreferences?: boolean;
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
  onDesired?: (connection: string, sourceKey: string, naturalKey: JsonObject, body: JsonObject, student: string | null) => void;
  /**
   * Every claim goes through the diff stage, new records too (which are otherwise POSTed in one statement): the
   * test that both ways plan the same operations.
   */
  everyClaimInDiff?: boolean;
}

/** The instance function of a data path: '/data/v3/{endYear}' gives one instance per school year. */
export function instanceFromDataPath(dataPath: string, apiBase = ''): (conn: Connection) => string {
  return (conn) => `${apiBase.replace(/\/+$/, '')}${dataPath.replace('{endYear}', String(conn.endYear))}`;
}
