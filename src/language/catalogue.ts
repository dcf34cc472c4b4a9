// The analyst's language in one place: every rule operator, operator decorator and mapping / computed-fact
// function, with what it does. The rule engine, the mapper, `validate`, the JSON Schemas in schemas/ and the
// reference part of docs/analyst-guide.md are all checked against this list (spec/language-catalogue.spec.ts),
// so a new operator or function cannot be added in one place and forgotten in another.

/**
 * What an operand of an operator must be, for `validate`: a literal value in a rule file is checked against it.
 * `{ list: X }` is an array whose items are each an X.
 */
export type Shape = 'any' | 'scalar' | 'number' | 'boolean' | 'text' | 'date' | 'regex' | 'period' | { list: Shape };

export interface OperatorInfo {
  name: string;
  /** json-rules-engine's own operators, or ours (src/rules/operators.ts). */
  origin: 'json-rules-engine' | 'edfi-rules-sync';
  description: string;
  /** What the fact (left side) is expected to be. */
  fact: Shape;
  /** What `value` (right side) must be: a literal of this shape, or `{ fact: name }`. */
  value: Shape;
}

export interface DecoratorInfo {
  name: string;
  description: string;
}

export interface FunctionInfo {
  /** Without the `$`. */
  name: string;
  /** How it is called, as the analyst writes it. */
  signature: string;
  description: string;
  /** Where it may be called: mapping expressions, computed facts (`facts:` in the profile). */
  usableIn: Array<'mappings' | 'facts'>;
}

export const OPERATORS: OperatorInfo[] = [
  { name: 'equal', origin: 'json-rules-engine', fact: 'any', value: 'scalar', description: 'fact is exactly value (no conversion: 1 and "1" differ).' },
  { name: 'notEqual', origin: 'json-rules-engine', fact: 'any', value: 'scalar', description: 'fact is not exactly value.' },
  { name: 'in', origin: 'json-rules-engine', fact: 'scalar', value: { list: 'scalar' }, description: 'fact is one of the values in the list given as value.' },
  { name: 'notIn', origin: 'json-rules-engine', fact: 'scalar', value: { list: 'scalar' }, description: 'fact is none of the values in the list given as value.' },
  { name: 'contains', origin: 'json-rules-engine', fact: { list: 'any' }, value: 'scalar', description: 'fact (a list) contains value.' },
  { name: 'doesNotContain', origin: 'json-rules-engine', fact: { list: 'any' }, value: 'scalar', description: 'fact (a list) does not contain value.' },
  { name: 'lessThan', origin: 'json-rules-engine', fact: 'number', value: 'number', description: 'fact < value (numbers; for dates use dateBefore).' },
  { name: 'lessThanInclusive', origin: 'json-rules-engine', fact: 'number', value: 'number', description: 'fact <= value (numbers; for dates use dateOnOrBefore).' },
  { name: 'greaterThan', origin: 'json-rules-engine', fact: 'number', value: 'number', description: 'fact > value (numbers; for dates use dateAfter).' },
  { name: 'greaterThanInclusive', origin: 'json-rules-engine', fact: 'number', value: 'number', description: 'fact >= value (numbers; for dates use dateOnOrAfter).' },
  { name: 'overlapsPeriod', origin: 'edfi-rules-sync', fact: 'period', value: 'period', description: 'fact {start, end} overlaps value {start, end}, e.g. { fact: configuredYear } (inclusive; a null start or end is open-ended). A missing fact never overlaps.' },
  { name: 'anyOverlapsPeriod', origin: 'edfi-rules-sync', fact: { list: 'period' }, value: 'period', description: 'some period in the fact (a list of {start, end}) overlaps value {start, end}.' },
  { name: 'isBlank', origin: 'edfi-rules-sync', fact: 'any', value: 'boolean', description: 'value true: fact is null, missing or only spaces; value false: it is not.' },
  { name: 'isTrue', origin: 'edfi-rules-sync', fact: 'any', value: 'boolean', description: 'value true: fact is a checked checkbox (1, true, Y, yes, T, X); value false: it is not.' },
  { name: 'matches', origin: 'edfi-rules-sync', fact: 'text', value: 'regex', description: 'fact (text) matches the regular expression given as value (JavaScript syntax, not anchored: use ^ and $).' },
  { name: 'dateBefore', origin: 'edfi-rules-sync', fact: 'date', value: 'date', description: 'fact (YYYY-MM-DD) is a date before value. A missing or malformed date on either side is false.' },
  { name: 'dateOnOrBefore', origin: 'edfi-rules-sync', fact: 'date', value: 'date', description: 'fact (YYYY-MM-DD) is the same date as value or before it. A missing or malformed date is false.' },
  { name: 'dateAfter', origin: 'edfi-rules-sync', fact: 'date', value: 'date', description: 'fact (YYYY-MM-DD) is a date after value. A missing or malformed date on either side is false.' },
  { name: 'dateOnOrAfter', origin: 'edfi-rules-sync', fact: 'date', value: 'date', description: 'fact (YYYY-MM-DD) is the same date as value or after it. A missing or malformed date is false.' },
];

