import { JSONATA_FUNCTIONS, NON_DETERMINISTIC_FUNCTIONS } from '../language/catalogue.js';
import type { AstNode } from './jsonata-compile.js';

// Static checks of one parsed JSONata expression (mapping field or computed fact) against the facts it may read:
// a name at the top of the record (a fact) that the source query, the connection, the derived or the computed facts
// do not give; `connection.x` where the connection query has no x; a call of a function that is neither JSONata's
// nor ours; a variable never assigned; a function whose answer changes from run to run. Names read inside a JSON
// column (`latestCertification.passed`), inside a filter (`ctePrograms[start > ...]`) or through a variable are not
// facts and are not checked.

export interface ExpressionScope {
  /** Facts readable at the top of the record, with what each is (for messages). */
  facts: ReadonlyMap<string, string>;
  /** Facts that exist but cannot be read here, with why (e.g. a derived fact in a rule or computed fact). */
  unavailable?: ReadonlyMap<string, string>;
  /** Properties of `connection`. */
  connectionFacts: ReadonlySet<string>;
  /** Functions bound by the engine ($pref, ...). */
  bindings: ReadonlySet<string>;
}

export interface ExpressionProblem {
  /** Character offset in the expression where the problem starts. */
  position: number;
  message: string;
}

/** Where a path's first step is evaluated: on the record's facts, or on something else (an item, a variable). */
type Context = 'record' | 'other';

function start(node: AstNode, token: string): number {
  return Math.max(0, (node.position ?? 0) - token.length);
}

function boundVariables(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) boundVariables(n, out);
  } else if (node && typeof node === 'object') {
    const n = node as AstNode;
    if (n.type === 'bind' && n.lhs && !Array.isArray(n.lhs)) out.add(String(n.lhs.value));
    if (n.type === 'lambda' && Array.isArray(n.arguments)) for (const a of n.arguments) out.add(String(a.value));
    // Tuple-stream bindings: a@$x (focus), a#$i (index).
    if (typeof n['focus'] === 'string') out.add(n['focus']);
    if (typeof n['index'] === 'string') out.add(n['index']);
    for (const v of Object.values(n)) if (v && typeof v === 'object') boundVariables(v, out);
  }
  return out;
}

/** Every facts a JSONata expression reads at the top of the record (for dependency order and cycles). */
export function readFacts(ast: AstNode): Set<string> {
  const out = new Set<string>();
  walk(ast, 'record', {
    onFact: (name) => out.add(name),
    onConnection: () => undefined,
    onFunction: () => undefined,
    onVariable: () => undefined,
  });
  return out;
}

interface Visitor {
  onFact(name: string, node: AstNode): void;
  onConnection(name: string, node: AstNode): void;
  onFunction(name: string, node: AstNode): void;
  onVariable(name: string, node: AstNode): void;
}

export function checkExpression(ast: AstNode, scope: ExpressionScope): ExpressionProblem[] {
  const problems: ExpressionProblem[] = [];
  const bound = boundVariables(ast);
  const known = [...scope.facts.keys()].sort();
  walk(ast, 'record', {
    onFact(name, node) {
      if (scope.facts.has(name)) return;
      const why = scope.unavailable?.get(name);
      problems.push({
        position: start(node, name),
        message: why ? `'${name}' ${why}` : `unknown fact '${name}': not a column of the source query, nor a connection, derived or computed fact (known: ${known.join(', ')})`,
      });
    },
    onConnection(name, node) {
      if (scope.connectionFacts.has(name)) return;
      problems.push({ position: start(node, name), message: `unknown connection fact 'connection.${name}' (the connection gives: ${[...scope.connectionFacts].sort().join(', ')})` });
    },
    onFunction(name, node) {
      if (bound.has(name)) return;
      if (NON_DETERMINISTIC_FUNCTIONS.includes(name)) {
        problems.push({ position: start(node, name), message: `$${name}() gives a different answer on every run, so the record would change every night: use dates from the snapshot ($daysBetween, $addDays, ...)` });
        return;
      }
      if (scope.bindings.has(name) || JSONATA_FUNCTIONS.includes(name)) return;
      problems.push({ position: start(node, name), message: `unknown function $${name} (ours: ${[...scope.bindings].sort().map((b) => '$' + b).join(', ')}; and JSONata's own)` });
    },
    onVariable(name, node) {
      if (name === '' || name === '$' || bound.has(name) || scope.bindings.has(name) || JSONATA_FUNCTIONS.includes(name)) return;
      problems.push({ position: start(node, name), message: `variable $${name} is never assigned in this expression` });
    },
  });
  return problems;
}

