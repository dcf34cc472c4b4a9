import type { Database } from 'better-sqlite3';
import type { PreferenceTable } from '../mapping/functions.js';

/** Resource Preferences of a connection (EdFiResourcePreference), read once per connection. */
export function readPreferenceTable(db: Database, configID: number): PreferenceTable {
  const rows = db
    .prepare('SELECT resource, element, campusValue, edfiCode FROM EdFiResourcePreference WHERE configID = ?')
    .all(configID) as Array<{ resource: string; element: string; campusValue: string; edfiCode: string }>;
  const table: PreferenceTable = new Map();
  for (const r of rows) {
    let byElement = table.get(r.resource);
    if (!byElement) table.set(r.resource, (byElement = new Map()));
    let values = byElement.get(r.element);
    if (!values) byElement.set(r.element, (values = new Map()));
    values.set(String(r.campusValue), r.edfiCode);
  }
  return table;
}

/** A fingerprint of a preference table: equal tables, equal text, whatever the row order. */
export function preferenceFingerprint(table: PreferenceTable): string {
  const sorted = [...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([r, els]) => [
    r,
    [...els].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([e, vals]) => [e, [...vals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]),
  ]);
  return JSON.stringify(sorted);
}

/** The table a fingerprint was made of; undefined for a text that is not one (a value another version kept). */
export function preferenceTableOf(fingerprint: string): PreferenceTable | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fingerprint);
  } catch {
    return undefined;
  }
  const pairs = (v: unknown): v is Array<[string, unknown]> => Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string');
  if (!pairs(parsed)) return undefined;
  const table: PreferenceTable = new Map();
  for (const [resource, elements] of parsed) {
    if (!pairs(elements)) return undefined;
    const byElement = new Map<string, Map<string, string>>();
    for (const [element, values] of elements) {
      if (!pairs(values) || !values.every(([, code]) => typeof code === 'string')) return undefined;
      byElement.set(element, new Map(values as Array<[string, string]>));
    }
    table.set(resource, byElement);
  }
  return table;
}
