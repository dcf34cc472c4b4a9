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
  // One pass: this runs for every record.
  const unmet: RuleOutcome[] = [];
  const fired: RuleOutcome[] = [];
  const triggers: string[] = [];
  for (const o of outcomes) {
    if (o.type === 'trigger') {
      triggers.push(o.ruleId);
      if (!o.met) unmet.push(o);
    } else if (o.met) {
      fired.push(o);
    }
  }
  if (unmet.length > 0) return { kind: 'not-triggered', ruleIds: unmet.map((o) => o.ruleId), reasons: unmet.map((o) => o.reason ?? o.ruleId), outcomes };
  if (fired.length > 0) return { kind: 'excluded', ruleIds: fired.map((o) => o.ruleId), reasons: fired.map((o) => o.reason ?? o.ruleId), outcomes };
  return { kind: 'kept', ruleIds: triggers, reasons: [], outcomes };
}
