import { Operator } from 'json-rules-engine';

// Operators the Ed-Fi specs need and json-rules-engine lacks. Each takes Campus values as the snapshot holds them
// (dates as YYYY-MM-DD text, checkboxes as 0/1).

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

export interface OperatorDoc {
  name: string;
  description: string;
}

export const customOperatorDocs: OperatorDoc[] = [
  { name: 'overlapsPeriod', description: 'fact {start, end} overlaps value {start, end} (inclusive; null = open-ended). A missing fact never overlaps.' },
  { name: 'anyOverlapsPeriod', description: 'some period in the fact array overlaps value {start, end}.' },
  { name: 'isBlank', description: 'fact is null, missing or only spaces (value true), or is not (value false).' },
  { name: 'isTrue', description: 'fact is a checked checkbox (1, true, Y) (value true), or is not (value false).' },
  { name: 'matches', description: 'fact (text) matches the regular expression in value.' },
];

export function customOperators(): Operator[] {
  return [
    new Operator('overlapsPeriod', (fact: unknown, value: unknown) => {
      const a = asPeriod(fact);
      const b = asPeriod(value);
      return a !== undefined && b !== undefined && periodsOverlap(a, b);
    }),
    new Operator('anyOverlapsPeriod', (fact: unknown, value: unknown) => {
      const b = asPeriod(value);
      if (!Array.isArray(fact) || b === undefined) return false;
      return fact.some((p) => {
        const a = asPeriod(p);
        return a !== undefined && periodsOverlap(a, b);
      });
    }),
    new Operator('isBlank', (fact: unknown, value: unknown) => isBlankValue(fact) === (value !== false)),
    new Operator('isTrue', (fact: unknown, value: unknown) => isTruthyFlag(fact) === (value !== false)),
    new Operator('matches', (fact: unknown, value: unknown) => typeof fact === 'string' && typeof value === 'string' && new RegExp(value).test(fact)),
  ];
}

/** json-rules-engine's own operators and decorators (v7), for validating rule files. */
export const builtInOperators = [
  'equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain',
  'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive',
];
export const builtInDecorators = ['someFact', 'someValue', 'everyFact', 'everyValue', 'swap', 'not'];

export function knownOperator(name: string): boolean {
  const parts = name.split(':');
  const base = parts.pop() as string;
  const known = builtInOperators.includes(base) || customOperatorDocs.some((o) => o.name === base);
  return known && parts.every((d) => builtInDecorators.includes(d));
}
