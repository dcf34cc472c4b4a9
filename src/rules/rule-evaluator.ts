import type { Decision, JsonObject } from '../types.js';
import { CompiledRules } from './compiled-rules.js';
import type { RuleTrace } from './decision.js';
import type { RuleDef } from './rule-file.js';

export type { EvaluatedCondition, RuleTrace } from './decision.js';

/**
 * A profile's trigger and exclusion rules for one record at a time, as the planner and `explain` have used them:
 * now backed by the compiled rules (synchronous, no engine per record). New code calls CompiledRules directly.
 */
export class RuleEvaluator {
  readonly compiled: CompiledRules;

  constructor(readonly rules: RuleDef[]) {
    this.compiled = new CompiledRules(rules);
  }

  evaluate(facts: JsonObject, withTrace = false): Promise<{ decision: Decision; trace?: RuleTrace[] }> {
    try {
      return Promise.resolve(withTrace ? this.compiled.explain(facts) : { decision: this.compiled.decide(facts) });
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}
