import { JSONATA_FUNCTIONS } from '../language/catalogue.js';
import {
  append, boolize, BUILT_INS, builtInCaller, emptySequence, sequenceOf, isArrayOfNumbers, isDeepEqual, isNumeric, isSequence, JsonataError,
  lookup, toBoolean, toJsonataString, type Sequence,
} from './jsonata-runtime.js';

// A JSONata expression turned, once, into plain synchronous JavaScript closures. jsonata 2.x evaluates every
// node of an expression through an async function, for every record; a mapping field such as `startDate` or
// `{ "studentUniqueId": stateID }` then costs far more than the lookup it is. The constructs below are compiled
// with jsonata's own semantics restated (paths over sequences, flattening, singleton unwrapping, undefined
// propagation, type errors, function definitions and tail calls, $map/$filter/$reduce/$sort); anything else (regular
// expressions, ^(...) sorting, parent and descendant operators, ranges, transforms, partial application, typed
// function signatures, built-ins not in jsonata-runtime.ts) is reported as not compilable, and the caller keeps that
// expression in JSONata. Computed facts must compile: they run inside
// the synchronous read stage of the planner.

/** A node of jsonata's AST (`jsonata(expr).ast()`). */
export interface AstNode {
  type: string;
  value?: unknown;
  position?: number;
  steps?: AstNode[];
  stages?: AstNode[];
  predicate?: AstNode[];
  expr?: AstNode;
  lhs?: AstNode | AstNode[][];
  rhs?: AstNode;
  expression?: AstNode;
  expressions?: AstNode[];
  condition?: AstNode;
  then?: AstNode;
  else?: AstNode;
  arguments?: AstNode[];
  procedure?: AstNode;
  body?: AstNode;
  [key: string]: unknown;
}

/** The functions an expression may call, made once per connection (`bindingFrame`). */
export type Frame = Readonly<Record<string, unknown>>;

/**
 * Variables of one evaluation, one scope per block as jsonata's frames; the bindings and the root input are carried
 * along, so a function call or `$$` needs no walk up the scopes.
 */
interface Scope {
  vars: Map<string, unknown> | undefined;
  parent: Scope | undefined;
  bindings: Frame;
  root: unknown;
}
type Fn = (input: unknown, scope: Scope) => unknown;

function lookupVariable(scope: Scope, name: string): unknown {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.vars && s.vars.has(name)) return s.vars.get(name);
  }
  if (name === '$') return scope.root;
  return Object.prototype.hasOwnProperty.call(scope.bindings, name) ? scope.bindings[name] : undefined;
}

/** Thrown inside compile when a construct has no compiled form; the message says which. */
export class NotCompilable extends Error {}

/** A compiled expression: evaluate it with the input and a frame of bindings made by `bindingFrame`. */
export interface CompiledExpression {
  evaluate(input: unknown, bindings: Frame): unknown;
}

/** The frame holding the functions an expression may call ($pref, $descriptor, ...): make it once per connection. */
export function bindingFrame(bindings: Record<string, unknown>): Frame {
  return { ...bindings };
}

export interface CompileOptions {
  /** Names of the functions bound at evaluation ($pref, $descriptor, ...): calls to them are compiled. */
  bindings: ReadonlySet<string>;
}

const COMMON_KEYS = ['type', 'value', 'position', 'predicate'];
const NO_SEQUENCE = new Set(['string', 'number', 'value', 'binary']);
const KEYS: Record<string, string[]> = {
  path: ['steps'],
  name: ['stages'],
  string: [], number: [], value: [],
  binary: ['lhs', 'rhs'],
  unary: ['expression', 'expressions', 'lhs', 'consarray'],
  condition: ['condition', 'then', 'else'],
  block: ['expressions'],
  bind: ['lhs', 'rhs'],
  function: ['arguments', 'procedure'],
  variable: ['stages'],
  lambda: ['arguments', 'body', 'thunk'],
};