function walk(node: unknown, ctx: Context, v: Visitor): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, ctx, v);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const n = node as AstNode;
  // Filters on any node are evaluated on its items.
  for (const p of n.predicate ?? []) walk(p.expr, 'other', v);
  switch (n.type) {
    case 'path':
      walkPath(n, ctx, v);
      return;
    case 'name':
      // A bare name outside a path (does not occur after parsing, kept for safety).
      if (ctx === 'record') v.onFact(String(n.value), n);
      for (const s of n.stages ?? []) walk(s.expr, 'other', v);
      return;
    case 'variable':
      v.onVariable(String(n.value), n);
      for (const s of n.stages ?? []) walk(s.expr, 'other', v);
      return;
    case 'function':
    case 'partial':
      if (n.procedure?.type === 'variable') v.onFunction(String(n.procedure.value), n.procedure);
      else walk(n.procedure, ctx, v);
      walk(n.arguments, ctx, v);
      return;
    case 'lambda':
      // The body runs on the input the function was defined on.
      walk(n.body, ctx, v);
      return;
    case 'unary':
      if (n.value === '{') {
        for (const [k, val] of (n.lhs as AstNode[][]) ?? []) {
          walk(k, ctx, v);
          walk(val, ctx, v);
        }
      } else {
        walk(n.expression, ctx, v);
        walk(n.expressions, ctx, v);
      }
      return;
    case 'binary':
    case 'apply':
      walk(n.lhs, ctx, v);
      walk(n.rhs, ctx, v);
      return;
    case 'bind':
      walk(n.rhs, ctx, v);
      return;
    case 'condition':
      walk(n.condition, ctx, v);
      walk(n.then, ctx, v);
      walk(n.else, ctx, v);
      return;
    case 'block':
      walk(n.expressions, ctx, v);
      return;
    case 'sort':
      for (const t of (n['terms'] as Array<{ expression: AstNode }> | undefined) ?? []) walk(t.expression, 'other', v);
      return;
    case 'transform':
      walk(n['pattern'], 'other', v);
      walk(n['update'], 'other', v);
      walk(n['delete'], 'other', v);
      return;
    default:
      return;
  }
}

function walkPath(n: AstNode, ctx: Context, v: Visitor): void {
  const steps = n.steps ?? [];
  // `$.x` reads x where the path stands; `$$.x` reads it on the record; `$var.x` on the variable's value.
  let stepCtx: Context = ctx;
  steps.forEach((s, i) => {
    if (s.type === 'name') {
      const name = String(s.value);
      if (stepCtx === 'record') {
        if (name === 'connection' && steps[i + 1]?.type === 'name') {
          v.onFact(name, s);
          v.onConnection(String(steps[i + 1]!.value), steps[i + 1]!);
        } else {
          v.onFact(name, s);
        }
      }
      for (const st of s.stages ?? []) walk(st.expr, 'other', v);
      for (const p of s.predicate ?? []) walk(p.expr, 'other', v);
      stepCtx = 'other';
      return;
    }
    if (s.type === 'variable') {
      v.onVariable(String(s.value), s);
      for (const st of s.stages ?? []) walk(st.expr, 'other', v);
      for (const p of s.predicate ?? []) walk(p.expr, 'other', v);
      stepCtx = s.value === '' ? stepCtx : s.value === '$' ? 'record' : 'other';
      return;
    }
    walk(s, stepCtx, v);
    for (const st of s.stages ?? []) walk(st.expr, 'other', v);
    stepCtx = 'other';
  });
  if (n['group']) {
    const g = n['group'] as AstNode;
    for (const [k, val] of (g.lhs as AstNode[][]) ?? []) {
      walk(k, 'other', v);
      walk(val, 'other', v);
    }
  }
}
