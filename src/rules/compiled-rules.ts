import { Almanac, Engine, type Operator } from 'json-rules-engine';
import type { Decision, JsonObject, RuleOutcome } from '../types.js';
import { decisionOf, type EvaluatedCondition, type RuleTrace } from './decision.js';
import { customOperators, operatorFunction, type OperatorFn } from './operators.js';
import type { RuleDef } from './rule-file.js';

// Rule files are json-rules-engine documents. Interpreting them per record costs the engine a deep clone of every
// rule's conditions, a hash of the facts and a chain of promises; here each rule becomes, once, a synchronous
// function with the engine's semantics restated (json-rules-engine v7 rule.js, condition.js, almanac.js):
//  - all / any: conditions are grouped by priority (a condition's own `priority`, else 1), highest first; every
//    condition of a group is evaluated, and a later group only when the earlier ones did not decide;
//  - a list of one condition passes that condition's raw result through; groups count only results `=== true`;
//  - a nested all/any/not passes when its result is `=== true`; `not` negates its one condition;
//  - a fact is the record's own property (a missing one is undefined: allowUndefinedFacts); with `path`, an object
//    fact is read through the engine's own path resolver (JSONPath); a value `{ fact, path }` is resolved alike;
//  - operators and decorators as in operators.ts.
// A construct without a compiled form (an operator only the engine knows) is evaluated for that rule through the
// engine's own operator object, still synchronously, and `interpreted` says which rule and why (`validate` prints it).

type Trace = Array<{ factValue: unknown; value: unknown; result: unknown } | undefined>;
type Node = (facts: JsonObject, trace: Trace | undefined) => unknown;

interface Leaf {
  fact: string;
  operator: string;
  rawValue: unknown;
}

export interface InterpretedRule {
  ruleId: string;
  file: string;
  line?: number;
  reason: string;
}

const hasOwn = Object.prototype.hasOwnProperty;
const pathResolver = (new Almanac() as unknown as { pathResolver: (value: object, path: string) => unknown }).pathResolver;

function booleanOperator(node: Record<string, unknown>): 'any' | 'all' | 'not' | undefined {
  if (hasOwn.call(node, 'any')) return 'any';
  if (hasOwn.call(node, 'all')) return 'all';
  if (hasOwn.call(node, 'not')) return 'not';
  return undefined;
}

/** Condition.priority as the engine computes it: parseInt, and 1 (the fact's default) when that is falsy. */
function priorityOf(node: Record<string, unknown>): number {
  return parseInt(String(node.priority), 10) || 1;
}

/** almanac.factValue for constant facts: own property, then `path` for an object value. */
function factReader(name: string, path: unknown): (facts: JsonObject) => unknown {
  if (typeof path === 'string' && path !== '') {
    return (facts) => {
      const v = hasOwn.call(facts, name) ? facts[name] : undefined;
      return v !== null && typeof v === 'object' ? pathResolver(v, path) : v;
    };
  }
  return (facts) => (hasOwn.call(facts, name) ? facts[name] : undefined);
}

/** almanac.getValue: `{ fact: x }` (with its own path) is that fact's value, anything else is itself. */
function valueReader(value: unknown): (facts: JsonObject) => unknown {
  if (value !== null && value !== undefined && typeof value === 'object' && hasOwn.call(value, 'fact')) {
    const ref = value as { fact: string; path?: unknown };
    return factReader(ref.fact, ref.path);
  }
  return () => value;
}

export class CompiledRules {
  /** Rules evaluated in part through json-rules-engine's objects, and why. Empty for every shipped profile. */
  readonly interpreted: InterpretedRule[] = [];
  private readonly compiled: Array<{ def: RuleDef; run: Node; leaves: Leaf[] }>;
  private fallbackEngine: Engine | undefined;

  constructor(readonly rules: RuleDef[], private readonly engineOperators: Operator[] = []) {
    this.compiled = rules.map((def) => {
      const leaves: Leaf[] = [];
      const why = new Set<string>();
      const run = this.compileTop(def.conditions as unknown as Record<string, unknown>, leaves, why, def);
      if (why.size > 0) this.interpreted.push({ ruleId: def.id, file: def.file, line: def.line, reason: [...why].join('; ') });
      return { def, run, leaves };
    });
  }

  /** Kept, excluded or not triggered, with the deciding rules: the same Decision json-rules-engine gives. */
  decide(facts: JsonObject): Decision {
    const outcomes: RuleOutcome[] = new Array(this.compiled.length);
    for (let i = 0; i < this.compiled.length; i++) {
      const { def, run } = this.compiled[i]!;
      outcomes[i] = { ruleId: def.id, type: def.event.type, met: Boolean(run(facts, undefined)), reason: def.event.params.reason };
    }
    return decisionOf(outcomes);
  }

