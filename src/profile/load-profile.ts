import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCatalogue, loadCatalogueFile } from '../errors/catalogue.js';
import { loadMappingFile, type MappingFile } from '../mapping/mapping-file.js';
import { loadRuleFile, type RuleDef } from '../rules/rule-file.js';
import { checkSanityRules, sanityCatalogueEntries } from '../sanity/sanity-rules.js';
import { ConfigError, type LocatedProblem } from '../util/errors.js';
import { checkAgainstSchema } from '../util/file-schema.js';
import { sha1 } from '../util/hash.js';
import { repoPath } from '../util/repo-root.js';
import { readYamlFile } from '../util/yaml-file.js';
import type { ProfileDef, WarningDef } from './profile-def.js';

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
  /** Facts the rules may use: the source query's columns and the connection's. */
  knownFacts: Set<string>;
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
  const db = new Database(':memory:');
  try {
    db.exec(campusDdl());
    return db.prepare(sql).columns().map((c) => c.name);
  } finally {
    db.close();
  }
}

export function loadProfile(nameOrPath: string, cwd = process.cwd()): LoadedProfile {
  const file = resolveProfilePath(nameOrPath, cwd);
  if (!existsSync(file)) {
    throw new ConfigError([{ file: nameOrPath, message: `no such profile (looked for ${relative(cwd, file) || file})` }]);
  }
  const root = projectRootOf(file);
  const show = (p: string): string => relative(cwd, p) || p;
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
  const checkSql = (sql: string, at: (string | number)[], label: string): string[] => {
    if (!sql) return [];
    try {
      return queryColumns(sql);
    } catch (err) {
      problems.push({ file: show(file), ...yaml.locate(at), message: `${label} does not run on the Campus schema: ${(err as Error).message}` });
      return [];
    }
  };
  const sourceColumns = checkSql(sourceSql, ['source', 'query'], `source query ${def.source.query}`);
  checkSql(connectionsSql, ['connections', 'query'], `connections query ${def.connections.query}`);
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
  for (const d of def.derive ?? []) knownFacts.add(d.fact);

  const rules: RuleDef[] = [];
  for (const [i, r] of def.rules.entries()) {
    const text = read(r, ['rules', i]);
    if (!text) continue;
    try {
      rules.push(...loadRuleFile(abs(r), show(abs(r)), { knownFacts: sourceColumns.length > 0 ? knownFacts : undefined }));
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

  if (problems.length > 0 || !mapping) throw new ConfigError(problems);

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
    version: sha1(readFileSync(file, 'utf8') + '\0' + contents.join('\0')),
  };
}
