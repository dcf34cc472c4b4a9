// The field paths a resource body can have, read from the project's Ed-Fi JSON Schema: what an analyst may name
// in a fixture expectation or a sanity rule. A misspelled field would otherwise silently never match.
import { loadResourceSchema } from './schemas.js';

type Schema = { [key: string]: unknown };

/** Every path of a resource with the JSON type the schema gives it (an object or a collection has its own type). */
const cache = new Map<string, Map<string, string | undefined>>();

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function walk(schema: Schema, prefix: string, out: Map<string, string | undefined>): void {
  const items = schema['items'];
  if (schema['type'] === 'array' && isSchema(items)) {
    walk(items, prefix, out);
    return;
  }
  const properties = schema['properties'];
  if (!isSchema(properties)) return;
  for (const [name, child] of Object.entries(properties)) {
    const path = prefix ? `${prefix}.${name}` : name;
    out.set(path, isSchema(child) && typeof child['type'] === 'string' ? child['type'] : undefined);
    if (isSchema(child)) walk(child, path, out);
  }
}

function typedPaths(resource: string): Map<string, string | undefined> {
  let paths = cache.get(resource);
  if (!paths) {
    paths = new Map();
    walk(loadResourceSchema(resource) as Schema, '', paths);
    cache.set(resource, paths);
  }
  return paths;
}

/** Every dotted path of a resource body, arrays walked through their items: beginDate, ctePrograms.cipCode, ... */
export function resourceFieldPaths(resource: string): string[] {
  return [...typedPaths(resource).keys()];
}

/** The JSON types a property of this name has anywhere in a resource body (educationOrganizationId: integer). */
export function fieldTypes(resource: string, name: string): Set<string> {
  const out = new Set<string>();
  for (const [path, type] of typedPaths(resource)) {
    if (type !== undefined && (path === name || path.endsWith(`.${name}`))) out.add(type);
  }
  return out;
}

export function hasFieldPath(resource: string, path: string): boolean {
  return resourceFieldPaths(resource).includes(path);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The field an analyst most likely meant: same spelling but for case, or at most a few letters off. */
export function closestFieldPath(resource: string, path: string): string | undefined {
  const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.') + 1) : '';
  const siblings = resourceFieldPaths(resource).filter((p) => p.startsWith(parent) && !p.slice(parent.length).includes('.'));
  const lower = path.toLowerCase();
  const same = siblings.find((p) => p.toLowerCase() === lower);
  if (same) return same;
  let best: { path: string; d: number } | undefined;
  for (const p of siblings) {
    const d = distance(lower, p.toLowerCase());
    if (d <= Math.max(2, Math.floor(path.length / 4)) && (!best || d < best.d)) best = { path: p, d };
  }
  return best?.path;
}

/** "'endDat' is not a field of studentCTEProgramAssociations (did you mean 'endDate'?)" */
export function unknownFieldMessage(resource: string, path: string): string {
  const hint = closestFieldPath(resource, path);
  return `'${path}' is not a field of ${resource}${hint ? ` (did you mean '${hint}'?)` : ''}`;
}
