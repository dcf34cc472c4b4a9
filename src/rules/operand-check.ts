import { describeShape, operatorInfo, splitOperator, type Shape } from '../language/catalogue.js';

// `validate`'s check of a condition's operands: the literal value must be what the operator compares with
// (`overlapsPeriod` against a number deletes every record; `isTrue` against "yes" never holds; `in` against a
// text matches substrings; `lessThan` against a date compares text), and where the fact's kind is known (the
// configured year, the connection, a snapshot column's declared type) it must fit the operator too.

/** What a fact is, when it is known before any record is read. */
export type FactKind = Shape | 'object';

export interface LeafToCheck {
  fact: string;
  operator: string;
  value: unknown;
  path?: unknown;
}

/** The fact and value shapes of an operator with its decorators ('someFact:in' wants a list of scalars as fact). */
export function operandShapes(operator: string): { fact: Shape; value: Shape } | undefined {
  const { decorators, base } = splitOperator(operator);
  const info = operatorInfo(base);
  if (!info) return undefined;
  let s: { fact: Shape; value: Shape } = { fact: info.fact, value: info.value };
  for (const d of [...decorators].reverse()) {
    if (d === 'someFact' || d === 'everyFact') s = { fact: { list: s.fact }, value: s.value };
    else if (d === 'someValue' || d === 'everyValue') s = { fact: s.fact, value: { list: s.value } };
    else if (d === 'swap') s = { fact: s.value, value: s.fact };
  }
  return s;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isValidDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

function kindOfLiteral(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a text';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'true/false';
  return typeof value;
}

/** Why a literal is not of a shape, or undefined when it is. */
export function literalProblem(value: unknown, shape: Shape): string | undefined {
  if (typeof shape === 'object') {
    if (!Array.isArray(value)) return `${show(value)} is ${kindOfLiteral(value)}, not a list`;
    for (const [i, item] of value.entries()) {
      const p = literalProblem(item, shape.list);
      if (p) return `item ${i + 1}: ${p}`;
    }
    return undefined;
  }
  switch (shape) {
    case 'any':
      return undefined;
    case 'scalar':
      return value === null || ['string', 'number', 'boolean'].includes(typeof value) ? undefined : `${show(value)} is ${kindOfLiteral(value)}, which never equals a fact value`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `${show(value)} is ${kindOfLiteral(value)}, not a number`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${show(value)} is ${kindOfLiteral(value)}, not true or false`;
    case 'text':
      return typeof value === 'string' ? undefined : `${show(value)} is ${kindOfLiteral(value)}, not a text`;
    case 'date':
      return typeof value === 'string' && isValidDate(value) ? undefined : `${show(value)} is not a date (YYYY-MM-DD)`;
    case 'regex':
      if (typeof value !== 'string') return `${show(value)} is ${kindOfLiteral(value)}, not a regular expression`;
      try {
        new RegExp(value);
        return undefined;
      } catch (err) {
        return `${show(value)} is not a valid regular expression: ${(err as Error).message}`;
      }
    case 'period': {
      const endOk = (x: unknown): boolean => x === null || x === undefined || (typeof x === 'string' && isValidDate(x));
      if (Array.isArray(value)) return value.length === 2 && value.every(endOk) ? undefined : `${show(value)} is not a period [start, end] of dates`;
      if (value !== null && typeof value === 'object') {
        const keys = Object.keys(value);
        const ok = keys.length > 0 && keys.every((k) => k === 'start' || k === 'end') && endOk((value as Record<string, unknown>).start) && endOk((value as Record<string, unknown>).end);
        return ok ? undefined : `${show(value)} is not a period {start, end} of dates`;
      }
      return `${show(value)} is ${kindOfLiteral(value)}, not a period`;
    }
  }
}

function sameShape(a: FactKind, b: FactKind): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether a fact of a known kind can be what the operator expects on that side. */
function kindFits(kind: FactKind, expected: Shape): boolean {
  if (expected === 'any') return true;
  if (expected === 'scalar') return kind !== 'object' && kind !== 'period' && typeof kind !== 'object';
  if (expected === 'text') return kind === 'text' || kind === 'date' || kind === 'regex';
  return sameShape(kind, expected);
}

function kindName(kind: FactKind): string {
  return kind === 'object' ? 'an object' : describeShape(kind);
}

/**
 * Problems of one condition's operands. `kinds` gives what a fact is, where known (others are not judged).
 * Returns [where, message] pairs: where is 'value' or 'fact' (for locating the line).
 */
export function operandProblems(leaf: LeafToCheck, kinds: ReadonlyMap<string, FactKind>): Array<{ at: 'value' | 'fact'; message: string }> {
  const shapes = operandShapes(leaf.operator);
  if (!shapes) return [];
  const out: Array<{ at: 'value' | 'fact'; message: string }> = [];
  const factKind = leaf.path === undefined ? kinds.get(leaf.fact) : undefined;
  const value = leaf.value;
  const ref = value !== null && typeof value === 'object' && !Array.isArray(value) && 'fact' in value ? (value as { fact: unknown; path?: unknown }) : undefined;
  const expectation = `'${leaf.operator}' compares with ${describeShape(shapes.value)}`;
  if (ref) {
    const refKind = typeof ref.fact === 'string' && ref.path === undefined ? kinds.get(ref.fact) : undefined;
    if (refKind !== undefined && !kindFits(refKind, shapes.value)) {
      out.push({ at: 'value', message: `${expectation}, but value { fact: ${String(ref.fact)} } is ${kindName(refKind)}` });
    }
  } else {
    const p = literalProblem(value, shapes.value);
    if (p) out.push({ at: 'value', message: `${expectation}, but ${p}${hint(leaf.operator, value, factKind)}` });
  }
  if (factKind !== undefined && !kindFits(factKind, shapes.fact)) {
    out.push({ at: 'fact', message: `'${leaf.operator}' expects the fact to be ${describeShape(shapes.fact)}, but '${leaf.fact}' is ${kindName(factKind)}${hint(leaf.operator, value, factKind)}` });
  } else if (factKind !== undefined && !ref && (leaf.operator === 'equal' || leaf.operator === 'notEqual' || leaf.operator === 'in' || leaf.operator === 'notIn')) {
    // 1 and "1" are different values to equal/in: a number column compared with text never matches.
    const items = Array.isArray(value) ? value : [value];
    const wrong = items.find((x) => (factKind === 'number' && typeof x === 'string') || ((factKind === 'text' || factKind === 'date') && typeof x === 'number'));
    if (wrong !== undefined) {
      out.push({ at: 'value', message: `'${leaf.fact}' is ${kindName(factKind)} in the snapshot, so ${show(wrong)} (${kindOfLiteral(wrong)}) never equals it` });
    }
  }
  return out;
}

function hint(operator: string, value: unknown, factKind: FactKind | undefined): string {
  const base = splitOperator(operator).base;
  if (['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'].includes(base) && ((typeof value === 'string' && ISO_DATE.test(value)) || factKind === 'date')) {
    return ' (for dates use dateBefore, dateOnOrBefore, dateAfter or dateOnOrAfter)';
  }
  if ((base === 'overlapsPeriod' || base === 'anyOverlapsPeriod') && typeof value !== 'object') return ' (the configured year is { fact: configuredYear })';
  if ((base === 'isTrue' || base === 'isBlank') && typeof value === 'string') return ` (write value: ${/^(false|no|n|0)$/i.test(value) ? 'false' : 'true'}, without quotes)`;
  return '';
}
