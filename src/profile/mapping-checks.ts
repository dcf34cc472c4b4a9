import type { JsonSchema } from '../edfi/schemas.js';
import { checkExpression } from '../mapping/expression-check.js';
import { BINDING_NAMES } from '../mapping/functions.js';
import type { AstNode } from '../mapping/jsonata-compile.js';
import { lineOfPosition, type FieldMapping, type MappingFile } from '../mapping/mapping-file.js';
import type { LocatedProblem } from '../util/errors.js';
import type { YamlFile } from '../util/yaml-file.js';
import type { ProfileDef } from './profile-def.js';

// Checks between a profile, its mapping file and the Ed-Fi resource schema, all static (no snapshot):
//  - every mapped (and not-reported) field is a property of the resource, and the keys an object constructor
//    writes are properties at that level;
//  - the facts a mapping expression reads exist (expression-check.ts);
//  - every naturalKey / keyChangeFields / immutableFields path is in the resource schema and is written by the
//    mapping: its field is mapped and, where the expression is an object constructor, it has that key.
// A path the mapping never writes is always empty: natural keys collide (false conflicts) and key changes are
// planned as PUTs.

export interface MappingScope {
  /** Facts a mapping reads at the top of the record, with what each is. */
  facts: ReadonlyMap<string, string>;
  connectionFacts: ReadonlySet<string>;
}

