import { compileResourceValidator, listDescriptorValues } from '../edfi/schemas.js';
import { profileDescriptors } from '../profile/descriptor-lists.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import { DESCRIPTOR_LIST_CHECK, SCHEMA_CHECK } from '../sanity/body-findings.js';
import { sanityCheck, type BodyCheck, type BodyCheckResult } from '../sanity/sanity-rules.js';
import type { JsonObject } from '../types.js';

export type { BodyCheck, BodyCheckResult } from '../sanity/sanity-rules.js';

/** The Ed-Fi JSON Schema of the profile's resource: what the ODS would refuse with a 400. Each problem names the mapping field behind it. */
export function schemaCheck(profile: LoadedProfile, origin: (path: string) => string): BodyCheck {
  // Compiled at the first body: a night with nothing to map (unchanged records) never pays for the compile.
  let validate: ReturnType<typeof compileResourceValidator> | undefined;
  return (body) => {
    validate ??= compileResourceValidator(profile.def.resource.schema);
    const v = validate(body);
    if (v.ok) return [];
    return v.errors.map((e) => ({ id: SCHEMA_CHECK, severity: 'hold' as const, message: `${e.message.includes(e.path) ? e.message : `${e.path}: ${e.message}`} (${origin(e.path)})` }));
  };
}

/** A value in a namespace the state publishes must be on its list: the ODS would refuse it anyway. */
export function publishedDescriptorCheck(profile: LoadedProfile): BodyCheck {
  const published = new Map<string, Set<string>>();
  for (const uris of profileDescriptors(profile).values()) {
    for (const uri of uris) {
      const ns = uri.slice(0, uri.indexOf('#'));
      let set = published.get(ns);
      if (!set) published.set(ns, (set = new Set()));
      set.add(uri);
    }
  }
  if (published.size === 0) return () => [];
  return (body) => {
    const out: BodyCheckResult[] = [];
    for (const d of listDescriptorValues(profile.def.resource.schema, body)) {
      const hash = d.value.indexOf('#');
      const list = hash > 0 ? published.get(d.value.slice(0, hash)) : undefined;
      if (list && !list.has(d.value)) out.push({ id: DESCRIPTOR_LIST_CHECK, severity: 'hold', message: `${d.path}: '${d.value}' is not a published ${d.descriptor} value` });
    }
    return out;
  };
}

/** The checks a body passes before it is sent, in order: the Ed-Fi schema, the published descriptors, the profile's sanity rules. */
export function bodyChecksOf(profile: LoadedProfile, origin: (path: string) => string): BodyCheck[] {
  const checks = [schemaCheck(profile, origin), publishedDescriptorCheck(profile)];
  if ((profile.def.sanity ?? []).length > 0) checks.push(sanityCheck(profile.def.sanity ?? []));
  return checks;
}

/** Every finding of the checks on one body (`facts`: the record's facts as the rules see them, for sanity rules). */
export function runChecks(checks: BodyCheck[], body: JsonObject, facts?: JsonObject): { holds: BodyCheckResult[]; warnings: BodyCheckResult[] } {
  const holds: BodyCheckResult[] = [];
  const warnings: BodyCheckResult[] = [];
  for (const check of checks) {
    for (const p of check(body, facts)) (p.severity === 'hold' ? holds : warnings).push(p);
  }
  return { holds, warnings };
}

/** The catalogue entry (an id, or the end of one) of a descriptor value the ODS does not know. */
export const UNKNOWN_DESCRIPTOR = 'unknown-descriptor';

/** How a record held back by body checks goes to the error log: the spec's 400 for the schema and descriptor checks, a sanity rule's own entry otherwise. */
export interface BodyHold {
  status: number;
  /** The catalogue entry (an id, or the end of one: required-field). */
  kind: string;
  message: string;
  /** Every check that held it, the one the entry is for first. */
  checks: string[];
}

export function bodyHold(holds: Array<{ id: string; message: string }>): BodyHold {
  const of = (id: string): string[] => holds.filter((f) => f.id === id).map((f) => f.message);
  const checks = [...new Set(holds.map((f) => f.id))];
  const schema = holds.filter((f) => f.id === SCHEMA_CHECK || f.id === DESCRIPTOR_LIST_CHECK);
  if (schema.length === 0) return { status: 0, kind: holds[0]!.id, message: holds.map((f) => f.message).join('; '), checks };
  // Only values off the published lists: the element is there, its value is what the ODS would refuse as an unknown
  // descriptor (the spec's "reference could not be resolved" row), so it is logged under that entry, not "is required".
  if (holds.every((f) => f.id === DESCRIPTOR_LIST_CHECK)) {
    return { status: 400, kind: UNKNOWN_DESCRIPTOR, message: `not on the state's published descriptor list: ${of(DESCRIPTOR_LIST_CHECK).join('; ')}`, checks };
  }
  // Only values too long for their element: the spec's "FIELD is required" would send the operator looking for a
  // missing value; the profile's catalogue says which entry fits (by id, else by the message).
  const tooLong = /must be a string with a maximum length/;
  const kind = holds.every((f) => f.id === SCHEMA_CHECK && tooLong.test(f.message)) ? 'value-too-long' : 'required-field';
  const parts: string[] = [];
  if (of(SCHEMA_CHECK).length) parts.push(`the body does not pass the Ed-Fi schema: ${of(SCHEMA_CHECK).join('; ')}`);
  if (of(DESCRIPTOR_LIST_CHECK).length) parts.push(`not on the state's published descriptor list: ${of(DESCRIPTOR_LIST_CHECK).join('; ')}`);
  for (const f of holds) if (f.id !== SCHEMA_CHECK && f.id !== DESCRIPTOR_LIST_CHECK) parts.push(`${f.message} (sanity rule ${f.id})`);
  return { status: 400, kind, message: parts.join('; '), checks };
}
