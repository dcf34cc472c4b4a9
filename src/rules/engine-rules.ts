import { Engine, type Operator, type RuleResult } from 'json-rules-engine';
import type { Decision, JsonObject } from '../types.js';
import { decisionOf, type EvaluatedCondition, type RuleTrace } from './decision.js';
import { customOperators } from './operators.js';
import type { RuleDef } from './rule-file.js';

function collectConditions(node: unknown, out: EvaluatedCondition[]): void {
  if (!node || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  for (const key of ['all', 'any']) if (Array.isArray(n[key])) (n[key] as unknown[]).forEach((c) => collectConditions(c, out));
  if (n.not) collectConditions(n.not, out);
  if (typeof n.fact === 'string') {
    out.push({
      fact: n.fact,
      operator: String(n.operator),
      // A value that names a fact ({fact: configuredYear}) is shown as what it resolved to.
      value: n.valueResult !== undefined ? n.valueResult : n.value,
      factValue: n.factResult,
      result: n.result === true,
    });
  }
}

/**
 * A profile's rules run by json-rules-engine itself: the reference the compiled rules (compiled-rules.ts) are
 * proved against, and what `explain` showed before rules were compiled. Slow per record (the engine clones every
 * rule's conditions and hashes the facts on each run); the planner uses CompiledRules.
 */
export class InterpretedRules {
  readonly engine: Engine;
  private readonly byId: Map<string, RuleDef>;
  private readonly order: Map<string, number>;
  /** Runs one record at a time: json-rules-engine keeps each run's condition results on shared objects. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly rules: RuleDef[], extraOperators: Operator[] = []) {
    this.engine = new Engine([], { allowUndefinedFacts: true });
    for (const op of [...customOperators(), ...extraOperators]) this.engine.addOperator(op);
    this.byId = new Map(rules.map((r) => [r.id, r]));
    this.order = new Map(rules.map((r, i) => [r.id, i]));
    for (const r of rules) {
      this.engine.addRule({ name: r.id, priority: r.priority ?? 1, conditions: r.conditions, event: r.event });
    }
  }

  evaluate(facts: JsonObject, withTrace = false): Promise<{ decision: Decision; trace?: RuleTrace[] }> {
    const run = this.queue.then(() => this.evaluateNow(facts, withTrace));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async evaluateNow(facts: JsonObject, withTrace: boolean): Promise<{ decision: Decision; trace?: RuleTrace[] }> {
    const { results, failureResults } = await this.engine.run(facts);
    const outcomes: RuleTrace[] = [];
    const record = (res: RuleResult, met: boolean): void => {
      const def = this.byId.get(String(res.name));
      if (!def) return;
      const conditions: EvaluatedCondition[] = [];
      if (withTrace) collectConditions(res.conditions, conditions);
      outcomes.push({ ruleId: def.id, type: def.event.type, met, reason: def.event.params.reason, conditions });
    };
    for (const r of results) record(r, true);
    for (const r of failureResults) record(r, false);
    // Rule order in the files is the order an analyst reads; keep it in the decision.
    outcomes.sort((a, b) => (this.order.get(a.ruleId) ?? 0) - (this.order.get(b.ruleId) ?? 0));
    const decision = decisionOf(outcomes.map(({ conditions: _c, ...o }) => o));
    return withTrace ? { decision, trace: outcomes } : { decision };
  }
}
