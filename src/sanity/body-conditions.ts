// The condition language of sanity rules: json-rules-engine's shape (all / any / not, leaves with an operator),
// but over the mapped Ed-Fi body (`field:`), and synchronous, so the map stage can run it on every body without a
// promise per record. A leaf may also read a fact of the record (`fact:`), for a state whose body does not carry
// the value to compare with (a date it does not report).
import type { Json, JsonObject } from '../types.js';
import { pathParts } from '../plan/paths.js';
import { canonicalJson } from '../util/hash.js';

/** A leaf: a body field (or a fact), an operator, and a value, another field or a fact (`value: { field: endDate }`). */
export interface BodyLeaf {
  field?: string;
  fact?: string;
  operator: string;
  value?: Json;
}

export type BodyCondition = { all: BodyCondition[] } | { any: BodyCondition[] } | { not: BodyCondition } | BodyLeaf;

interface Operator {
  description: string;
  test: (field: Json, value: Json) => boolean;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;
const dates = (a: Json, b: Json): boolean => typeof a === 'string' && typeof b === 'string' && ISO_DATE.test(a) && ISO_DATE.test(b);
const ordered = (a: Json, b: Json): boolean => (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');

/** Every operator with the description the profile schema shows in an editor. `isBlank` is handled apart. */
export const BODY_OPERATORS: Readonly<Record<string, Operator>> = {
  equal: { description: 'The field equals the value (objects and arrays compared whole).', test: (a, b) => canonicalJson(a) === canonicalJson(b) },
  notEqual: { description: 'The field is present and differs from the value.', test: (a, b) => canonicalJson(a) !== canonicalJson(b) },
  in: { description: 'The field is one of the values of the list.', test: (a, b) => Array.isArray(b) && b.some((x) => canonicalJson(x) === canonicalJson(a)) },
  notIn: { description: 'The field is present and none of the values of the list.', test: (a, b) => Array.isArray(b) && !b.some((x) => canonicalJson(x) === canonicalJson(a)) },
  lessThan: { description: 'Number (or text) below the value.', test: (a, b) => ordered(a, b) && (a as number) < (b as number) },
  lessThanInclusive: { description: 'Number (or text) at most the value.', test: (a, b) => ordered(a, b) && (a as number) <= (b as number) },
  greaterThan: { description: 'Number (or text) above the value.', test: (a, b) => ordered(a, b) && (a as number) > (b as number) },
  greaterThanInclusive: { description: 'Number (or text) at least the value.', test: (a, b) => ordered(a, b) && (a as number) >= (b as number) },
  before: { description: 'Date (yyyy-mm-dd) strictly before the value date.', test: (a, b) => dates(a, b) && (a as string) < (b as string) },
  after: { description: 'Date (yyyy-mm-dd) strictly after the value date.', test: (a, b) => dates(a, b) && (a as string) > (b as string) },
  onOrBefore: { description: 'Date (yyyy-mm-dd) on or before the value date.', test: (a, b) => dates(a, b) && (a as string) <= (b as string) },
  onOrAfter: { description: 'Date (yyyy-mm-dd) on or after the value date.', test: (a, b) => dates(a, b) && (a as string) >= (b as string) },
  matches: { description: 'Text matching the regular expression given as the value.', test: (a, b) => typeof a === 'string' && typeof b === 'string' && new RegExp(b).test(a) },
};

export const IS_BLANK = 'isBlank';
export const IS_BLANK_DESCRIPTION = 'value true: the field is absent, null, empty text or an empty list; value false: it has a value.';

export function knownBodyOperator(name: string): boolean {
  return name === IS_BLANK || Object.prototype.hasOwnProperty.call(BODY_OPERATORS, name);
}

/** The values at a dotted path; a path through an array gives one value per item (ctePrograms.cipCode). */
export function valuesAt(body: Json | undefined, path: string): Json[] {
  let nodes: Json[] = body === undefined ? [] : [body];
  for (const part of pathParts(path)) {
    const next: Json[] = [];
    for (const n of nodes) {
      const items = Array.isArray(n) ? n : [n];
      for (const item of items) {
        if (item !== null && typeof item === 'object' && !Array.isArray(item) && item[part] !== undefined) next.push(item[part]!);
      }
    }
    nodes = next;
  }
  return nodes.flatMap((n) => (Array.isArray(n) ? n : [n]));
}

function isBlankValue(v: Json): boolean {
  return v === null || (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0);
}

/** What a value refers to: `{ field: x }` (the body) or `{ fact: x }` (the record's facts). */
function referred(value: Json | undefined): { field: string } | { fact: string } | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length !== 1) return undefined;
  if (typeof value.field === 'string') return { field: value.field };
  if (typeof value.fact === 'string') return { fact: value.fact };
  return undefined;
}

