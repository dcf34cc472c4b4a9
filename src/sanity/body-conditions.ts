// The condition language of sanity rules: json-rules-engine's shape (all / any / not, leaves with an operator),
// but over the mapped Ed-Fi body instead of the source facts, and synchronous, so the map stage can run it on
// every body without a promise per record.
import type { Json, JsonObject } from '../types.js';
import { canonicalJson } from '../util/hash.js';

/** A leaf: a body field, an operator, and a value or another field (`value: { field: endDate }`). */
export interface BodyLeaf {
  field: string;
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
  for (const part of path.split('.')) {
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

function referredField(value: Json | undefined): string | undefined {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof value.field === 'string' && Object.keys(value).length === 1) return value.field;
  return undefined;
}

/**
 * Whether a condition holds for a body. An absent field never makes a comparison hold (a beginDate cannot be
 * after an endDate that is not reported); `isBlank` is the way to test for absence. Through an array, a leaf holds
 * when it holds for any item.
 */
export function conditionHolds(condition: BodyCondition, body: JsonObject): boolean {
  if ('all' in condition) return condition.all.every((c) => conditionHolds(c, body));
  if ('any' in condition) return condition.any.some((c) => conditionHolds(c, body));
  if ('not' in condition) return !conditionHolds(condition.not, body);
  const left = valuesAt(body, condition.field);
  if (condition.operator === IS_BLANK) {
    const blank = left.length === 0 || left.every(isBlankValue);
    return blank === (condition.value !== false);
  }
  const op = BODY_OPERATORS[condition.operator];
  if (!op) throw new Error(`unknown body operator '${condition.operator}'`);
  const other = referredField(condition.value);
  const right = other !== undefined ? valuesAt(body, other) : condition.value === undefined ? [] : [condition.value];
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
  if (typeof c.field === 'string') return [{ leaf: c as unknown as BodyLeaf, path }];
  return [];
}

/** The field a leaf's value refers to, if it names one. */
export function leafValueField(leaf: BodyLeaf): string | undefined {
  return referredField(leaf.value);
}

/** "{beginDate} is after {endDate}" with the body's values; a path through an array joins its values. */
export function fillBodyTemplate(template: string, body: JsonObject): string {
  return template.replace(/\{([A-Za-z0-9_.]+)\}/g, (_, path: string) => {
    const values = valuesAt(body, path);
    return values.length === 0 ? '(none)' : values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  });
}

/** The {placeholders} of a message template. */
export function templateFields(template: string): string[] {
  return [...template.matchAll(/\{([A-Za-z0-9_.]+)\}/g)].map((m) => m[1]!);
}
