import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { LocatedProblem } from './errors.js';
import { repoPath } from './repo-root.js';
import type { PathSegment, YamlFile } from './yaml-file.js';

// One Ajv for the analyst-file schemas (profile, rules, mapping, fixtures); compiled once per process.
const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<string, ValidateFunction>();

function validatorFor(schemaName: string): ValidateFunction {
  let v = compiled.get(schemaName);
  if (!v) {
    const schema = JSON.parse(readFileSync(repoPath('schemas', `${schemaName}.schema.json`), 'utf8')) as object;
    v = ajv.compile(schema);
    compiled.set(schemaName, v);
  }
  return v;
}

function pathOf(instancePath: string): PathSegment[] {
  if (!instancePath) return [];
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The id of the innermost object on the path that has one: the rule or field an analyst will look for. */
export function enclosingId(data: unknown, path: PathSegment[]): string | undefined {
  let node: unknown = data;
  let found: string | undefined;
  for (const seg of [undefined, ...path]) {
    if (seg !== undefined) {
      if (node === null || typeof node !== 'object') break;
      node = (node as Record<string | number, unknown>)[seg];
    }
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      const id = (node as Record<string, unknown>).id;
      if (typeof id === 'string') found = id;
    }
  }
  return found;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  switch (e.keyword) {
    case 'required':
      return `${at}: missing required property '${(e.params as { missingProperty: string }).missingProperty}'`;
    case 'additionalProperties':
      return `${at}: unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    case 'enum':
      return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${at}: ${e.message ?? e.keyword}`;
  }
}

/** Checks a parsed YAML file against one of the JSON Schemas in schemas/, returning every located problem. */
export function checkAgainstSchema(file: YamlFile, schemaName: string): LocatedProblem[] {
  const validate = validatorFor(schemaName);
  if (validate(file.data)) return [];
  const errors = (validate.errors ?? []).filter(
    // oneOf/anyOf wrappers repeat what their branches already said.
    (e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if',
  );
  const seen = new Set<string>();
  const problems: LocatedProblem[] = [];
  for (const e of errors) {
    const path = pathOf(e.instancePath);
    const message = describe(e);
    if (seen.has(message)) continue;
    seen.add(message);
    problems.push({ file: file.file, ...file.locate(path), ruleId: enclosingId(file.data, path), message });
  }
  return problems;
}
