import type { Json } from '../types.js';
import { periodsOverlap } from '../rules/operators.js';
import { addDays, daysBetween, earlierDate, laterDate } from './dates.js';

/** Resource Preferences of one connection: resource -> element -> Campus value -> Ed-Fi code. */
export type PreferenceTable = Map<string, Map<string, Map<string, string>>>;

/** What the functions of an expression read: the connection's preferences, namespaces and school year. */
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

export type BindingFunction = (...args: Json[]) => Json | undefined;

const cache = new WeakMap<MappingContext, Record<string, BindingFunction>>();

/**
 * The functions a mapping expression or computed fact may call, described in src/language/catalogue.ts (FUNCTIONS).
 * Made once per connection context.
 */
export function mappingBindings(ctx: MappingContext): Record<string, BindingFunction> {
  let b = cache.get(ctx);
  if (!b) {
    b = {
      pref: (resource, element, campusValue) => lookupPreference(ctx.preferences, String(resource), String(element), campusValue),
      descriptor: (name, code) => descriptorUri(ctx.descriptorNamespaces, String(name), code),
      overlaps: (start, end) =>
        periodsOverlap({ start: (start as string | null) ?? null, end: (end as string | null) ?? null }, { start: ctx.yearStart, end: ctx.yearEnd }),
      daysBetween: (from, to) => daysBetween(from, to),
      addDays: (date, days) => addDays(date, days),
      laterDate: (...dates) => laterDate(...dates),
      earlierDate: (...dates) => earlierDate(...dates),
    };
    cache.set(ctx, b);
  }
  return b;
}

/** Names of the functions above, known without a context (for compiling and checking expressions). */
export const BINDING_NAMES: ReadonlySet<string> = new Set(['pref', 'descriptor', 'overlaps', 'daysBetween', 'addDays', 'laterDate', 'earlierDate']);
