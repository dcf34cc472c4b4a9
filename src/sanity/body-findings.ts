// What the body checks of the map stage found, as the text the evaluation cache and the worker threads carry
// ("[hold core.sanity.begin-after-end] beginDate ..."). Text written before checks had ids reads as a schema problem.
import type { BodyCheckResult } from './sanity-rules.js';

/** The id of the Ed-Fi JSON Schema check. */
export const SCHEMA_CHECK = 'edfi-schema';
/** The id of the check against the descriptor code lists a state publishes. */
export const DESCRIPTOR_LIST_CHECK = 'published-descriptors';

export function encodeFinding(f: BodyCheckResult): string {
  return `[${f.severity} ${f.id}] ${f.message}`;
}

export function decodeFinding(text: string): BodyCheckResult {
  const m = /^\[(hold|warn) ([^\]\s]+)\] ([\s\S]*)$/.exec(text);
  if (!m) return { id: SCHEMA_CHECK, severity: 'hold', message: text };
  return { severity: m[1] as BodyCheckResult['severity'], id: m[2]!, message: m[3]! };
}

/** Words for a check id in messages: what held a record back. `immutable` names the profile's immutableFields ids. */
export function describeCheck(id: string, immutable: ReadonlySet<string> = new Set()): string {
  // 'required-field' is the error-catalogue name the schema check is logged under.
  if (id === SCHEMA_CHECK || id === 'required-field') return 'the Ed-Fi schema check';
  if (id === DESCRIPTOR_LIST_CHECK) return "the state's published descriptor lists";
  if (id === 'duplicate-natural-key') return 'the duplicate natural key check (another record of the connection has the same natural key)';
  if (id === 'duplicate-source-key') return 'the duplicate source key check (the source query returned the record twice)';
  if (immutable.has(id)) return `immutable field ${id}`;
  return `sanity rule ${id}`;
}
