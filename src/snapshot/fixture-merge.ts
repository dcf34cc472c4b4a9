// Lays a fixture's rows over the base world. Rows are matched on the table's primary key so a fixture
// can restate one base row (replace), tweak it ($merge), or take it away ($delete).
import { FixtureError } from './fixture-error.js';
import type { ParsedRow, ParsedTables } from './fixture-yaml.js';
import type { Row } from './rows.js';
import { campusSchema } from './schema.js';
import type { TableInfo } from './schema.js';

export interface MergedTable {
  rows: Row[];
  origins: string[];
}

export function mergeTables(fixtureName: string, base: ParsedTables | undefined, own: ParsedTables): Map<string, MergedTable> {
  const out = new Map<string, MergedTable>();
  for (const table of campusSchema().tables) {
    const baseRows = base?.get(table.name) ?? [];
    const ownRows = own.get(table.name) ?? [];
    if (baseRows.length === 0 && ownRows.length === 0) continue;
    const merged: MergedTable = { rows: [], origins: [] };
    const index = new Map<string, number>();
    for (const r of baseRows) {
      const key = keyOf(table, r.values);
      if (key !== undefined) index.set(key, merged.rows.length);
      merged.rows.push(r.values);
      merged.origins.push(r.origin);
    }
    for (const r of ownRows) applyRow(fixtureName, table, r, merged, index, base !== undefined);
    // $delete leaves holes so the indexes above stay valid until all rows are applied.
    const keep = merged.rows.map((row, i) => (row === DELETED ? -1 : i)).filter((i) => i >= 0);
    out.set(table.name, { rows: keep.map((i) => merged.rows[i] as Row), origins: keep.map((i) => merged.origins[i] as string) });
  }
  return out;
}

const DELETED: Row = Object.freeze({}) as Row;

function applyRow(fixtureName: string, table: TableInfo, r: ParsedRow, merged: MergedTable, index: Map<string, number>, hasBase: boolean): void {
  const key = keyOf(table, r.values);
  const at = key === undefined ? undefined : index.get(key);
  const where = `${r.origin}, table ${table.name}`;
  if (r.op !== 'row') {
    const verb = r.op === 'delete' ? '$delete' : '$merge';
    if (!hasBase) throw new FixtureError(fixtureName, `${where}: ${verb} only applies to rows of a base (add 'base: standard')`);
    if (key === undefined) throw new FixtureError(fixtureName, `${where}: ${verb} needs the full primary key (${table.primaryKey.join(', ')})`);
    if (at === undefined || merged.rows[at] === DELETED) {
      throw new FixtureError(fixtureName, `${where}: ${verb} found no base row with ${describeKey(table, r.values)}`);
    }
    if (r.op === 'delete') {
      const extra = Object.keys(r.values).filter((c) => !table.primaryKey.includes(c));
      if (extra.length > 0) throw new FixtureError(fixtureName, `${where}: $delete takes only the primary key, not ${extra.join(', ')}`);
      merged.rows[at] = DELETED;
      if (key !== undefined) index.delete(key);
    } else {
      merged.rows[at] = { ...(merged.rows[at] as Row), ...r.values };
      merged.origins[at] = r.origin;
    }
    return;
  }
  if (at !== undefined) {
    merged.rows[at] = r.values;
    // Replacing surprises people who meant to change one column; say so wherever this row is blamed.
    merged.origins[at] = `${r.origin} (replaces the base row; '$merge: true' would keep its other columns)`;
    return;
  }
  if (key !== undefined) index.set(key, merged.rows.length);
  merged.rows.push(r.values);
  merged.origins.push(r.origin);
}

/** The primary-key values as one string, or undefined when the row does not give them all. */
function keyOf(table: TableInfo, row: Row): string | undefined {
  const parts: string[] = [];
  for (const k of table.primaryKey) {
    const v = row[k];
    if (v === undefined || v === null) return undefined;
    parts.push(String(v));
  }
  return parts.length === 0 ? undefined : JSON.stringify(parts);
}

export function describeKey(table: TableInfo, row: Row): string {
  return table.primaryKey.map((k) => `${k} ${JSON.stringify(row[k] ?? null)}`).join(', ');
}
