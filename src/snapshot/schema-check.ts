// A nightly export can arrive with a renamed column, a date in the wrong format, text in a key column or two
// configurations for one connection. Each of those silently drops rows from the source query's joins or plans a
// connection twice, and a dropped row is deleted from the ODS as "no longer in Campus". Finding every such
// problem up front, in one message, beats deleting what a district still wants.
import type Database from 'better-sqlite3';
import { EXIT } from '../cli/exit-codes.js';
import { campusSchema, isDateColumn, isFlagColumn, quoteIdent, readTables } from './schema.js';
import type { ColumnInfo, TableInfo } from './schema.js';

export class SnapshotSchemaError extends Error {
  readonly problems: string[];
  readonly exitCode = EXIT.input;

  constructor(problems: string[], source?: string) {
    const where = source ? `Snapshot ${source}` : 'The snapshot';
    super(`${where} does not match the Campus schema (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
      problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'SnapshotSchemaError';
    this.problems = problems;
  }
}

/** Every mismatch between the snapshot and campus-schema.sql. Extra tables and columns are not problems. */
export function findSnapshotProblems(db: Database.Database): string[] {
  const actual = new Map(readTables(db).map((t) => [t.name.toLowerCase(), t]));
  const problems: string[] = [];
  for (const expected of campusSchema().tables) {
    const table = actual.get(expected.name.toLowerCase());
    if (!table) {
      problems.push(`table ${expected.name} is missing`);
      continue;
    }
    // SQLite identifiers are case-insensitive, so an export that changes case still answers our queries.
    const present = new Set(table.columns.map((c) => c.name.toLowerCase()));
    const missing = expected.columns.filter((c) => !present.has(c.name.toLowerCase()));
    for (const c of missing) problems.push(`column ${expected.name}.${c.name} is missing`);
    const keyColumns = expected.primaryKey.filter((k) => present.has(k.toLowerCase()));
    problems.push(...checkValues(db, table, expected, present, keyColumns));
    if (keyColumns.length === expected.primaryKey.length && keyColumns.length > 0) {
      const dup = duplicateKeys(db, table, expected, keyColumns);
      if (dup) problems.push(dup);
    }
  }
  if (problems.length === 0) problems.push(...duplicateConfigurations(db));
  return problems;
}

export function checkSnapshotSchema(db: Database.Database, source?: string): void {
  const problems = findSnapshotProblems(db);
  if (problems.length > 0) throw new SnapshotSchemaError(problems, source);
}

interface ValueCheck {
  column: ColumnInfo;
  /** SQL that is true for a bad value. */
  bad: string;
  /** What a bad value is, in words: "non-date value(s)". */
  what: string;
  /** Why it matters, when not obvious. */
  why?: string;
}

function valueChecks(actual: TableInfo, expected: TableInfo, present: Set<string>, keyColumns: string[], fkColumns: Set<string>): ValueCheck[] {
  const checks: ValueCheck[] = [];
  const actualColumns = new Map(actual.columns.map((c) => [c.name.toLowerCase(), c]));
  // What SQLite itself guarantees needs no scan: an INTEGER PRIMARY KEY is the rowid (always an integer), and a
  // column the export declares NOT NULL holds no NULL.
  const rowidAlias = actual.primaryKey.length === 1 ? actual.primaryKey[0]!.toLowerCase() : undefined;
  for (const column of expected.columns) {
    if (!present.has(column.name.toLowerCase())) continue;
    const declared = actualColumns.get(column.name.toLowerCase());
    if (rowidAlias === column.name.toLowerCase() && declared?.type === 'INTEGER') continue;
    const c = quoteIdent(column.name);
    const isKey = keyColumns.includes(column.name) || fkColumns.has(column.name);
    if (isDateColumn(column)) {
      // date(x) IS x rejects impossible dates such as 2020-02-30, which SQLite would silently roll over.
      checks.push({ column, bad: `${c} IS NOT NULL AND NOT (typeof(${c}) = 'text' AND ${c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date(${c}) IS ${c})`, what: 'non-date' });
    } else if (isFlagColumn(column)) {
      checks.push({ column, bad: `NOT (typeof(${c}) = 'integer' AND ${c} IN (0, 1))`, what: 'non-0/1' });
    } else if (column.type === 'INTEGER') {
      // Text in an integer key ('x1') matches no row of the table it joins: the row drops out of the source query.
      checks.push({
        column,
        bad: `${c} IS NOT NULL AND typeof(${c}) <> 'integer'`,
        what: 'non-integer',
        why: isKey ? 'it joins no row, so its records drop out and would be deleted as no longer in Campus' : undefined,
      });
    }
    if (column.notNull && !isFlagColumn(column) && !declared?.notNull) {
      checks.push({
        column,
        bad: `${c} IS NULL`,
        what: 'NULL',
        why: column.name === 'endYear' ? 'a school year must be given (NULL would be read as school year 0)' : isKey ? 'it joins no row' : undefined,
      });
    }
  }
  return checks;
}

/** One scan per table finds whether any value is bad; only then is each kind counted, with an example. */
function checkValues(db: Database.Database, table: TableInfo, expected: TableInfo, present: Set<string>, keyColumns: string[]): string[] {
  const fk = foreignKeyColumnsOfExpected(expected.name);
  const checks = valueChecks(table, expected, present, keyColumns, fk);
  if (checks.length === 0) return [];
  const t = quoteIdent(table.name);
  const any = db.prepare<[], { bad: number }>(`SELECT EXISTS (SELECT 1 FROM ${t} WHERE ${checks.map((ch) => `(${ch.bad})`).join(' OR ')}) AS bad`).get();
  if (!any || any.bad === 0) return [];
  const problems: string[] = [];
  for (const ch of checks) {
    const count = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${t} WHERE ${ch.bad}`).get()?.n ?? 0;
    if (count === 0) continue;
    const keys = keyColumns.length > 0 ? keyColumns : ['rowid'];
    const example = db
      .prepare<[], Record<string, unknown>>(
        `SELECT ${quoteIdent(ch.column.name)} AS value, ${keys.map((k, n) => `${quoteIdent(k)} AS k${n}`).join(', ')} FROM ${t} WHERE ${ch.bad} ORDER BY rowid LIMIT 1`,
      )
      .get();
    const sample = example ? ` e.g. ${formatValue(example['value'])} (${keys.map((k, n) => `${k} ${formatValue(example[`k${n}`])}`).join(', ')})` : '';
    problems.push(`column ${expected.name}.${ch.column.name} holds ${count} ${ch.what} value${count === 1 ? '' : 's'},${sample}${ch.why ? `: ${ch.why}` : ''}`);
  }
  return problems;
}

/** Foreign-key columns of a table as campus-schema.sql declares them (REFERENCES). */
function foreignKeyColumnsOfExpected(table: string): Set<string> {
  return new Set(campusSchema().byName.get(table)?.foreignKeys ?? []);
}

/**
 * Rows sharing a primary key, in a table whose export does not enforce it: a second District, SchoolYear or
 * resource toggle row doubles a connection, a second Person or Program doubles the records joined to it.
 */
function duplicateKeys(db: Database.Database, table: TableInfo, expected: TableInfo, keyColumns: string[]): string | undefined {
  const enforced = table.primaryKey.length === keyColumns.length && table.primaryKey.every((k, i) => k.toLowerCase() === keyColumns[i]!.toLowerCase());
  if (enforced) return undefined;
  const cols = keyColumns.map(quoteIdent).join(', ');
  const t = quoteIdent(table.name);
  const dup = db
    .prepare<[], { n: number; sample: string }>(
      `SELECT count(*) AS n, min(sample) AS sample FROM (SELECT ${keyColumns.map((k) => `quote(${quoteIdent(k)})`).join(" || ', ' || ")} AS sample FROM ${t} GROUP BY ${cols} HAVING count(*) > 1)`,
    )
    .get();
  if (!dup || dup.n === 0) return undefined;
  return `table ${expected.name} has ${dup.n} ${keyColumns.join(', ')} value${dup.n === 1 ? '' : 's'} on more than one row, e.g. ${dup.sample}: rows joined to it would be doubled`;
}

/** Two enabled configurations for one district, school year and profile would be planned as one connection twice. */
function duplicateConfigurations(db: Database.Database): string[] {
  const rows = db
    .prepare<[], { districtID: unknown; endYear: unknown; profile: string; n: number; ids: string }>(
      `SELECT districtID, endYear, lower(profile) AS profile, count(*) AS n, group_concat(configID, ', ') AS ids
         FROM EdFiConfiguration WHERE enabled = 1
        GROUP BY districtID, endYear, lower(profile) HAVING count(*) > 1 ORDER BY districtID, endYear, lower(profile)`,
    )
    .all();
  return rows.map(
    (r) =>
      `EdFiConfiguration has ${r.n} enabled rows for district ${formatValue(r.districtID)}, school year ${formatValue(r.endYear)} and profile '${r.profile}' ` +
      `(configID ${r.ids}): one connection would be planned twice and each plan would delete the other's records; leave one enabled`,
  );
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return `<blob ${value.length} bytes>`;
  return `'${String(value)}'`;
}