  /** The decision and, per rule, every condition with the values it compared (unevaluated ones as written). */
  explain(facts: JsonObject): { decision: Decision; trace: RuleTrace[] } {
    const trace: RuleTrace[] = this.compiled.map(({ def, run, leaves }) => {
      const seen: Trace = new Array(leaves.length);
      const met = Boolean(run(facts, seen));
      const conditions: EvaluatedCondition[] = leaves.map((leaf, i) => {
        const s = seen[i];
        return {
          fact: leaf.fact,
          operator: leaf.operator,
          value: s && s.value !== undefined ? s.value : leaf.rawValue,
          factValue: s?.factValue,
          result: s?.result === true,
        };
      });
      return { ruleId: def.id, type: def.event.type, met, reason: def.event.params.reason, conditions };
    });
    return { decision: decisionOf(trace.map(({ conditions: _c, ...o }) => o)), trace };
  }

  private compileTop(node: Record<string, unknown>, leaves: Leaf[], why: Set<string>, def: RuleDef): Node {
    const op = booleanOperator(node);
    if (!op) throw new Error(`rule ${def.id} (${def.file}:${def.line ?? '?'}): conditions must start with all, any or not`);
    // At the top, the engine hands the rule the raw result of all/any/not.
    if (op === 'not') {
      const inner = this.compileCondition(node.not as Record<string, unknown>, leaves, why, def);
      return (f, t) => !inner(f, t);
    }
    return this.compileList(node[op] as Array<Record<string, unknown>>, op, leaves, why, def);
  }

  private compileList(list: Array<Record<string, unknown>>, op: 'all' | 'any', leaves: Leaf[], why: Set<string>, def: RuleDef): Node {
    if (!Array.isArray(list)) throw new Error(`rule ${def.id}: "${op}" must be a list`);
    if (list.length === 0) return () => true;
    const compiled = list.map((c) => ({ priority: priorityOf(c), run: this.compileCondition(c, leaves, why, def) }));
    if (compiled.length === 1) return compiled[0]!.run;
    const byPriority = new Map<number, Node[]>();
    for (const c of compiled) {
      const set = byPriority.get(c.priority);
      if (set) set.push(c.run);
      else byPriority.set(c.priority, [c.run]);
    }
    const sets = [...byPriority.entries()].sort((a, b) => b[0] - a[0]).map(([, s]) => s);
    if (op === 'all') {
      return (f, t) => {
        for (const set of sets) {
          let every = true;
          for (const c of set) if (c(f, t) !== true) every = false;
          if (!every) return false;
        }
        return true;
      };
    }
    return (f, t) => {
      for (const set of sets) {
        let some = false;
        for (const c of set) if (c(f, t) === true) some = true;
        if (some) return true;
      }
      return false;
    };
  }

  private compileCondition(node: Record<string, unknown>, leaves: Leaf[], why: Set<string>, def: RuleDef): Node {
    if (node === null || typeof node !== 'object') throw new Error(`rule ${def.id}: a condition must be an object`);
    const op = booleanOperator(node);
    if (op === 'not') {
      const inner = this.compileCondition(node.not as Record<string, unknown>, leaves, why, def);
      return (f, t) => !inner(f, t);
    }
    if (op) {
      const inner = this.compileList(node[op] as Array<Record<string, unknown>>, op, leaves, why, def);
      return (f, t) => inner(f, t) === true;
    }
    if (hasOwn.call(node, 'condition')) {
      throw new Error(`rule ${def.id} (${def.file}:${def.line ?? '?'}): shared condition references are not supported`);
    }
    return this.compileLeaf(node, leaves, why);
  }

  private compileLeaf(node: Record<string, unknown>, leaves: Leaf[], why: Set<string>): Node {
    const index = leaves.length;
    const operator = String(node.operator);
    leaves.push({ fact: String(node.fact), operator, rawValue: node.value });
    const readFact = factReader(String(node.fact), node.path);
    const readValue = valueReader(node.value);
    let fn: OperatorFn | undefined = operatorFunction(operator);
    if (!fn) {
      const engineOp = this.engineOperator(operator);
      if (engineOp) {
        why.add(`operator '${operator}' has no compiled form: json-rules-engine's own operator evaluates it`);
        fn = (a, b) => engineOp.evaluate(a, b);
      } else {
        // The engine rejects the whole run on an unknown operator; so does the compiled rule (validate reports it first).
        fn = () => {
          throw new Error(`Unknown operator: ${operator}`);
        };
      }
    }
    const evaluate = fn;
    return (facts, trace) => {
      const value = readValue(facts);
      const factValue = readFact(facts);
      const result = evaluate(factValue, value);
      if (trace) trace[index] = { factValue, value, result };
      return result;
    };
  }

  private engineOperator(name: string): { evaluate(fact: unknown, value: unknown): boolean } | undefined {
    if (!this.fallbackEngine) {
      this.fallbackEngine = new Engine([], { allowUndefinedFacts: true });
      for (const op of [...customOperators(), ...this.engineOperators]) this.fallbackEngine.addOperator(op);
    }
    // OperatorMap.get builds decorated operators too; Operator.evaluate (validator, then callback) is synchronous.
    const map = (this.fallbackEngine as unknown as { operators: { get(n: string): { evaluate(fact: unknown, value: unknown): boolean } | null } }).operators;
    return map.get(name) ?? undefined;
  }
}