function isSchema(v: unknown): v is JsonSchema {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The schema of the value at a body path (arrays are looked through); undefined when the schema has no such path. */
function schemaAt(schema: JsonSchema, segments: string[]): JsonSchema | 'open' | undefined {
  let node: JsonSchema = schema;
  for (const seg of segments) {
    while (node.type === 'array' && isSchema(node.items)) node = node.items;
    const props = node.properties;
    if (!isSchema(props)) return 'open';
    const child = props[seg];
    if (!isSchema(child)) return undefined;
    node = child;
  }
  return node;
}

function propertiesOf(schema: JsonSchema): string[] | undefined {
  let node = schema;
  while (node.type === 'array' && isSchema(node.items)) node = node.items;
  return isSchema(node.properties) ? Object.keys(node.properties) : undefined;
}

/** The objects an expression can give, by key: undefined when not statically known (a path, a function, ...). */
type Objects = Array<Map<string, { key: AstNode; value: AstNode }>>;

function objectsOf(node: AstNode | undefined): Objects | undefined {
  if (!node) return [];
  switch (node.type) {
    case 'unary':
      if (node.value === '{') {
        const obj = new Map<string, { key: AstNode; value: AstNode }>();
        for (const [k, v] of (node.lhs as AstNode[][]) ?? []) {
          if (k!.type !== 'string') return undefined;
          obj.set(String(k!.value), { key: k!, value: v! });
        }
        return [obj];
      }
      if (node.value === '[') {
        const out: Objects = [];
        for (const item of node.expressions ?? []) {
          const o = objectsOf(item);
          if (!o) return undefined;
          out.push(...o);
        }
        return out;
      }
      return undefined;
    case 'block':
      return objectsOf(node.expressions?.[node.expressions.length - 1]);
    case 'condition': {
      const a = objectsOf(node.then);
      const b = node.else ? objectsOf(node.else) : [];
      return a && b ? [...a, ...b] : undefined;
    }
    default:
      return undefined;
  }
}

export function checkMappingAgainstProfile(opts: {
  def: ProfileDef;
  profileYaml: YamlFile;
  mapping: MappingFile;
  resourceSchema: JsonSchema;
  scope: MappingScope;
}): LocatedProblem[] {
  const { def, profileYaml, mapping, resourceSchema, scope } = opts;
  const problems: LocatedProblem[] = [];
  const resource = def.resource.schema;
  const topLevel = propertiesOf(resourceSchema) ?? [];
  const at = (f: FieldMapping, position: number): { line?: number; column: number } => lineOfPosition(f, position);

  for (const f of mapping.fields) {
    if (!topLevel.includes(f.field)) {
      problems.push({ file: mapping.file, ...mapping.yaml.locate(['fields', mapping.fields.indexOf(f), 'field']), ruleId: f.id, message: `field '${f.field}' is not a property of the Ed-Fi resource ${resource} (it has: ${topLevel.filter((p) => !p.startsWith('_') && p !== 'id').join(', ')})` });
      continue;
    }
    const ast = f.compiled.ast() as AstNode;
    for (const p of checkExpression(ast, { facts: scope.facts, connectionFacts: scope.connectionFacts, bindings: BINDING_NAMES })) {
      problems.push({ file: mapping.file, ...at(f, p.position), ruleId: f.id, message: `${f.field}: ${p.message}` });
    }
    // Keys an object constructor writes must be properties of the resource at that level.
    const walkKeys = (node: AstNode, path: string[]): void => {
      const objs = objectsOf(node);
      if (!objs) return;
      const here = schemaAt(resourceSchema, path);
      const allowed = here && here !== 'open' ? propertiesOf(here) : undefined;
      for (const obj of objs) {
        for (const [key, { key: keyNode, value }] of obj) {
          if (allowed && !allowed.includes(key)) {
            problems.push({ file: mapping.file, ...at(f, Math.max(0, (keyNode.position ?? 0) - key.length - 1)), ruleId: f.id, message: `${[...path, key].join('.')} is not a property of the Ed-Fi resource ${resource} (${path.join('.')} has: ${allowed.filter((p) => p !== 'link').join(', ')})` });
            continue;
          }
          walkKeys(value, [...path, key]);
        }
      }
    };
    walkKeys(ast, [f.field]);
  }
  // A notReported entry may name an element this Data Standard dropped (a DS 5.x profile listing what DS 4.0 sent),
  // as long as it says so in a decision; without one it is most likely a misspelling.
  mapping.notReported.forEach((n, i) => {
    if (!topLevel.includes(n.field) && !n.decision) {
      problems.push({ file: mapping.file, ...mapping.yaml.locate(['notReported', i, 'field']), message: `notReported field '${n.field}' is not a property of the Ed-Fi resource ${resource} (if a Data Standard dropped it, say so in a decision)` });
    }
  });

  // Body paths the profile names: in the schema, and written by the mapping.
  const named: Array<{ path: string; at: (string | number)[]; id?: string; group: string }> = [
    ...def.naturalKey.map((p, i) => ({ path: p, at: ['naturalKey', i], group: 'naturalKey' })),
    ...(def.keyChangeFields ?? []).map((f, i) => ({ path: f.path, at: ['keyChangeFields', i, 'path'], id: f.id, group: 'keyChangeFields' })),
    ...(def.immutableFields ?? []).map((f, i) => ({ path: f.path, at: ['immutableFields', i, 'path'], id: f.id, group: 'immutableFields' })),
  ];
  const byField = new Map(mapping.fields.map((f) => [f.field, f]));
  for (const n of named) {
    const where = { file: profileYaml.file, ...profileYaml.locate(n.at), ruleId: n.id };
    const segments = n.path.split('.');
    if (schemaAt(resourceSchema, segments) === undefined) {
      problems.push({ ...where, message: `${n.group} path '${n.path}' is not in the Ed-Fi schema of ${resource}` });
      continue;
    }
    const field = byField.get(segments[0]!);
    if (!field) {
      const why = mapping.notReported.some((x) => x.field === segments[0]) ? `it is listed as not reported in ${mapping.file}` : `no field of ${mapping.file} maps '${segments[0]}'`;
      problems.push({ ...where, message: `${n.group} path '${n.path}' is never written: ${why}, so it is always empty (records look alike, and a change is never seen)` });
      continue;
    }
    let nodes: AstNode[] = [field.compiled.ast() as AstNode];
    for (let i = 1; i < segments.length && nodes.length > 0; i++) {
      const key = segments[i]!;
      const objs = nodes.map(objectsOf);
      if (objs.some((o) => o === undefined)) break;
      const all = objs.flat() as Objects;
      const hits = all.map((o) => o.get(key)).filter((x): x is { key: AstNode; value: AstNode } => x !== undefined);
      if (all.length > 0 && hits.length === 0) {
        const has = [...new Set(all.flatMap((o) => [...o.keys()]))];
        problems.push({ ...where, message: `${n.group} path '${n.path}' is never written: the mapping ${field.id} (${mapping.file}:${field.line ?? '?'}) builds ${segments.slice(0, i).join('.')} without '${key}' (it writes: ${has.join(', ') || 'nothing'})` });
        break;
      }
      nodes = hits.map((h) => h.value);
    }
  }
  return problems;
}
