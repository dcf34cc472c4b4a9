import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadResourceSchema, type JsonSchema } from '../edfi/schemas.js';
import { ErrorCatalogue, loadCatalogueFile } from '../errors/catalogue.js';
import { Mapper } from '../mapping/mapper.js';
import { loadMappingFile, type MappingFile } from '../mapping/mapping-file.js';
import { CompiledRules } from '../rules/compiled-rules.js';
import type { FactKind } from '../rules/operand-check.js';
import { loadRuleFile, type RuleDef } from '../rules/rule-file.js';
import { checkSanityRules, sanityCatalogueEntries } from '../sanity/sanity-rules.js';
import { ConfigError, type LocatedProblem } from '../util/errors.js';
import { checkAgainstSchema } from '../util/file-schema.js';
import { sha1 } from '../util/hash.js';
import { repoPath } from '../util/repo-root.js';
import { readYamlFile } from '../util/yaml-file.js';
import { ComputedFacts, loadComputedFacts } from './computed-facts.js';
import { checkMappingAgainstProfile } from './mapping-checks.js';
import type { ProfileDef, WarningDef } from './profile-def.js';
import { displayPath } from '../util/display-path.js';
import { listProfiles } from '../validate/discover-profiles.js';

/** A profile with every file it names read, checked and compiled: what the engine runs. */
export interface LoadedProfile {
  def: ProfileDef;
  file: string;
  /** The project folder the profile's paths are relative to. */
  root: string;
  connectionsSql: string;
  sourceSql: string;
  rules: RuleDef[];
  mapping: MappingFile;
  catalogue: ErrorCatalogue;
  warnings: Array<WarningDef & { sql: string }>;
  /** Facts the rules may use: the source query's columns, the connection's, and the computed facts. */
  knownFacts: Set<string>;
  /** The profile's `facts:`, compiled: the read stage calls `computedFacts.apply(facts, connection, context)`. */
  computedFacts: ComputedFacts;
  /** The rules compiled once into plain functions: `compiledRules.decide(facts)`. */
  compiledRules: CompiledRules;
  /** Not problems: what `validate` tells the analyst (e.g. a rule or field left to the interpreter, and why). */
  notes: LocatedProblem[];
  /** Hash of every file the profile reads: a cached evaluation is reused only while it is unchanged. */
  version: string;
}

/** `core` -> profiles/core/profile.yaml of this project; anything with a slash or .yaml is a path. */
export function resolveProfilePath(nameOrPath: string, cwd = process.cwd()): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml')) {
    const p = resolve(cwd, nameOrPath);
    return existsSync(p) && statSync(p).isDirectory() ? join(p, 'profile.yaml') : p;
  }
  const local = resolve(cwd, 'profiles', nameOrPath, 'profile.yaml');
  if (existsSync(local)) return local;
  return repoPath('profiles', nameOrPath, 'profile.yaml');
}

/** profiles/<name>/profile.yaml lives two folders below the project folder. */
export function projectRootOf(profileFile: string): string {
  const dir = dirname(profileFile);
  const parent = dirname(dir);
  return basename(parent) === 'profiles' ? dirname(parent) : dir;
}

function campusDdl(): string {
  return readFileSync(repoPath('src', 'snapshot', 'campus-schema.sql'), 'utf8');
}

/** Column names a query returns, found by preparing it against an empty Campus schema: no snapshot needed. */
export function queryColumns(sql: string): string[] {
  return queryColumnInfo(sql).map((c) => c.name);
}

/** Columns a query returns with what each holds, where a Campus column gives it directly (for operand checks). */
export function queryColumnInfo(sql: string): Array<{ name: string; kind?: FactKind }> {
  const db = new Database(':memory:');
  try {
    db.exec(campusDdl());
    return db.prepare(sql).columns().map((c) => {
      const type = (c.type ?? '').toUpperCase();
      const kind: FactKind | undefined = type === 'INTEGER' ? 'number' : type === 'TEXT' ? (/Date$/.test(c.column ?? '') ? 'date' : 'text') : undefined;
      return { name: c.name, kind };
    });
  } finally {
    db.close();
  }
}

