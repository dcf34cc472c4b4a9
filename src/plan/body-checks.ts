import { compileResourceValidator, listDescriptorValues } from '../edfi/schemas.js';
import { profileDescriptors } from '../profile/descriptor-lists.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { JsonObject } from '../types.js';
import type { BodyCheck, BodyProblem, ProfileHooks } from './plan-options.js';

/** The catalogue entry a schema problem is logged under: the spec's "400: ... FIELD is required". */
export const REQUIRED_FIELD = 'required-field';

/** The Ed-Fi JSON Schema of the profile's resource: what the ODS would refuse with a 400. */
export function schemaCheck(profile: LoadedProfile): BodyCheck {
  const validate = compileResourceValidator(profile.def.resource.schema);
  return (body) => {
    const v = validate(body);
    if (v.ok) return [];
    return v.errors.map((e) => ({ id: REQUIRED_FIELD, severity: 'hold', message: e.message.includes(e.path) ? e.message : `${e.path}: ${e.message}` }));
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
    const out: BodyProblem[] = [];
    for (const d of listDescriptorValues(profile.def.resource.schema, body)) {
      const hash = d.value.indexOf('#');
      const list = hash > 0 ? published.get(d.value.slice(0, hash)) : undefined;
      if (list && !list.has(d.value)) out.push({ id: REQUIRED_FIELD, severity: 'hold', message: `${d.path}: '${d.value}' is not a published ${d.descriptor} value` });
    }
    return out;
  };
}

/** The checks a body passes before it is sent, in order: schema, published descriptors, then the profile's own. */
export function bodyChecksOf(profile: LoadedProfile): BodyCheck[] {
  const hooks = profile as LoadedProfile & ProfileHooks;
  return [schemaCheck(profile), publishedDescriptorCheck(profile), ...(hooks.bodyChecks ?? [])];
}

export function runChecks(checks: BodyCheck[], body: JsonObject): { holds: BodyProblem[]; warnings: BodyProblem[] } {
  const holds: BodyProblem[] = [];
  const warnings: BodyProblem[] = [];
  for (const check of checks) {
    for (const p of check(body)) (p.severity === 'hold' ? holds : warnings).push(p);
  }
  return { holds, warnings };
}

/** The error-log text of a held-back body. */
export function holdMessage(holds: Array<{ id: string; message: string }>): string {
  const schema = holds.filter((p) => p.id === REQUIRED_FIELD).map((p) => p.message);
  const other = holds.filter((p) => p.id !== REQUIRED_FIELD).map((p) => `${p.message} [${p.id}]`);
  return [...(schema.length > 0 ? [`the body does not pass the Ed-Fi schema: ${schema.join('; ')}`] : []), ...other].join('; ');
}
