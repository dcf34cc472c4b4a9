import type { Json } from '../types.js';
import { periodsOverlap } from '../rules/operators.js';

/** Resource Preferences of one connection: resource -> element -> Campus value -> Ed-Fi code. */
export type PreferenceTable = Map<string, Map<string, Map<string, string>>>;

export interface MappingContext {
  preferences: PreferenceTable;
  /** Descriptor name -> namespace, with 'default' for the rest. */
  descriptorNamespaces: Record<string, string>;
  yearStart: string;
  yearEnd: string;
}

export function lookupPreference(prefs: PreferenceTable, resource: string, element: string, campusValue: unknown): string | undefined {
  if (campusValue === null || campusValue === undefined) return undefined;
  return prefs.get(resource)?.get(element)?.get(String(campusValue));
}

/**
 * A descriptor URI from a code value: uri://ed-fi.org/CareerPathwayDescriptor#Health Science.
 * A mapping that already holds a full URI is kept as it is, so analysts may map to any namespace.
 */
export function descriptorUri(namespaces: Record<string, string>, name: string, code: unknown): string | undefined {
  if (code === null || code === undefined || String(code).trim() === '') return undefined;
  const text = String(code).trim();
  if (/^[a-z]+:\/\//i.test(text)) return text;
  const ns = (namespaces[name] ?? namespaces.default ?? 'uri://ed-fi.org').replace(/\/+$/, '');
  return `${ns}/${name}#${text}`;
}

/** The JSONata bindings a mapping expression may call. Kept small and documented in schemas/mapping.schema.json. */
export function mappingBindings(ctx: MappingContext): Record<string, (...args: Json[]) => Json | undefined> {
  return {
    pref: (resource, element, campusValue) => lookupPreference(ctx.preferences, String(resource), String(element), campusValue),
    descriptor: (name, code) => descriptorUri(ctx.descriptorNamespaces, String(name), code),
    overlaps: (start, end) =>
      periodsOverlap({ start: (start as string | null) ?? null, end: (end as string | null) ?? null }, { start: ctx.yearStart, end: ctx.yearEnd }),
  };
}
