// Reading and writing dotted paths (`programReference.programName`) in plain JSON bodies.
import type { Json, JsonObject } from '../types.js';

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function valueAt(body: JsonObject, dotted: string): Json | undefined {
  let node: Json | undefined = body;
  for (const part of dotted.split('.')) {
    if (!isJsonObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Sets a value, creating the intermediate objects a path needs. */
export function setAt(body: JsonObject, dotted: string, value: Json): void {
  const parts = dotted.split('.');
  let node: JsonObject = body;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (isJsonObject(next)) node = next;
    else {
      const created: JsonObject = {};
      node[part] = created;
      node = created;
    }
  }
  node[parts[parts.length - 1] as string] = value;
}