/** Variables bound anywhere in the expression (`$x := ...`, lambda parameters): such names are not functions. */
function boundNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) boundNames(n, out);
  } else if (node && typeof node === 'object') {
    const n = node as AstNode;
    if (n.type === 'bind' && n.lhs && !Array.isArray(n.lhs)) out.add(String(n.lhs.value));
    if (n.type === 'lambda' && Array.isArray(n.arguments)) for (const a of n.arguments) out.add(String(a.value));
    for (const v of Object.values(n)) if (v && typeof v === 'object') boundNames(v, out);
  }
  return out;
}

/** Compiles a parsed expression, or says why it cannot be. */
export function compileAst(ast: AstNode, opts: CompileOptions): { compiled?: CompiledExpression; reason?: string } {
  try {
    const fn = new Compiler(opts.bindings, boundNames(ast)).node(ast);
    return {
      compiled: {
        evaluate(input: unknown, bindings: Frame): unknown {
          const frame: Scope = { vars: undefined, parent: undefined, bindings, root: input };
          // jsonata wraps a top-level JSON array so that it counts as one input.
          let context = input;
          if (Array.isArray(input) && !isSequence(input)) {
            const wrapped = sequenceOf(input);
            wrapped.outerWrapper = true;
            context = wrapped;
          }
          return fn(context, frame);
        },
      },
    };
  } catch (err) {
    if (err instanceof NotCompilable) return { reason: err.message };
    throw err;
  }
}

function unwrap(result: unknown): unknown {
  if (result && isSequence(result)) {
    if (result.length === 0) return undefined;
    if (result.length === 1) return result.keepSingleton ? result : result[0];
  }
  return result;
}

class Compiler {
  constructor(private readonly bindings: ReadonlySet<string>, private readonly bound: Set<string>) {}

  /** jsonata's evaluate(): the node, its predicates, then a sequence of one is its item and of none nothing. */
  node(n: AstNode): Fn {
    const allowed = KEYS[n.type];
    if (!allowed) throw new NotCompilable(`${describeType(n)} is not compiled`);
    for (const key of Object.keys(n)) {
      if (n[key] === undefined) continue;
      if (!COMMON_KEYS.includes(key) && !allowed.includes(key)) throw new NotCompilable(`'${key}' on ${describeType(n)} is not compiled`);
    }
    let fn = this.bare(n);
    if (n.predicate) {
      const filters = n.predicate.map((p) => this.filterStage(p));
      const inner = fn;
      fn = (input, frame) => {
        let r = inner(input, frame);
        for (const f of filters) r = f(r, frame);
        return r;
      };
    }
    // Literals, operators and constructors never give a sequence: nothing to unwrap.
    if (!n.predicate && (NO_SEQUENCE.has(n.type) || (n.type === 'unary' && n.value !== undefined))) return fn;
    const done = fn;
    return (input, frame) => unwrap(done(input, frame));
  }

  private bare(n: AstNode): Fn {
    switch (n.type) {
      case 'string':
      case 'number':
      case 'value': {
        const v = n.value;
        return () => v;
      }
      case 'name': {
        const key = String(n.value);
        return (input) => lookup(input, key);
      }
      case 'variable':
        return this.variable(n);
      case 'path':
        return this.path(n);
      case 'binary':
        return this.binary(n);
      case 'unary':
        return this.unary(n);
      case 'condition': {
        const cond = this.node(n.condition!);
        const then = this.node(n.then!);
        const otherwise = n.else ? this.node(n.else) : undefined;
        return (input, frame) => (toBoolean(cond(input, frame)) ? then(input, frame) : otherwise ? otherwise(input, frame) : undefined);
      }
      case 'block': {
        const exprs = (n.expressions ?? []).map((e) => this.node(e));
        return (input, frame) => {
          const local: Scope = { vars: undefined, parent: frame, bindings: frame.bindings, root: frame.root };
          let result: unknown;
          for (const e of exprs) result = e(input, local);
          return result;
        };
      }
      case 'bind': {
        const name = String((n.lhs as AstNode).value);
        const rhs = this.node(n.rhs!);
        return (input, frame) => {
          const value = rhs(input, frame);
          (frame.vars ??= new Map()).set(name, value);
          return value;
        };
      }
      case 'function':
        return this.call(n);
      case 'lambda':
        return this.lambda(n);
      default:
        throw new NotCompilable(`${describeType(n)} is not compiled`);
    }
  }

