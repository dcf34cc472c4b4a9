import jsonata from 'jsonata';
import { mappingBindings, BINDING_NAMES, type MappingContext, type PreferenceTable } from '../mapping/functions.js';
import { checkExpression, readFacts } from '../mapping/expression-check.js';
import { bindingFrame, compileAst, type AstNode, type CompiledExpression, type Frame } from '../mapping/jsonata-compile.js';
import { lineOfPosition } from '../mapping/mapping-file.js';
import { plainValue } from '../mapping/mapper.js';
import type { Json, JsonObject } from '../types.js';
import type { LocatedProblem } from '../util/errors.js';
import type { YamlFile } from '../util/yaml-file.js';
import type { ComputedFactDef } from './profile-def.js';

// Computed facts: the profile's `facts:` section. Each is a JSONata expression over one record's facts (the source
// query's columns), `connection` and `configuredYear`, and may use the computed facts before it. They are evaluated
// for every record as it is read, before the rules, so rules and mappings use them like columns. They run in the
// planner's synchronous read stage, so each must compile to plain functions (src/mapping/jsonata-compile.ts):
// `validate` says what does not.

/** What a computed fact may read besides the record: the connection's Resource Preferences and namespaces. */
export interface FactContext {
  preferences: PreferenceTable;
  descriptorNamespaces?: Record<string, string>;
}

/** A computed fact that failed on a record: names the profile file, line, fact id and fact. */
export class ComputedFactError extends Error {
  /** A snapshot value the expression cannot handle: the documented exit code for input problems. */
  readonly exitCode = 4;
  constructor(readonly def: CompiledFact, failure: unknown) {
    super(`${def.file}:${def.line ?? '?'} [${def.id}] computed fact '${def.fact}': ${(failure as Error)?.message ?? String(failure)}`);
    this.name = 'ComputedFactError';
  }
}

export interface CompiledFact extends ComputedFactDef {
  file: string;
  line?: number;
  run: CompiledExpression;
  /** Computed facts this one reads. */
  reads: string[];
}

export interface ComputedFactScope {
  /** The source query's columns. */
  columns: readonly string[];
  /** Properties of `connection`. */
  connectionFacts: ReadonlySet<string>;
  /** Derived facts (made after the rules): computed facts cannot read them. */
  derivedFacts: readonly string[];
}

/**
 * The profile's computed facts, checked and compiled, in evaluation order. `apply` is the planner's hook:
 * `profile.computedFacts.apply(facts, connection)` after a row becomes facts and before the rules.
 */
export class ComputedFacts {
  /** In evaluation order (a fact after the facts it reads). */
  readonly facts: CompiledFact[];
  readonly names: string[];
  /** Some fact calls $pref: the caller passes the connection's preferences, and a record's fingerprint must include them. */
  readonly usesPreferences: boolean;
  private readonly frames = new WeakMap<JsonObject, { context: FactContext | undefined; frame: Frame }>();

  constructor(facts: CompiledFact[], usesPreferences: boolean) {
    this.facts = facts;
    this.names = facts.map((f) => f.fact);
    this.usesPreferences = usesPreferences;
  }

  /** No computed facts. */
  static none(): ComputedFacts {
    return new ComputedFacts([], false);
  }

  /**
   * Adds every computed fact to `facts` (the record's columns, changed in place and returned). `connection` is the
   * connection's facts as the rules see them (with yearStart and yearEnd); `context` its Resource Preferences.
   * A fact whose expression gives nothing is left out, as a missing column would be.
   */
  apply(facts: JsonObject, connection: JsonObject, context?: FactContext): JsonObject {
    if (this.facts.length === 0) return facts;
    const frame = this.frameFor(connection, context);
    const input: JsonObject = { ...facts, connection, configuredYear: { start: connection.yearStart ?? null, end: connection.yearEnd ?? null } };
    for (const f of this.facts) {
      let value: Json | undefined;
      try {
        value = cleanFact(f.run.evaluate(input, frame));
      } catch (err) {
        throw new ComputedFactError(f, err);
      }
      if (value === undefined) {
        delete input[f.fact];
        continue;
      }
      input[f.fact] = value;
      facts[f.fact] = value;
    }
    return facts;
  }

  private frameFor(connection: JsonObject, context: FactContext | undefined): Frame {
    const cached = this.frames.get(connection);
    if (cached && cached.context === context) return cached.frame;
    const ctx: MappingContext = {
      preferences: context?.preferences ?? new Map(),
      descriptorNamespaces: context?.descriptorNamespaces ?? { default: 'uri://ed-fi.org' },
      yearStart: String(connection.yearStart ?? ''),
      yearEnd: String(connection.yearEnd ?? ''),
    };
    const bindings = { ...mappingBindings(ctx) };
    if (!context && this.usesPreferences) {
      bindings.pref = () => {
        throw new Error('this computed fact reads Resource Preferences ($pref): the caller must pass the connection\'s preferences to computedFacts.apply');
      };
    }
    const frame = bindingFrame(bindings);
    this.frames.set(connection, { context, frame });
    return frame;
  }
}

/** A fact value as rules see it: plain JSON, nulls kept (a NULL column is null too). */
function cleanFact(value: unknown): Json | undefined {
  return plainValue(value);
}

