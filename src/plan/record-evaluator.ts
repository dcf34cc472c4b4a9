import type { Database } from 'better-sqlite3';
import { compileResourceValidator, listDescriptorValues, type BodyValidator } from '../edfi/schemas.js';
import { profileDescriptors } from '../profile/descriptor-lists.js';
import type { MappingContext, PreferenceTable } from '../mapping/functions.js';
import { Mapper } from '../mapping/mapper.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import { RuleEvaluator } from '../rules/rule-evaluator.js';
import { DESCRIPTOR_LIST_CHECK, SCHEMA_CHECK, encodeFinding } from '../sanity/body-findings.js';
import { sanityCheck, type BodyCheck } from '../sanity/sanity-rules.js';
import type { Candidate, Connection, Decision, JsonObject } from '../types.js';

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

/** The input of the mapping expressions: the record's columns, the connection and the derived facts. */
export function mappingInput(c: Candidate, derived: JsonObject): JsonObject {
  return { ...c.facts, ...derived, connection: connectionFacts(c.connection) };
}

/** Resource Preferences of a connection, read once per connection. */
export function readPreferences(db: Database, configID: number): PreferenceTable {
  const rows = db
    .prepare('SELECT resource, element, campusValue, edfiCode FROM EdFiResourcePreference WHERE configID = ?')
    .all(configID) as Array<{ resource: string; element: string; campusValue: string; edfiCode: string }>;
  const table: PreferenceTable = new Map();
  for (const r of rows) {
    let byElement = table.get(r.resource);
    if (!byElement) table.set(r.resource, (byElement = new Map()));
    let values = byElement.get(r.element);
    if (!values) byElement.set(r.element, (values = new Map()));
    values.set(String(r.campusValue), r.edfiCode);
  }
  return table;
}

/** Rules, mapping and schema check of a profile, compiled once and applied to many records. */
export class RecordEvaluator {
  readonly rules: RuleEvaluator;
  readonly mapper: Mapper;
  readonly validate: BodyValidator;
  /** Namespace (uri://.../XDescriptor) -> the code values the state publishes for it. */
  private readonly published = new Map<string, Set<string>>();
  /** The profile's sanity rules, run on every body after the schema and descriptor checks. */
  private readonly sanity: BodyCheck;
  private readonly hasSanity: boolean;

  constructor(readonly profile: LoadedProfile) {
    this.rules = new RuleEvaluator(profile.rules);
    this.mapper = new Mapper(profile.mapping);
    this.validate = compileResourceValidator(profile.def.resource.schema);
    this.sanity = sanityCheck(profile.def.sanity ?? []);
    this.hasSanity = (profile.def.sanity ?? []).length > 0;
    for (const uris of profileDescriptors(profile).values()) {
      for (const uri of uris) {
        const ns = uri.slice(0, uri.indexOf('#'));
        let set = this.published.get(ns);
        if (!set) this.published.set(ns, (set = new Set()));
        set.add(uri);
      }
    }
  }

  /** A value in a namespace the state publishes must be on its list: the ODS would refuse it anyway. */
  private descriptorProblems(body: JsonObject): string[] {
    if (this.published.size === 0) return [];
    const out: string[] = [];
    for (const d of listDescriptorValues(this.profile.def.resource.schema, body)) {
      const hash = d.value.indexOf('#');
      const list = hash > 0 ? this.published.get(d.value.slice(0, hash)) : undefined;
      if (list && !list.has(d.value)) out.push(`${d.path}: '${d.value}' is not a published ${d.descriptor} value`);
    }
    return out;
  }

  mappingContext(db: Database, conn: Connection): MappingContext {
    return {
      preferences: readPreferences(db, conn.configID),
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
    const v = this.validate(body);
    // Each problem names the mapping field behind it (file, line, id), not only the Ed-Fi element.
    const schema = v.ok ? [] : v.errors.map((e) => `${e.message.includes(e.path) ? e.message : `${e.path}: ${e.message}`} (${this.mapper.origin(e.path)})`);
    const problems = [
      ...schema.map((message) => encodeFinding({ id: SCHEMA_CHECK, severity: 'hold', message })),
      ...this.descriptorProblems(body).map((message) => encodeFinding({ id: DESCRIPTOR_LIST_CHECK, severity: 'hold', message })),
      ...(this.hasSanity ? this.sanity(body, ruleFacts(c)).map(encodeFinding) : []),
    ];
    return { body, problems };
  }
}
