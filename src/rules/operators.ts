import { Operator } from 'json-rules-engine';
import { splitOperator } from '../language/catalogue.js';

// Every rule operator as a plain function. Ours are registered with json-rules-engine (customOperators) and
// used as they are by the compiled rules; json-rules-engine's own operators and decorators are restated here in
// the engine's exact terms (its src/engine-default-operators.js and operator-decorator.js, v7), so a compiled
// rule gives the engine's answer without running the engine. spec/compiled-rules.spec.ts holds both to it.
// Operands are Campus values as the snapshot holds them (dates as YYYY-MM-DD text, checkboxes as 0/1).

/** (fact, value) -> met. */
export type OperatorFn = (fact: unknown, value: unknown) => boolean;

export interface Period {
  start?: string | null;
  end?: string | null;
}

function asPeriod(value: unknown): Period | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return { start: value[0] as string | null, end: value[1] as string | null };
  if (typeof value === 'object') return value as Period;
  return undefined;
}

/** Inclusive overlap; a missing start or end is open on that side (an open-ended program record). */
export function periodsOverlap(a: Period, b: Period): boolean {
  const aStart = a.start ?? '0000-01-01';
  const aEnd = a.end ?? '9999-12-31';
  const bStart = b.start ?? '0000-01-01';
  const bEnd = b.end ?? '9999-12-31';
  return aStart <= bEnd && bStart <= aEnd;
}

export function isBlankValue(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

/** Campus checkboxes arrive as 0/1, 'Y'/'N', 'true'/'false' or booleans depending on the export. */
export function isTruthyFlag(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return ['1', 'y', 'yes', 'true', 't', 'x'].includes(value.trim().toLowerCase());
  return false;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && ISO_DATE.test(value);
}

// A rule file's pattern is compiled once, not per record; new RegExp(p).test has no state without flags.
const regexCache = new Map<string, RegExp>();
function regexOf(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) regexCache.set(pattern, (re = new RegExp(pattern)));
  return re;
}

/** Our operators: the functions json-rules-engine runs and the compiled rules call. */
export const CUSTOM_OPERATORS: Record<string, OperatorFn> = {
  overlapsPeriod: (fact, value) => {
    const a = asPeriod(fact);
    const b = asPeriod(value);
    return a !== undefined && b !== undefined && periodsOverlap(a, b);
  },
  anyOverlapsPeriod: (fact, value) => {
    const b = asPeriod(value);
    if (!Array.isArray(fact) || b === undefined) return false;
    return fact.some((p) => {
      const a = asPeriod(p);
      return a !== undefined && periodsOverlap(a, b);
    });
  },
  isBlank: (fact, value) => isBlankValue(fact) === (value !== false),
  isTrue: (fact, value) => isTruthyFlag(fact) === (value !== false),
  matches: (fact, value) => typeof fact === 'string' && typeof value === 'string' && regexOf(value).test(fact),
  dateBefore: (fact, value) => isIsoDate(fact) && isIsoDate(value) && fact < value,
  dateOnOrBefore: (fact, value) => isIsoDate(fact) && isIsoDate(value) && fact <= value,
  dateAfter: (fact, value) => isIsoDate(fact) && isIsoDate(value) && fact > value,
  dateOnOrAfter: (fact, value) => isIsoDate(fact) && isIsoDate(value) && fact >= value,
};

/** Our operators as json-rules-engine Operator objects (no fact validator, as `new Operator(name, cb)`). */
export function customOperators(): Operator[] {
  return Object.entries(CUSTOM_OPERATORS).map(([name, fn]) => new Operator(name, fn));
}

type Validator = (fact: unknown) => boolean;
interface EngineOperator {
  cb: OperatorFn;
  validator?: Validator;
}

function numberValidator(fact: unknown): boolean {
  return Number.parseFloat(fact as string).toString() !== 'NaN';
}

// json-rules-engine v7, engine-default-operators.js: `in` and `contains` call indexOf as the engine does, so a
// value of the wrong type throws (or matches a substring) exactly as it would there; `validate` refuses both.
const BUILT_IN_OPERATORS: Record<string, EngineOperator> = {
  equal: { cb: (a, b) => a === b },
  notEqual: { cb: (a, b) => a !== b },
  in: { cb: (a, b) => (b as unknown[]).indexOf(a) > -1 },
  notIn: { cb: (a, b) => (b as unknown[]).indexOf(a) === -1 },
  contains: { cb: (a, b) => (a as unknown[]).indexOf(b) > -1, validator: Array.isArray },
  doesNotContain: { cb: (a, b) => (a as unknown[]).indexOf(b) === -1, validator: Array.isArray },
  lessThan: { cb: (a, b) => (a as number) < (b as number), validator: numberValidator },
  lessThanInclusive: { cb: (a, b) => (a as number) <= (b as number), validator: numberValidator },
  greaterThan: { cb: (a, b) => (a as number) > (b as number), validator: numberValidator },
  greaterThanInclusive: { cb: (a, b) => (a as number) >= (b as number), validator: numberValidator },
};

type DecoratorFn = (fact: unknown, value: unknown, next: OperatorFn) => boolean;
// engine-default-operator-decorators.js
const DECORATORS: Record<string, { cb: DecoratorFn; validator?: Validator }> = {
  someFact: { cb: (f, v, next) => (f as unknown[]).some((x) => next(x, v)), validator: Array.isArray },
  someValue: { cb: (f, v, next) => (v as unknown[]).some((x) => next(f, x)) },
  everyFact: { cb: (f, v, next) => (f as unknown[]).every((x) => next(x, v)), validator: Array.isArray },
  everyValue: { cb: (f, v, next) => (v as unknown[]).every((x) => next(f, x)) },
  swap: { cb: (f, v, next) => next(v, f) },
  not: { cb: (f, v, next) => !next(f, v) },
};

/** Operator.evaluate of json-rules-engine: the fact validator first, then the callback. */
function withValidator(op: EngineOperator): OperatorFn {
  const { cb, validator } = op;
  return validator ? (f, v) => validator(f) && cb(f, v) : cb;
}

/**
 * The function of an operator name, decorators included ('everyValue:not:in'), built once per condition;
 * undefined when a part of the name is not ours, json-rules-engine's or a decorator.
 */
export function operatorFunction(name: string): OperatorFn | undefined {
  const { decorators, base } = splitOperator(name);
  const custom = CUSTOM_OPERATORS[base];
  const builtIn = BUILT_IN_OPERATORS[base];
  let fn: OperatorFn | undefined = custom ?? (builtIn ? withValidator(builtIn) : undefined);
  if (!fn) return undefined;
  // The engine applies the innermost decorator first ('a:b:op' is a(b(op))).
  for (const d of [...decorators].reverse()) {
    const dec = DECORATORS[d];
    if (!dec) return undefined;
    const next = fn;
    fn = withValidator({ cb: (f, v) => dec.cb(f, v, next), validator: dec.validator });
  }
  return fn;
}

/** Names of every operator and decorator implemented here, for the catalogue check. */
export const implementedOperators = { custom: Object.keys(CUSTOM_OPERATORS), builtIn: Object.keys(BUILT_IN_OPERATORS), decorators: Object.keys(DECORATORS) };

export { knownOperator } from '../language/catalogue.js';
