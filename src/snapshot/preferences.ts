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