  private variable(n: AstNode): Fn {
    const name = String(n.value);
    if (name === '') return (input) => (input && (input as Sequence).outerWrapper ? (input as unknown[])[0] : input);
    if (!this.bound.has(name) && (this.bindings.has(name) || BUILT_INS[name] !== undefined || name in BUILT_IN_NAMES)) {
      throw new NotCompilable(`the function $${name} used as a value is not compiled`);
    }
    if (n.stages) throw new NotCompilable(`stages on a variable are not compiled`);
    return (_input, frame) => lookupVariable(frame, name);
  }

  private path(n: AstNode): Fn {
    const steps = n.steps!;
    const firstIsVariable = steps[0]!.type === 'variable';
    // An array constructor as the first step is evaluated once on the whole input, not per item.
    const consFirst = Boolean(steps[0]!['consarray']);
    const compiled = steps.map((s) => {
      const stages = (s.stages ?? []).map((st) => this.filterStage(st));
      const stepNode = { ...s };
      delete stepNode.stages;
      return { fn: this.node(stepNode), stages };
    });
    const last = compiled.length - 1;
    // `a.b.c` over objects (most mapping paths): a plain property walk. Any list on the way takes the general path,
    // which maps over it and flattens as jsonata does.
    const names = steps.every((st) => st.type === 'name' && !st.stages && !st.predicate && !st['consarray']) ? steps.map((st) => String(st.value)) : undefined;
    const general = (input: unknown, frame: Scope): unknown => {
      let inputSequence: unknown[] = Array.isArray(input) && !firstIsVariable ? input : sequenceOf(input);
      let result: unknown[] | undefined;
      for (let i = 0; i < compiled.length; i++) {
        result = i === 0 && consFirst ? (compiled[0]!.fn(inputSequence, frame) as unknown[]) : step(compiled[i]!, inputSequence, frame, i === last);
        if (result === undefined || result.length === 0) break;
        inputSequence = result;
      }
      return result;
    };
    if (!names) return general;
    const hasOwn = Object.prototype.hasOwnProperty;
    return (input, frame) => {
      let v = input;
      for (let i = 0; i < names.length; i++) {
        if (Array.isArray(v)) return general(input, frame);
        if (v === null || typeof v !== 'object' || !hasOwn.call(v, names[i]!)) return undefined;
        v = (v as Record<string, unknown>)[names[i]!];
        if (v === undefined) return undefined;
      }
      return v;
    };
  }

  /** A `[...]` stage: an index, or a filter kept where it holds. */
  private filterStage(stage: AstNode): (input: unknown, frame: Scope) => unknown {
    if (stage.type !== 'filter') throw new NotCompilable(`a '${stage.type}' stage is not compiled`);
    const expr = stage.expr!;
    if (expr.type === 'number' && !expr.predicate) {
      const index = Math.floor(expr.value as number);
      return (input) => {
        const list = Array.isArray(input) ? input : sequenceOf(input);
        const at = index < 0 ? list.length + index : index;
        const item = list[at];
        if (item === undefined) return emptySequence();
        if (Array.isArray(item)) return item;
        const results = emptySequence();
        results.push(item);
        return results;
      };
    }
    const predicate = this.node(expr);
    return (input, frame) => {
      const results = emptySequence();
      const list = Array.isArray(input) ? input : sequenceOf(input);
      for (let index = 0; index < list.length; index++) {
        const item = list[index];
        let res = predicate(item, frame);
        if (isNumeric(res)) res = [res];
        if (isArrayOfNumbers(res)) {
          for (const r of res as number[]) {
            let ii = Math.floor(r);
            if (ii < 0) ii = list.length + ii;
            if (ii === index) results.push(item);
          }
        } else if (toBoolean(res)) {
          results.push(item);
        }
      }
      return results;
    };
  }

