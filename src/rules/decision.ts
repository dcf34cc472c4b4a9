import type { Decision, RuleOutcome } from '../types.js';

/** A condition as it was evaluated: what an analyst reads in `explain`. */
export interface EvaluatedCondition {
  fact: string;
  operator: string;
  /** The value compared against, a `{fact: ...}` value shown as what it resolved to. */
  value: unknown;
  factValue: unknown;
  result: boolean;
}

export interface RuleTrace extends RuleOutcome {
  conditions: EvaluatedCondition[];
}

/**
 * The decision from every rule's outcome (in rule-file order): a record is sent when every trigger rule is met
 * and no exclusion rule is; the rules that stopped it, or for a kept record every trigger, are named.
 */
export function decisionOf(outcomes: RuleOutcome[]): Decision {
  const unmetTriggers = outcomes.filter((o) => o.type === 'trigger' && !o.met);
  const firedExclusions = outcomes.filter((o) => o.type === 'exclude' && o.met);
  if (unmetTriggers.length > 0) {
    return { kind: 'not-triggered', ruleIds: unmetTriggers.map((o) => o.ruleId), reasons: unmetTriggers.map((o) => o.reason ?? o.ruleId), outcomes };
  }
  if (firedExclusions.length > 0) {
    return { kind: 'excluded', ruleIds: firedExclusions.map((o) => o.ruleId), reasons: firedExclusions.map((o) => o.reason ?? o.ruleId), outcomes };
  }
  return { kind: 'kept', ruleIds: outcomes.filter((o) => o.type === 'trigger').map((o) => o.ruleId), reasons: [], outcomes };
}
