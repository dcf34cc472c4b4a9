import type { Json, JsonObject } from '../types.js';
import { hashJson, sortedByCanonicalJson } from '../util/hash.js';

// Fields the ODS adds to what it returns; they are not part of what we send and must not count as differences.
const SERVER_FIELDS = new Set(['id', '_etag', '_lastModifiedDate', 'link']);

/** An ODS GET item reduced to the body we would send, so the two can be hashed and compared. */
export function normalizeOdsBody(value: Json): Json {
  if (Array.isArray(value)) return value.map(normalizeOdsBody);
  if (value && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (SERVER_FIELDS.has(k) || v === null) continue;
      out[k] = normalizeOdsBody(v);
    }
    return out;
  }
  return value;
}

/**
 * A body as an ODS keeps it, whoever wrote it down: an ODS/API rebuilds a record from its tables, so it answers
 * every collection, an empty one as [], and the items of a collection in its own order (by their key), not in the
 * order they were sent. Empty collections and objects, nulls and server fields are dropped, and collection items
 * sorted, so a record read back equals the body it was sent as. Ed-Fi collections are sets: no order is lost.
 */
export function comparableBody(value: Json): Json | undefined {
  if (Array.isArray(value)) {
    const items = value.map(comparableBody).filter((v): v is Json => v !== undefined);
    if (items.length === 0) return undefined;
    return sortedByCanonicalJson(items);
  }
  if (value && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (SERVER_FIELDS.has(k) || v === null) continue;
      const c = comparableBody(v);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value === null ? undefined : value;
}

/** Equal for two bodies an ODS would hold as the same record (see comparableBody). */
export function comparableHash(body: Json): string {
  return hashJson(comparableBody(body) ?? {});
}
