import type { Json, JsonObject } from '../types.js';
import { canonicalJson } from '../util/hash.js';

/** Value at a dotted body path (programReference.programName); arrays are compared whole. */
export function valueAt(body: JsonObject, path: string): Json | undefined {
  let node: Json | undefined = body;
  for (const part of path.split('.')) {
    if (node === null || node === undefined || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as JsonObject)[part];
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
