import type { Json, JsonObject } from '../types.js';
import { canonicalJson } from '../util/hash.js';

/**
 * Value at a dotted body path (programReference.programName). A path through a collection (ctePrograms.cipCode)
 * gives the list of its items' values, in item order: `validate` accepts such paths (the Ed-Fi schema is looked
 * through), so a key-change or immutable field inside a collection must see its changes too. A path ending at a
 * collection gives the collection, compared whole.
 */
export function valueAt(body: JsonObject, path: string): Json | undefined {
  return valueAtParts(body, pathParts(path), 0);
}

// The same few paths (the natural key, the sanity rules' fields) are read on every body: split once each.
const split = new Map<string, readonly string[]>();

/** A dotted path's parts (shared between callers). */
export function pathParts(path: string): readonly string[] {
  let parts = split.get(path);
  if (!parts) {
    parts = path.split('.');
    if (split.size < 1000) split.set(path, parts);
  }
  return parts;
}

function valueAtParts(node: Json | undefined, parts: readonly string[], from: number): Json | undefined {
  for (let i = from; i < parts.length; i++) {
    if (Array.isArray(node)) {
      const items = node.map((item) => valueAtParts(item, parts, i) ?? null);
      return items.every((v) => v === null) ? undefined : items;
    }
    if (node === null || node === undefined || typeof node !== 'object') return undefined;
    node = (node as JsonObject)[parts[i]!];
  }
  return node;
}

export function naturalKeyOf(body: JsonObject, paths: string[]): JsonObject {
  const key: JsonObject = {};
  for (const p of paths) key[p] = valueAt(body, p) ?? null;
  return key;
}

/** Paths whose value differs between two bodies, compared canonically (key order and array order of objects kept). */
export function changedPaths(before: JsonObject, after: JsonObject, paths: string[]): string[] {
  return paths.filter((p) => canonicalJson(valueAt(before, p)) !== canonicalJson(valueAt(after, p)));
}
