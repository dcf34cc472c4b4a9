import { hash } from 'node:crypto';
import type { Json } from '../types.js';

/**
 * JSON with object keys sorted, so that equal values always hash alike whatever the key order. Identity rows and
 * the evaluation cache keep hashes of it: its output must never change (spec/canonical-json.spec.ts holds it to the
 * first version's). Written as loops, it is about 20% faster than with map and join on Ed-Fi bodies.
 */
export function canonicalJson(value: Json | undefined): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) s += ',';
      // A hole stays empty, as map and join left it.
      if (i in value) s += canonicalJson(value[i]);
    }
    return s + ']';
  }
  const keys = Object.keys(value);
  if (keys.length > 1) keys.sort();
  let s = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) s += ',';
    s += JSON.stringify(k) + ':' + canonicalJson(value[k]);
  }
  return s + '}';
}

/** Items in the order of their canonical JSON (each written once): a set's order, whatever order it came in. */
export function sortedByCanonicalJson<T extends Json>(items: readonly T[]): T[] {
  return items.map((item) => [canonicalJson(item), item] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, item]) => item);
}

export function sha1(text: string): string {
  // The one-shot form: about 2.5x faster than createHash for the short texts hashed per record.
  return hash('sha1', text, 'hex');
}

export function hashJson(value: Json | undefined): string {
  return sha1(canonicalJson(value));
}