function resolve(ref: { field?: string; fact?: string }, body: JsonObject, facts: JsonObject | undefined): Json[] {
  if (ref.field !== undefined) return valuesAt(body, ref.field);
  return ref.fact !== undefined ? valuesAt(facts, ref.fact) : [];
}

/**
 * Whether a condition holds for a body. An absent field never makes a comparison hold (a beginDate cannot be
 * after an endDate that is not reported); `isBlank` is the way to test for absence. Through an array, a leaf holds
 * when it holds for any item.
 */
export function conditionHolds(condition: BodyCondition, body: JsonObject, facts?: JsonObject): boolean {
  if ('all' in condition) return condition.all.every((c) => conditionHolds(c, body, facts));
  if ('any' in condition) return condition.any.some((c) => conditionHolds(c, body, facts));
  if ('not' in condition) return !conditionHolds(condition.not, body, facts);
  const left = resolve(condition, body, facts);
  if (condition.operator === IS_BLANK) {
    const blank = left.length === 0 || left.every(isBlankValue);
    return blank === (condition.value !== false);
  }
  const op = BODY_OPERATORS[condition.operator];
  if (!op) throw new Error(`unknown body operator '${condition.operator}'`);
  const other = referred(condition.value);
  const right = other !== undefined ? resolve(other, body, facts) : condition.value === undefined ? [] : [condition.value];
  const present = left.filter((v) => v !== null);
  return present.some((a) => right.some((b) => b !== null && op.test(a, b)));
}

/** Every leaf of a condition with its path inside the condition (for located messages). */
export function bodyLeaves(condition: unknown, path: Array<string | number> = []): Array<{ leaf: BodyLeaf; path: Array<string | number> }> {
  if (!condition || typeof condition !== 'object') return [];
  const c = condition as Record<string, unknown>;
  for (const key of ['all', 'any'] as const) {
    if (Array.isArray(c[key])) return (c[key] as unknown[]).flatMap((x, i) => bodyLeaves(x, [...path, key, i]));
  }
  if (c.not) return bodyLeaves(c.not, [...path, 'not']);
  if (typeof c.field === 'string' || typeof c.fact === 'string') return [{ leaf: c as unknown as BodyLeaf, path }];
  return [];
}

/** The body field or fact a leaf's value refers to, if it names one. */
export function leafValueRef(leaf: BodyLeaf): { field: string } | { fact: string } | undefined {
  return referred(leaf.value);
}

const PLACEHOLDER = /\{(fact:)?([A-Za-z0-9_.]+)\}/g;

/** "{beginDate} is after {fact:endDate}": body fields, or facts with `fact:`; an array path joins its values. */
export function fillBodyTemplate(template: string, body: JsonObject, facts?: JsonObject): string {
  return template.replace(PLACEHOLDER, (_, fact: string | undefined, path: string) => {
    const values = fact ? valuesAt(facts, path) : valuesAt(body, path);
    return values.length === 0 ? '(none)' : values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  });
}

/** The {placeholders} of a message template. */
export function templatePlaceholders(template: string): Array<{ field: string } | { fact: string }> {
  return [...template.matchAll(PLACEHOLDER)].map((m) => (m[1] ? { fact: m[2]! } : { field: m[2]! }));
}

/** The template with placeholders shown as their names, for the error catalogue's cause text. */
export function plainTemplate(template: string): string {
  return template.replace(PLACEHOLDER, (_, _f: string | undefined, path: string) => path);
}