export const DECORATORS: DecoratorInfo[] = [
  { name: 'someFact', description: 'someFact:op - the fact is a list and at least one item satisfies op against value.' },
  { name: 'everyFact', description: 'everyFact:op - the fact is a list and every item satisfies op against value.' },
  { name: 'someValue', description: 'someValue:op - value is a list and the fact satisfies op against at least one item.' },
  { name: 'everyValue', description: 'everyValue:op - value is a list and the fact satisfies op against every item.' },
  { name: 'swap', description: 'swap:op - op with its sides swapped (value op fact).' },
  { name: 'not', description: 'not:op - true when op is false.' },
];

export const FUNCTIONS: FunctionInfo[] = [
  { name: 'pref', signature: '$pref(resource, element, campusValue)', usableIn: ['mappings', 'facts'], description: "the Ed-Fi code the connection's Resource Preferences map the Campus value to; nothing when it is not mapped." },
  { name: 'descriptor', signature: '$descriptor(name, code)', usableIn: ['mappings', 'facts'], description: "a descriptor URI in the profile's namespace for that descriptor (descriptorNamespaces); a code that is already a URI is kept; nothing for a blank code." },
  { name: 'overlaps', signature: '$overlaps(start, end)', usableIn: ['mappings', 'facts'], description: 'true when the period start..end (null = open-ended) overlaps the configured school year, inclusive.' },
  { name: 'daysBetween', signature: '$daysBetween(from, to)', usableIn: ['mappings', 'facts'], description: 'whole days from the date from to the date to (YYYY-MM-DD): $daysBetween("2025-08-01", "2025-08-31") = 30; negative when to is earlier; nothing when either is missing.' },
  { name: 'addDays', signature: '$addDays(date, days)', usableIn: ['mappings', 'facts'], description: 'the date (YYYY-MM-DD) that many days after date (before it when days is negative); nothing when date is missing.' },
  { name: 'laterDate', signature: '$laterDate(date1, date2, ...)', usableIn: ['mappings', 'facts'], description: 'the latest of the given dates (YYYY-MM-DD), ignoring missing ones; nothing when all are missing.' },
  { name: 'earlierDate', signature: '$earlierDate(date1, date2, ...)', usableIn: ['mappings', 'facts'], description: 'the earliest of the given dates (YYYY-MM-DD), ignoring missing ones; nothing when all are missing.' },
];

/** JSONata's own functions (JSONata 2.x), which mappings may call; computed facts may call those marked in src/mapping/jsonata-functions.ts. */
export const JSONATA_FUNCTIONS: string[] = [
  'sum', 'count', 'max', 'min', 'average', 'string', 'substring', 'substringBefore', 'substringAfter', 'lowercase',
  'uppercase', 'length', 'trim', 'pad', 'match', 'contains', 'replace', 'split', 'join', 'formatNumber', 'formatBase',
  'formatInteger', 'parseInteger', 'number', 'floor', 'ceil', 'round', 'abs', 'sqrt', 'power', 'random', 'boolean', 'not',
  'map', 'zip', 'filter', 'single', 'reduce', 'sift', 'keys', 'lookup', 'append', 'exists', 'spread', 'merge', 'reverse',
  'each', 'error', 'assert', 'type', 'sort', 'shuffle', 'distinct', 'base64encode', 'base64decode', 'encodeUrlComponent',
  'encodeUrl', 'decodeUrlComponent', 'decodeUrl', 'eval', 'toMillis', 'fromMillis', 'clone', 'now', 'millis',
];

/**
 * JSONata functions whose result changes from run to run: a body or fact using them would differ every night
 * (and be sent again), so `validate` refuses them. Dates come from the snapshot; use $daysBetween and friends.
 */
export const NON_DETERMINISTIC_FUNCTIONS = ['now', 'millis', 'random', 'shuffle'];

export function operatorInfo(name: string): OperatorInfo | undefined {
  return OPERATORS.find((o) => o.name === name);
}

export function decoratorInfo(name: string): DecoratorInfo | undefined {
  return DECORATORS.find((d) => d.name === name);
}

export function functionInfo(name: string): FunctionInfo | undefined {
  return FUNCTIONS.find((f) => f.name === name);
}

/** 'someFact:not:in' -> { decorators: ['someFact', 'not'], base: 'in' }. */
export function splitOperator(name: string): { decorators: string[]; base: string } {
  const parts = name.split(':');
  const base = parts.pop() as string;
  return { decorators: parts, base };
}

export function knownOperator(name: string): boolean {
  const { decorators, base } = splitOperator(name);
  return operatorInfo(base) !== undefined && decorators.every((d) => decoratorInfo(d) !== undefined);
}

/** How a shape reads in a message: "a number", "a list of {start, end} periods". */
export function describeShape(s: Shape): string {
  if (typeof s === 'object') return `a list (each item ${describeShape(s.list)})`;
  switch (s) {
    case 'any': return 'any value';
    case 'scalar': return 'a single value (text, number, true/false or null)';
    case 'number': return 'a number';
    case 'boolean': return 'true or false';
    case 'text': return 'a text';
    case 'date': return 'a date (YYYY-MM-DD)';
    case 'regex': return 'a regular expression';
    case 'period': return 'a period {start, end} (or { fact: configuredYear })';
  }
}