export function loadProfile(nameOrPath: string, cwd = process.cwd()): LoadedProfile {
  const file = resolveProfilePath(nameOrPath, cwd);
  if (!existsSync(file)) {
    const known = listProfiles(cwd);
    throw new ConfigError([{ file: nameOrPath, message: `no such profile (looked for ${displayPath(file, cwd)})${known.length > 0 ? `; the profiles here: ${known.join(', ')}` : ''}` }]);
  }
  const root = projectRootOf(file);
  const show = (p: string): string => displayPath(p, cwd);
  const yaml = readYamlFile(file, show(file));
  const problems: LocatedProblem[] = checkAgainstSchema(yaml, 'profile');
  if (problems.length > 0) throw new ConfigError(problems);
  const def = yaml.data as ProfileDef;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(root, p));
  const contents: string[] = [];
  const read = (p: string, at: (string | number)[]): string => {
    try {
      const text = readFileSync(abs(p), 'utf8');
      contents.push(p, text);
      return text;
    } catch {
      problems.push({ file: show(file), ...yaml.locate(at), message: `file not found: ${p}` });
      return '';
    }
  };

  const connectionsSql = read(def.connections.query, ['connections', 'query']);
  const sourceSql = read(def.source.query, ['source', 'query']);
  const warnings = (def.warnings ?? []).map((w, i) => ({ ...w, sql: read(w.query, ['warnings', i, 'query']) }));

  const knownFacts = new Set<string>(['configuredYear', 'connection']);
  const checkSql = (sql: string, at: (string | number)[], label: string): Array<{ name: string; kind?: FactKind }> => {
    if (!sql) return [];
    try {
      return queryColumnInfo(sql);
    } catch (err) {
      problems.push({ file: show(file), ...yaml.locate(at), message: `${label} does not run on the Campus schema: ${(err as Error).message}` });
      return [];
    }
  };
  const sourceInfo = checkSql(sourceSql, ['source', 'query'], `source query ${def.source.query}`);
  const sourceColumns = sourceInfo.map((c) => c.name);
  const connectionColumns = checkSql(connectionsSql, ['connections', 'query'], `connections query ${def.connections.query}`).map((c) => c.name);
  // What `connection` holds for rules, mappings and computed facts (src/plan/record-evaluator.ts connectionParts).
  const connectionFacts = new Set([...connectionColumns.filter((c) => c !== 'profile' && c !== 'resourceEnabled'), 'configID', 'districtID', 'endYear', 'yearStart', 'yearEnd']);
  for (const c of sourceColumns) knownFacts.add(c);
  if (sourceColumns.length > 0) {
    const named: Array<[string, (string | number)[]]> = [
      ...def.source.key.map((k, i): [string, (string | number)[]] => [k, ['source', 'key', i]]),
      ...(def.source.json ?? []).map((k, i): [string, (string | number)[]] => [k, ['source', 'json', i]]),
    ];
    if (def.source.student) named.push([def.source.student, ['source', 'student']]);
    if (def.source.person) named.push([def.source.person, ['source', 'person']]);
    for (const d of def.derive ?? []) {
      d.groupBy.forEach((g, i) => named.push([g, ['derive', (def.derive ?? []).indexOf(d), 'groupBy', i]]));
      d.orderBy.forEach((o, i) => named.push([o.split(' ')[0]!, ['derive', (def.derive ?? []).indexOf(d), 'orderBy', i]]));
    }
    for (const [col, at] of named) {
      if (!sourceColumns.includes(col)) {
        problems.push({ file: show(file), ...yaml.locate(at), message: `column '${col}' is not returned by the source query (it returns: ${sourceColumns.join(', ')})` });
      }
    }
  }
  const derivedFacts = (def.derive ?? []).map((d) => d.fact);
  const { computed: computedFacts, problems: factProblems } = loadComputedFacts(def.facts ?? [], yaml, {
    columns: sourceColumns,
    connectionFacts,
    derivedFacts,
  });
  problems.push(...factProblems);
  for (const f of def.facts ?? []) knownFacts.add(f.fact);
  const factKinds = new Map<string, FactKind>([['configuredYear', 'period'], ['connection', 'object']]);
  for (const c of sourceInfo) if (c.kind) factKinds.set(c.name, c.kind);
  const unavailableFacts = new Map(
    (def.derive ?? []).map((d): [string, string] => [d.fact, `is a derived fact (${d.id}): it is made after the rules decide, over the records they keep, so a rule cannot read it`]),
  );

  const rules: RuleDef[] = [];
  for (const [i, r] of def.rules.entries()) {
    const text = read(r, ['rules', i]);
    if (!text) continue;
    try {
      rules.push(...loadRuleFile(abs(r), show(abs(r)), { knownFacts: sourceColumns.length > 0 ? knownFacts : undefined, factKinds, unavailableFacts }));
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  const ids = new Map<string, RuleDef>();
  for (const r of rules) {
    const other = ids.get(r.id);
    if (other) problems.push({ file: r.file, line: r.line, ruleId: r.id, message: `duplicate rule id (also at ${other.file}:${other.line ?? '?'})` });
    ids.set(r.id, r);
  }

  let mapping: MappingFile | undefined;
  const mappingText = read(def.mapping, ['mapping']);
  if (mappingText) {
    try {
      mapping = loadMappingFile(abs(def.mapping), show(abs(def.mapping)));
      if (mapping.resource !== def.resource.name) {
        problems.push({ file: mapping.file, line: 1, message: `mapping is for resource '${mapping.resource}' but the profile sends '${def.resource.name}'` });
      }
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }

  const entries = [];
  for (const [i, e] of def.errors.entries()) {
    if (!read(e, ['errors', i])) continue;
    try {
      entries.push(...loadCatalogueFile(abs(e), show(abs(e))));
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  // Sanity rules name their own error-log entries (cause = their message, fix = their fix).
  problems.push(...checkSanityRules(def.sanity ?? [], def.resource.schema, show(file), yaml.locate, new Set(entries.map((e) => e.id)), sourceColumns.length > 0 ? knownFacts : undefined));
  const catalogue = new ErrorCatalogue([...entries, ...sanityCatalogueEntries(def.sanity ?? [])]);
  for (const [group, list] of [['keyChangeFields', def.keyChangeFields ?? []], ['immutableFields', def.immutableFields ?? []]] as const) {
    list.forEach((f, i) => {
      if (f.error && !catalogue.byId(f.error)) {
        problems.push({ file: show(file), ...yaml.locate([group, i, 'error']), ruleId: f.id, message: `error '${f.error}' is not in the error catalogue` });
      }
    });
  }

  let resourceSchema: JsonSchema | undefined;
  try {
    resourceSchema = loadResourceSchema(def.resource.schema) as JsonSchema;
  } catch (err) {
    problems.push({ file: show(file), ...yaml.locate(['resource', 'schema']), message: (err as Error).message });
  }
  if (mapping && resourceSchema && sourceColumns.length > 0) {
    const mappingFacts = new Map<string, string>([
      ...sourceColumns.map((c): [string, string] => [c, 'column']),
      ['connection', 'connection'],
      ...derivedFacts.map((d): [string, string] => [d, 'derived fact']),
      ...(def.facts ?? []).map((f): [string, string] => [f.fact, 'computed fact']),
    ]);
    problems.push(...checkMappingAgainstProfile({ def, profileYaml: yaml, mapping, resourceSchema, scope: { facts: mappingFacts, connectionFacts } }));
  }

  if (problems.length > 0 || !mapping) throw new ConfigError(problems);

  const compiledRules = new CompiledRules(rules);
  const notes: LocatedProblem[] = [
    ...compiledRules.interpreted.map((r) => ({ file: r.file, line: r.line, ruleId: r.ruleId, message: `evaluated through json-rules-engine's own objects: ${r.reason}` })),
    ...new Mapper(mapping).interpreted.map((f) => ({ file: mapping!.file, line: f.line, ruleId: f.id, message: `${f.field} is evaluated by JSONata (not compiled: ${f.reason})` })),
  ];

  return {
    def,
    file,
    root,
    connectionsSql,
    sourceSql,
    rules,
    mapping,
    catalogue,
    warnings,
    knownFacts,
    computedFacts,
    compiledRules,
    notes,
    version: sha1(readFileSync(file, 'utf8') + '\0' + contents.join('\0')),
  };
}