  private binary(n: AstNode): Fn {
    const op = String(n.value);
    const lhs = this.node(n.lhs as AstNode);
    const rhs = this.node(n.rhs!);
    switch (op) {
      case 'and':
        return (input, frame) => boolize(lhs(input, frame)) && boolize(rhs(input, frame));
      case 'or':
        return (input, frame) => boolize(lhs(input, frame)) || boolize(rhs(input, frame));
      case '+': case '-': case '*': case '/': case '%':
        return (input, frame) => numeric(lhs(input, frame), rhs(input, frame), op);
      case '=':
        return (input, frame) => {
          const l = lhs(input, frame);
          const r = rhs(input, frame);
          return l === undefined || r === undefined ? false : isDeepEqual(l, r);
        };
      case '!=':
        return (input, frame) => {
          const l = lhs(input, frame);
          const r = rhs(input, frame);
          return l === undefined || r === undefined ? false : !isDeepEqual(l, r);
        };
      case '<': case '<=': case '>': case '>=':
        return (input, frame) => compare(lhs(input, frame), rhs(input, frame), op);
      case '&':
        return (input, frame) => {
          const l = lhs(input, frame);
          const r = rhs(input, frame);
          return (l === undefined ? '' : toJsonataString(l)!).concat(r === undefined ? '' : toJsonataString(r)!);
        };
      case 'in':
        return (input, frame) => {
          const l = lhs(input, frame);
          const r = rhs(input, frame);
          if (l === undefined || r === undefined) return false;
          const list = Array.isArray(r) ? r : [r];
          for (const item of list) if (item === l) return true;
          return false;
        };
      default:
        throw new NotCompilable(`the operator '${op}' is not compiled`);
    }
  }

  private unary(n: AstNode): Fn {
    const cons = Boolean(n['consarray']);
    switch (n.value) {
      case '-': {
        const e = this.node(n.expression!);
        return (input, frame) => {
          const v = e(input, frame);
          if (v === undefined) return undefined;
          if (isNumeric(v)) return -v;
          throw new JsonataError('D1002', 'Cannot negate a non-numeric value', v);
        };
      }
      case '[': {
        const items = (n.expressions ?? []).map((e) => ({ fn: this.node(e), keep: e.value === '[' }));
        return (input, frame) => {
          let result: unknown = [];
          for (const item of items) {
            const v = item.fn(input, frame);
            if (v === undefined) continue;
            if (item.keep) (result as unknown[]).push(v);
            else result = append(result, v);
          }
          if (cons) Object.defineProperty(result, 'cons', { enumerable: false, configurable: false, value: true });
          return result;
        };
      }
      case '{': {
        const lhs = n.lhs as AstNode[][];
        const pairs = lhs.map(([k, v]) => ({ key: this.node(k!), value: this.node(v!) }));
        const literalKeys = lhs.map(([k]) => (k!.type === 'string' && !k!.predicate ? String(k!.value) : undefined));
        const distinct = new Set(literalKeys);
        if (literalKeys.every((k) => k !== undefined && k !== '_jsonata_lambda' && k !== '_jsonata_function') && distinct.size === literalKeys.length) {
          // Literal keys over one input object: each value once, in the order jsonata's grouping object gives
          // (integer-like keys first, as Object.keys orders them).
          const order = Object.keys(Object.fromEntries(literalKeys.map((k, i) => [k!, i]))).map((k) => ({ key: k, value: pairs[literalKeys.indexOf(k)]!.value }));
          return (input, frame) => {
            if (Array.isArray(input)) return group(pairs, input, frame);
            // Prototype-less, as jsonata makes it: String() of it throws in a function, as there.
            const result = Object.create(null) as Record<string, unknown>;
            for (const o of order) {
              const value = o.value(input, frame);
              if (value !== undefined) result[o.key] = value;
            }
            return result;
          };
        }
        return (input, frame) => group(pairs, input, frame);
      }
      default:
        throw new NotCompilable(`the unary operator '${String(n.value)}' is not compiled`);
    }
  }

