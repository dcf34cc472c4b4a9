// Sanity rules (`sanity:` in profile.yaml): checks on the mapped body that the Ed-Fi schema cannot express, such
// as a beginDate after the endDate. `hold` keeps the record out (an error-log entry named by the rule id, with the
// rule's message and fix); `warn` sends it and logs a warning.
import type { CatalogueEntry } from '../errors/catalogue.js';
import { hasFieldPath, unknownFieldMessage } from '../edfi/field-paths.js';
import type { JsonObject } from '../types.js';
import type { LocatedProblem } from '../util/errors.js';
import type { PathSegment } from '../util/yaml-file.js';
import { bodyLeaves, conditionHolds, fillBodyTemplate, knownBodyOperator, leafValueRef, plainTemplate, templatePlaceholders, type BodyCondition } from './body-conditions.js';

export type Severity = 'hold' | 'warn';

/** One entry of a profile's `sanity:` list. */
export interface SanityRuleDef {
  id: string;
  spec: string;
  decision?: string;
  severity: Severity;
  /** The problem: when this holds for a body, the rule fires. */
  when: BodyCondition;
  /** What the error log says, with {field} placeholders filled from the body. */
  message: string;
  /** How a district fixes it (the error log's "how to fix"). */
  fix: string;
}

/** What one check says about one body: the map stage's BodyCheck result. */
export interface BodyCheckResult {
  id: string;
  message: string;
  severity: Severity;
}

/**
 * A check of a mapped body; the Ed-Fi schema, the published descriptor lists and sanity rules are all one. The
 * record's facts (as the rules see them) come second, for checks of values the body does not carry.
 */
export type BodyCheck = (body: JsonObject, facts?: JsonObject) => BodyCheckResult[];

/** The profile's sanity rules as one BodyCheck, in the order they are written. */
export function sanityCheck(rules: readonly SanityRuleDef[]): BodyCheck {
  return (body, facts) => {
    const out: BodyCheckResult[] = [];
    for (const r of rules) {
      if (conditionHolds(r.when, body, facts)) out.push({ id: r.id, severity: r.severity, message: fillBodyTemplate(r.message, body, facts) });
    }
    return out;
  };
}

/**
 * Located problems of a profile's sanity rules beyond the schema: fields the resource does not have (in conditions
 * and message placeholders), unknown operators, bad regular expressions, repeated ids.
 */
export function checkSanityRules(
  rules: readonly SanityRuleDef[],
  resource: string,
  file: string,
  locate: (path: PathSegment[]) => { line?: number; column?: number },
  takenIds: ReadonlySet<string> = new Set(),
  knownFacts?: ReadonlySet<string>,
): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  if (rules.length === 0) return problems;
  try {
    hasFieldPath(resource, '');
  } catch (err) {
    return [{ file, ...locate(['sanity']), message: `sanity rules cannot be checked: ${(err as Error).message}` }];
  }
  const seen = new Set<string>();
  rules.forEach((r, i) => {
    const at = (...p: PathSegment[]): { file: string; line?: number; column?: number; ruleId: string } => ({ file, ...locate(['sanity', i, ...p]), ruleId: r.id });
    if (seen.has(r.id) || takenIds.has(r.id)) problems.push({ ...at('id'), message: `id '${r.id}' is used twice (sanity rule ids name error-log entries and must be unique)` });
    seen.add(r.id);
    const fieldProblem = (ref: { field: string } | { fact: string }): string | undefined => {
      if ('field' in ref) return hasFieldPath(resource, ref.field) ? undefined : `field ${unknownFieldMessage(resource, ref.field)}`;
      const name = ref.fact.split('.')[0]!;
      return !knownFacts || knownFacts.has(name) ? undefined : `unknown fact '${name}' (the source query and connection give: ${[...knownFacts].sort().join(', ')})`;
    };
    for (const { leaf, path } of bodyLeaves(r.when, ['when'])) {
      if (!knownBodyOperator(leaf.operator)) problems.push({ ...at(...path, 'operator'), message: `unknown operator '${leaf.operator}'` });
      const own = fieldProblem(leaf.field !== undefined ? { field: leaf.field } : { fact: leaf.fact! });
      if (own) problems.push({ ...at(...path, leaf.field !== undefined ? 'field' : 'fact'), message: own });
      const other = leafValueRef(leaf);
      const valueProblem = other ? fieldProblem(other) : undefined;
      if (valueProblem) problems.push({ ...at(...path, 'value'), message: `value refers to ${valueProblem}` });
      if (leaf.operator === 'matches') {
        try {
          new RegExp(String(leaf.value));
        } catch (err) {
          problems.push({ ...at(...path, 'value'), message: `bad regular expression: ${(err as Error).message}` });
        }
      }
      if ((leaf.operator === 'in' || leaf.operator === 'notIn') && !Array.isArray(leaf.value)) {
        problems.push({ ...at(...path, 'value'), message: `operator '${leaf.operator}' needs a list as its value` });
      }
    }
    for (const ref of templatePlaceholders(r.message)) {
      const problem = fieldProblem(ref);
      if (problem) problems.push({ ...at('message'), message: `placeholder {${'fact' in ref ? `fact:${ref.fact}` : ref.field}}: ${problem}` });
    }
  });
  return problems;
}

/** Error-catalogue entries for the sanity rules, so a held-back record's log entry carries the rule's cause and fix. */
export function sanityCatalogueEntries(rules: readonly SanityRuleDef[]): CatalogueEntry[] {
  return rules.map((r) => ({
    id: r.id,
    // No status: the entry is never matched against an API answer, only named by the planner.
    status: [],
    level: r.severity === 'hold' ? 'error' : 'warning',
    specMessage: r.spec,
    cause: plainTemplate(r.message),
    fix: r.fix,
  }));
}
