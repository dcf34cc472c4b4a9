import { hash } from 'node:crypto';
import type { Json } from '../types.js';

/** JSON with object keys sorted, so that equal values always hash alike whatever the key order. */
export function canonicalJson(value: Json | undefined): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map((v) => canonicalJson(v)).join(',') + ']';
  const keys = Object.keys(value).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(value[k])).join(',') + '}';
}

export function sha1(text: string): string {
  // The one-shot form: about 2.5x faster than createHash for the short texts hashed per record.
  return hash('sha1', text, 'hex');
}

export function hashJson(value: Json | undefined): string {
  return sha1(canonicalJson(value));
}