  /**
   * `function($a, $b) { body }`: a JS function with `arity`, whose body runs on the input it was defined on, in a
   * scope of its parameters over the scope it was defined in (jsonata's evaluateLambda / applyProcedure). A tail
   * call the parser marked (`thunk`) is the call itself, without unwrapping its result, as jsonata's trampoline.
   */
  private lambda(n: AstNode): Fn {
    if (n['thunk'] === true) {
      const body = n.body;
      if (!body || body.type !== 'function' || body.predicate) throw new NotCompilable('a tail call that is not a plain function call is not compiled');
      return this.bare(body);
    }
    const params = (n.arguments ?? []).map((a) => String(a.value));
    const body = this.node(n.body!);
    return (input, scope) => {
      const fn = (...args: unknown[]): unknown => {
        const vars = new Map<string, unknown>();
        for (let i = 0; i < params.length; i++) vars.set(params[i]!, args[i]);
        return body(input, { vars, parent: scope, bindings: scope.bindings, root: scope.root });
      };
      (fn as { arity?: number }).arity = params.length;
      return fn;
    };
  }

  private call(n: AstNode): Fn {
    const proc = n.procedure!;
    if (proc.type !== 'variable' || proc.predicate || proc.stages) throw new NotCompilable('a call of a computed function is not compiled');
    const name = String(proc.value);
    const args = (n.arguments ?? []).map((a) => this.node(a));
    if (this.bound.has(name)) {
      if (name in BUILT_IN_NAMES || this.bindings.has(name)) throw new NotCompilable(`$${name} is both assigned and a function name`);
      // A function the expression defines ($f := function(...) {...}), looked up where the call stands.
      return (input, frame) => {
        const fn = lookupVariable(frame, name);
        if (typeof fn !== 'function') throw new JsonataError('T1006', `Attempted to invoke a non-function ($${name})`);
        const values = new Array<unknown>(args.length);
        for (let i = 0; i < args.length; i++) values[i] = args[i]!(input, frame);
        return (fn as (...a: unknown[]) => unknown).apply(input, values);
      };
    }
    if (this.bindings.has(name)) {
      return (input, frame) => {
        const fn = frame.bindings[name];
        if (typeof fn !== 'function') throw new JsonataError('T1006', `Attempted to invoke a non-function ($${name})`);
        const values = new Array<unknown>(args.length);
        for (let i = 0; i < args.length; i++) values[i] = args[i]!(input, frame);
        return (fn as (...a: unknown[]) => unknown).apply(input, values);
      };
    }
    if (BUILT_INS[name]) {
      const call = builtInCaller(name);
      return (input, frame) => {
        const values = new Array<unknown>(args.length);
        for (let i = 0; i < args.length; i++) values[i] = args[i]!(input, frame);
        return call(values, input);
      };
    }
    if (name in BUILT_IN_NAMES) throw new NotCompilable(`$${name} is not compiled`);
    throw new NotCompilable(`$${name} is not a known function`);
  }
}

// Every jsonata built-in (compiled or not): a name of these used as a value is a function.
const BUILT_IN_NAMES: Record<string, true> = Object.create(null) as Record<string, true>;
for (const n of JSONATA_FUNCTIONS) BUILT_IN_NAMES[n] = true;

function describeType(n: AstNode): string {
  const names: Record<string, string> = {
    lambda: 'a function definition', regex: 'a regular expression', sort: 'sorting (^)', wildcard: 'a wildcard (*)',
    descendant: 'a descendant wildcard (**)', parent: 'the parent operator (%)', apply: 'the chain operator (~>)',
    transform: 'a transform (|...|)', partial: 'a partial function application',
  };
  return names[n.type] ?? `a '${n.type}' expression`;
}

