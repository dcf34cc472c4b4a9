import type { Json, JsonObject } from '../types.js';

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
