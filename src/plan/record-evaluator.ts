import type { Database } from 'better-sqlite3';
import type { MappingContext } from '../mapping/functions.js';
import { Mapper } from '../mapping/mapper.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import { readPreferenceTable } from '../snapshot/preferences.js';
import { RuleEvaluator } from '../rules/rule-evaluator.js';
import type { Candidate, Connection, Decision, JsonObject } from '../types.js';
import { bodyChecksOf, runChecks } from './body-checks.js';
import { encodeFinding } from '../sanity/body-findings.js';
import type { BodyCheck } from './body-checks.js';

// Per connection, built once: rebuilding them for every record showed up in profiles of large runs.
const perConnection = new WeakMap<Connection, { facts: JsonObject; configuredYear: JsonObject }>();

function connectionParts(conn: Connection): { facts: JsonObject; configuredYear: JsonObject } {
  let parts = perConnection.get(conn);
  if (!parts) {
    parts = {
      facts: { ...conn.facts, configID: conn.configID, districtID: conn.districtID, endYear: conn.endYear, yearStart: conn.yearStart, yearEnd: conn.yearEnd },
      configuredYear: { start: conn.yearStart, end: conn.yearEnd },
    };
    perConnection.set(conn, parts);
  }
  return parts;
}

/** The facts the rules see: the record's columns, the configured year and the connection. */
export function ruleFacts(c: Candidate): JsonObject {
  const { facts, configuredYear } = connectionParts(c.connection);
  return { ...c.facts, configuredYear, connection: facts };
}

export function connectionFacts(conn: Connection): JsonObject {
  return connectionParts(conn).facts;
}

/** What the rules add to a record's columns: the configured year and the connection (objects shared per connection). */
export function ruleContext(conn: Connection): { configuredYear: JsonObject; connection: JsonObject } {
  const { facts, configuredYear } = connectionParts(conn);
  return { configuredYear, connection: facts };
}

/** The input of the mapping expressions: the record's columns, the connection and the derived facts. */
export function mappingInput(c: Candidate, derived: JsonObject): JsonObject {
  return { ...c.facts, ...derived, connection: connectionFacts(c.connection) };
}

/** Rules, mapping and body checks of a profile, compiled once and applied to many records (explain). */
export class RecordEvaluator {
  readonly rules: RuleEvaluator;
  readonly mapper: Mapper;
  readonly checks: BodyCheck[];

  constructor(readonly profile: LoadedProfile) {
    this.rules = new RuleEvaluator(profile.rules);
    this.mapper = new Mapper(profile.mapping);
    this.checks = bodyChecksOf(profile, (path) => this.mapper.origin(path));
  }

  mappingContext(db: Database, conn: Connection): MappingContext {
    return {
      preferences: readPreferenceTable(db, conn.configID),
      descriptorNamespaces: this.profile.def.descriptorNamespaces ?? { default: 'uri://ed-fi.org' },
      yearStart: conn.yearStart,
      yearEnd: conn.yearEnd,
    };
  }

  async decide(c: Candidate): Promise<Decision> {
    return (await this.rules.evaluate(ruleFacts(c))).decision;
  }

  /**
   * The body and what the body checks found (encoded findings, see sanity/body-findings): a `hold` finding keeps
   * the record out; a `warn` finding is logged when it is sent.
   */
  async body(c: Candidate, derived: JsonObject, ctx: MappingContext): Promise<{ body: JsonObject; problems: string[] }> {
    let body: JsonObject;
    try {
      body = await this.mapper.map(mappingInput(c, derived), ctx);
    } catch (err) {
      return { body: {}, problems: [`mapping failed: ${(err as Error).message}`] };
    }
    const { holds, warnings } = runChecks(this.checks, body, ruleFacts(c));
    return { body, problems: [...holds, ...warnings].map(encodeFinding) };
  }
}