/** evaluateStep: every item of the input through the step (and its stages), results flattened. */
function step(s: { fn: Fn; stages: Array<(input: unknown, frame: Scope) => unknown> }, input: unknown[], frame: Scope, lastStep: boolean): unknown[] {
  const result = emptySequence();
  for (let i = 0; i < input.length; i++) {
    let res = s.fn(input[i], frame);
    for (const st of s.stages) res = st(res, frame);
    if (res !== undefined) result.push(res);
  }
  if (lastStep && result.length === 1 && Array.isArray(result[0]) && !isSequence(result[0])) return result[0] as unknown[];
  const out = emptySequence();
  for (const res of result) {
    if (!Array.isArray(res) || (res as Sequence).cons) out.push(res);
    else for (const v of res) out.push(v);
  }
  return out;
}

function numeric(lhs: unknown, rhs: unknown, op: string): number | undefined {
  if (lhs !== undefined && !isNumeric(lhs)) throw new JsonataError('T2001', `The left side of the "${op}" operator must evaluate to a number`, lhs);
  if (rhs !== undefined && !isNumeric(rhs)) throw new JsonataError('T2002', `The right side of the "${op}" operator must evaluate to a number`, rhs);
  if (lhs === undefined || rhs === undefined) return undefined;
  switch (op) {
    case '+': return lhs + rhs;
    case '-': return lhs - rhs;
    case '*': return lhs * rhs;
    case '/': return lhs / rhs;
    default: return lhs % rhs;
  }
}

function compare(lhs: unknown, rhs: unknown, op: string): boolean | undefined {
  const ltype = typeof lhs;
  const rtype = typeof rhs;
  const lok = ltype === 'undefined' || ltype === 'string' || ltype === 'number';
  const rok = rtype === 'undefined' || rtype === 'string' || rtype === 'number';
  if (!lok || !rok) throw new JsonataError('T2010', `The expressions either side of operator "${op}" must evaluate to numeric or string values`, !(ltype === 'string' || ltype === 'number') ? lhs : rhs);
  if (ltype === 'undefined' || rtype === 'undefined') return undefined;
  if (ltype !== rtype) throw new JsonataError('T2009', `The values either side of operator "${op}" must be of the same data type`, lhs);
  const l = lhs as string | number;
  const r = rhs as string | number;
  switch (op) {
    case '<': return l < r;
    case '<=': return l <= r;
    case '>': return l > r;
    default: return l >= r;
  }
}

/** evaluateGroupExpression: an object constructor over the input (one item, unless the input is a list). */
function group(pairs: Array<{ key: Fn; value: Fn }>, input: unknown, frame: Scope): Record<string, unknown> {
  let items: unknown[] = Array.isArray(input) ? input : sequenceOf(input);
  if (items.length === 0) items = [undefined];
  const groups = Object.create(null) as Record<string, { data: unknown; exprIndex: number }>;
  for (const item of items) {
    for (let p = 0; p < pairs.length; p++) {
      const key = pairs[p]!.key(item, frame);
      if (typeof key !== 'string' && key !== undefined) throw new JsonataError('T1003', 'Key in object structure must evaluate to a string', key);
      if (key === undefined) continue;
      if (key === '_jsonata_lambda' || key === '_jsonata_function') throw new JsonataError('D1013', 'An object constructor prevents assignment of this key', key);
      const existing = groups[key];
      if (existing) {
        if (existing.exprIndex !== p) throw new JsonataError('D1009', 'Multiple key definitions evaluate to same key', key);
        existing.data = append(existing.data, item);
      } else {
        groups[key] = { data: item, exprIndex: p };
      }
    }
  }
  const result = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(groups)) {
    const entry = groups[key]!;
    const value = pairs[entry.exprIndex]!.value(entry.data, frame);
    if (value !== undefined) result[key] = value;
  }
  return result;
}
