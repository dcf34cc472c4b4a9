import { Engine, type RuleResult } from 'json-rules-engine';
import type { Decision, JsonObject, RuleOutcome } from '../types.js';
import { customOperators } from './operators.js';
import type { RuleDef } from './rule-file.js';

/** A condition as it was evaluated: what an analyst reads in `explain`. */
export interface EvaluatedCondition {
  fact: string;
  operator: string;
  value: unknown;
  factValue: unknown;
  result: boolean;
}

export interface RuleTrace extends RuleOutcome {
  conditions: EvaluatedCondition[];
}

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
 * Runs a profile's trigger and exclusion rules on one record's facts. The engine is built once and reused:
 * building it per record costs more than evaluating it.
 */
export class RuleEvaluator {
  private readonly engine: Engine;
  private readonly byId: Map<string, RuleDef>;

  constructor(readonly rules: RuleDef[]) {
    this.engine = new Engine([], { allowUndefinedFacts: true });
    for (const op of customOperators()) this.engine.addOperator(op);
    this.byId = new Map(rules.map((r) => [r.id, r]));
    for (const r of rules) {
      this.engine.addRule({ name: r.id, priority: r.priority ?? 1, conditions: r.conditions, event: r.event });
    }
  }

  /** Runs one record at a time: json-rules-engine keeps each run's condition results on the shared rule objects. */
  private queue: Promise<unknown> = Promise.resolve();

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
    const order = new Map(this.rules.map((r, i) => [r.id, i]));
    outcomes.sort((a, b) => (order.get(a.ruleId) ?? 0) - (order.get(b.ruleId) ?? 0));

    const unmetTriggers = outcomes.filter((o) => o.type === 'trigger' && !o.met);
    const firedExclusions = outcomes.filter((o) => o.type === 'exclude' && o.met);
    let decision: Decision;
    const plain = outcomes.map(({ conditions: _c, ...o }) => o);
    if (unmetTriggers.length > 0) {
      decision = { kind: 'not-triggered', ruleIds: unmetTriggers.map((o) => o.ruleId), reasons: unmetTriggers.map((o) => o.reason ?? o.ruleId), outcomes: plain };
    } else if (firedExclusions.length > 0) {
      decision = { kind: 'excluded', ruleIds: firedExclusions.map((o) => o.ruleId), reasons: firedExclusions.map((o) => o.reason ?? o.ruleId), outcomes: plain };
    } else {
      const triggers = outcomes.filter((o) => o.type === 'trigger').map((o) => o.ruleId);
      decision = { kind: 'kept', ruleIds: triggers, reasons: [], outcomes: plain };
    }
    return withTrace ? { decision, trace: outcomes } : { decision };
  }
}
