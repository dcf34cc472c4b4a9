import type { TopLevelCondition } from 'json-rules-engine';
import { ConfigError, type LocatedProblem } from '../util/errors.js';
import { checkAgainstSchema } from '../util/file-schema.js';
import { readYamlFile, type PathSegment, type YamlFile } from '../util/yaml-file.js';
import { knownOperator } from './operators.js';
import { operandProblems, type FactKind } from './operand-check.js';

export type RuleType = 'trigger' | 'exclude';

/** One rule as an analyst writes it (rules/*.yaml). */
export interface RuleDef {
  id: string;
  spec: string;
  decision?: string;
  priority?: number;
  event: { type: RuleType; params: { reason: string } };
  conditions: TopLevelCondition;
  /** Where the rule stands, for messages. */
  file: string;
  line?: number;
}

interface LeafCondition {
  fact: string;
  operator: string;
  value: unknown;
  path?: string;
}

/** Every leaf condition of a rule with its YAML path, for checks and for explain. */
export function leafConditions(node: unknown, path: PathSegment[] = []): Array<{ leaf: LeafCondition; path: PathSegment[] }> {
  if (!node || typeof node !== 'object') return [];
  const n = node as Record<string, unknown>;
  for (const key of ['all', 'any'] as const) {
    if (Array.isArray(n[key])) return (n[key] as unknown[]).flatMap((c, i) => leafConditions(c, [...path, key, i]));
  }
  if (n.not) return leafConditions(n.not, [...path, 'not']);
  if (typeof n.fact === 'string') return [{ leaf: n as unknown as LeafCondition, path }];
  return [];
}

/** The facts a condition value refers to ({fact: name}), which must exist like any other fact. */
function valueFacts(value: unknown): string[] {
  if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as { fact?: unknown }).fact === 'string') {
    return [(value as { fact: string }).fact];
  }
  return [];
}

export interface RuleFileCheckOptions {
  /** Facts the rules may use; when given, an unknown fact is a located problem. */
  knownFacts?: Set<string>;
  /** What some facts are (configuredYear is a period, a snapshot column a number or a text): operands are checked against it. */
  factKinds?: ReadonlyMap<string, FactKind>;
  /** Facts that exist but rules cannot read, with why (derived facts are made after the rules). */
  unavailableFacts?: ReadonlyMap<string, string>;
}

function checkRules(file: YamlFile, opts: RuleFileCheckOptions): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const rules = (file.data as { rules: Array<Record<string, unknown>> }).rules;
  if (rules.length === 0) {
    problems.push({
      file: file.file,
      ...file.locate(['rules']),
      message:
        'this rules file has no rules. The profile reads it, so every trigger or exclusion it should hold is missing: ' +
        'records it should stop are sent (and kept in the ODS). Write its rules, or take the file out of the profile\'s rules list.',
    });
  }
  rules.forEach((rule, i) => {
    const ruleId = typeof rule.id === 'string' ? rule.id : undefined;
    for (const { leaf, path } of leafConditions(rule.conditions, ['rules', i, 'conditions'])) {
      if (!knownOperator(leaf.operator)) {
        problems.push({ file: file.file, ...file.locate([...path, 'operator']), ruleId, message: `unknown operator '${leaf.operator}'` });
      } else {
        for (const p of operandProblems(leaf, opts.factKinds ?? new Map())) {
          problems.push({ file: file.file, ...file.locate([...path, p.at]), ruleId, message: p.message });
        }
      }
      if (opts.knownFacts) {
        for (const fact of [leaf.fact, ...valueFacts(leaf.value)]) {
          const unavailable = opts.unavailableFacts?.get(fact);
          if (unavailable) {
            problems.push({ file: file.file, ...file.locate([...path, 'fact']), ruleId, message: `fact '${fact}' ${unavailable}` });
          } else if (!opts.knownFacts.has(fact)) {
            problems.push({
              file: file.file,
              ...file.locate([...path, 'fact']),
              ruleId,
              message: `unknown fact '${fact}' (the source query and connection give: ${[...opts.knownFacts].sort().join(', ')})`,
            });
          }
        }
      }
    }
  });
  return problems;
}

/** Reads and checks one rule file; all problems are thrown together as a ConfigError. */
export function loadRuleFile(absPath: string, displayName: string, opts: RuleFileCheckOptions = {}): RuleDef[] {
  const file = readYamlFile(absPath, displayName);
  const problems = checkAgainstSchema(file, 'rules');
  if (problems.length === 0) problems.push(...checkRules(file, opts));
  if (problems.length > 0) throw new ConfigError(problems);
  const rules = (file.data as { rules: Array<Omit<RuleDef, 'file' | 'line'>> }).rules;
  return rules.map((r, i) => ({ ...r, file: displayName, line: file.locate(['rules', i]).line }));
}