function callsPref(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(callsPref);
  if (!node || typeof node !== 'object') return false;
  const n = node as AstNode;
  if (n.type === 'function' && n.procedure?.type === 'variable' && n.procedure.value === 'pref') return true;
  return Object.values(n).some((v) => v && typeof v === 'object' && callsPref(v));
}

/** Checks and compiles the `facts:` section; every problem is located in the profile file. */
export function loadComputedFacts(defs: ComputedFactDef[], yaml: YamlFile, scope: ComputedFactScope): { computed: ComputedFacts; problems: LocatedProblem[] } {
  const problems: LocatedProblem[] = [];
  const file = yaml.file;
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  const reserved = new Map<string, string>([
    ['connection', 'is the connection object'],
    ['configuredYear', 'is the configured school year'],
    ...scope.columns.map((c): [string, string] => [c, 'is a column of the source query']),
    ...scope.derivedFacts.map((d): [string, string] => [d, 'is a derived fact of the profile (derive)']),
  ]);
  defs.forEach((d, i) => {
    const at = yaml.locate(['facts', i, 'fact']);
    const clash = reserved.get(d.fact);
    if (clash) problems.push({ file, ...at, ruleId: d.id, message: `computed fact '${d.fact}': the name is taken: '${d.fact}' ${clash}. Choose another name.` });
    if (names.has(d.fact)) problems.push({ file, ...at, ruleId: d.id, message: `computed fact '${d.fact}' is defined twice (also entry ${names.get(d.fact)! + 1})` });
    if (ids.has(d.id)) problems.push({ file, ...yaml.locate(['facts', i, 'id']), ruleId: d.id, message: `duplicate id (also entry ${ids.get(d.id)! + 1})` });
    names.set(d.fact, i);
    ids.set(d.id, i);
  });

  const factScope = new Map<string, string>([
    ...scope.columns.map((c): [string, string] => [c, 'column']),
    ['connection', 'connection'],
    ['configuredYear', 'configured year'],
    ...defs.map((d): [string, string] => [d.fact, 'computed fact']),
  ]);
  const unavailable = new Map(scope.derivedFacts.map((d): [string, string] => [d, 'is a derived fact: it is made after the rules, over the records they keep, so a computed fact cannot read it']));
  const compiled: CompiledFact[] = [];
  let usesPreferences = false;
  defs.forEach((d, i) => {
    const exprPos = yaml.locate(['facts', i, 'expr']);
    const exprLine = exprPos.line !== undefined ? exprPos.line + (d.expr.includes('\n') ? 1 : 0) : undefined;
    const locate = (position: number): { line?: number; column: number } => lineOfPosition({ expr: d.expr, exprLine }, position);
    let ast: AstNode;
    try {
      ast = jsonata(d.expr).ast() as AstNode;
    } catch (err) {
      const e = err as { message: string; position?: number; token?: string };
      problems.push({ file, ...locate(e.position ?? 0), ruleId: d.id, message: `JSONata syntax error in computed fact '${d.fact}': ${e.message}${e.token ? ` (at '${e.token}')` : ''}` });
      return;
    }
    for (const p of checkExpression(ast, { facts: factScope, unavailable, connectionFacts: scope.connectionFacts, bindings: BINDING_NAMES })) {
      problems.push({ file, ...locate(p.position), ruleId: d.id, message: `computed fact '${d.fact}': ${p.message}` });
    }
    const { compiled: run, reason } = compileAst(ast, { bindings: BINDING_NAMES });
    if (!run) {
      problems.push({
        file, ...locate(0), ruleId: d.id,
        message: `computed fact '${d.fact}': ${reason}. Computed facts are evaluated as each row is read and must compile to plain ` +
          'functions: paths, filters, literals, operators, conditions, blocks with variables, object and list constructors, function ' +
          'definitions, our functions and JSONata\'s built-ins except those using regular expressions, dates of the clock, ranges, ' +
          'sorting by ^(...), parent (%) and descendant (**) operators: compute the rest in a mapping or the source query',
      });
      return;
    }
    if (callsPref(ast)) usesPreferences = true;
    const reads = [...readFacts(ast)].filter((n) => names.has(n) && n !== d.fact);
    if (readFacts(ast).has(d.fact)) problems.push({ file, ...locate(0), ruleId: d.id, message: `computed fact '${d.fact}' reads itself` });
    compiled.push({ ...d, file, line: yaml.locate(['facts', i]).line, run, reads });
  });

  // Evaluation order: each fact after the facts it reads; a cycle is a problem.
  const byName = new Map(compiled.map((f) => [f.fact, f]));
  const ordered: CompiledFact[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (f: CompiledFact, trail: string[]): void => {
    const s = state.get(f.fact);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(f.fact)), f.fact];
      problems.push({ file, line: f.line, ruleId: f.id, message: `computed facts read each other in a cycle: ${cycle.join(' -> ')}` });
      return;
    }
    state.set(f.fact, 'visiting');
    for (const r of f.reads) {
      const dep = byName.get(r);
      if (dep) visit(dep, [...trail, f.fact]);
    }
    state.set(f.fact, 'done');
    ordered.push(f);
  };
  for (const f of compiled) visit(f, []);
  return { computed: new ComputedFacts(ordered, usesPreferences), problems };
}
