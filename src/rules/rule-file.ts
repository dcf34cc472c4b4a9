import type { TopLevelCondition } from 'json-rules-engine';
import { ConfigError, type LocatedProblem } from '../util/errors.js';
import { checkAgainstSchema } from '../util/file-schema.js';
import { readYamlFile, type PathSegment, type YamlFile } from '../util/yaml-file.js';
import { knownOperator } from './operators.js';

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
}

function checkRules(file: YamlFile, opts: RuleFileCheckOptions): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const rules = (file.data as { rules: Array<Record<string, unknown>> }).rules;
  rules.forEach((rule, i) => {
    const ruleId = typeof rule.id === 'string' ? rule.id : undefined;
    for (const { leaf, path } of leafConditions(rule.conditions, ['rules', i, 'conditions'])) {
      if (!knownOperator(leaf.operator)) {
        problems.push({ file: file.file, ...file.locate([...path, 'operator']), ruleId, message: `unknown operator '${leaf.operator}'` });
      }
      if (opts.knownFacts) {
        for (const fact of [leaf.fact, ...valueFacts(leaf.value)]) {
          if (!opts.knownFacts.has(fact)) {
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
