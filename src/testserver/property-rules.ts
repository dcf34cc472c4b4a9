// How an Ed-Fi API reads the property names of a request body before validating it. Both the ODS/API and the DMS
// drop a property the resource does not define rather than refuse the request; the ODS/API matches names without
// regard to case, the DMS only exactly (a wrongly cased property is dropped, so a required one is then missing),
// and the DMS also drops null values and empty arrays (Data-Management-Service docs/DATA-STRICTNESS.md).

import type { JsonSchema } from '../edfi/schemas.js';

export interface PropertyRules {
  caseSensitive: boolean;
  /** Drop `null` values and empty arrays (the DMS). */
  dropEmpty: boolean;
}

function isSchema(v: unknown): v is JsonSchema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of `value` with the properties `schema` does not define dropped (or renamed to the defined case). */
export function applyPropertyRules(schema: JsonSchema, value: unknown, rules: PropertyRules): unknown {
  if (Array.isArray(value)) {
    const items = schema['items'];
    return value.map((item) => (isSchema(items) ? applyPropertyRules(items, item, rules) : item));
  }
  if (typeof value !== 'object' || value === null) return value;
  const properties = schema['properties'];
  if (!isSchema(properties) || schema['additionalProperties'] !== false) return value;
  const byLowerName = new Map(Object.keys(properties).map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    const defined = name in properties ? name : rules.caseSensitive ? undefined : byLowerName.get(name.toLowerCase());
    if (defined === undefined) continue;
    if (rules.dropEmpty && (item === null || (Array.isArray(item) && item.length === 0))) continue;
    const child = properties[defined];
    out[defined] = isSchema(child) ? applyPropertyRules(child, item, rules) : item;
  }
  return out;
}
