// A nightly export can arrive with a renamed column or a date in the wrong format. Finding every such
// problem up front, in one message, beats failing on the first query the rules run.
import type Database from 'better-sqlite3';
import { campusSchema, isDateColumn, isFlagColumn, quoteIdent, readTables } from './schema.js';
import type { ColumnInfo, TableInfo } from './schema.js';

export class SnapshotSchemaError extends Error {
  readonly problems: string[];

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
    for (const column of expected.columns) {
      if (!present.has(column.name.toLowerCase())) continue;
      const problem = checkValues(db, table, expected.name, column, keyColumns);
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

export function checkSnapshotSchema(db: Database.Database, source?: string): void {
  const problems = findSnapshotProblems(db);
  if (problems.length > 0) throw new SnapshotSchemaError(problems, source);
}

function checkValues(
  db: Database.Database,
  table: TableInfo,
  tableLabel: string,
  column: ColumnInfo,
  keyColumns: string[],
): string | undefined {
  const c = quoteIdent(column.name);
  let bad: string;
  let what: string;
  if (isDateColumn(column)) {
    // date(x) IS x rejects impossible dates such as 2020-02-30, which SQLite would silently roll over.
    bad = `${c} IS NOT NULL AND NOT (typeof(${c}) = 'text' AND ${c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date(${c}) IS ${c})`;
    what = 'non-date';
  } else if (isFlagColumn(column)) {
    bad = `NOT (typeof(${c}) = 'integer' AND ${c} IN (0, 1))`;
    what = 'non-0/1';
  } else {
    return undefined;
  }
  const t = quoteIdent(table.name);
  const count = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${t} WHERE ${bad}`).get()?.n ?? 0;
  if (count === 0) return undefined;
  const keys = keyColumns.length > 0 ? keyColumns : ['rowid'];
  const example = db
    .prepare<[], Record<string, unknown>>(
      `SELECT ${c} AS value, ${keys.map((k, i) => `${quoteIdent(k)} AS k${i}`).join(', ')} FROM ${t} WHERE ${bad} ORDER BY rowid LIMIT 1`,
    )
    .get();
  const sample = example ? ` e.g. ${formatValue(example['value'])} (${keys.map((k, i) => `${k} ${formatValue(example[`k${i}`])}`).join(', ')})` : '';
  return `column ${tableLabel}.${column.name} holds ${count} ${what} value${count === 1 ? '' : 's'},${sample}`;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return `<blob ${value.length} bytes>`;
  return `'${String(value)}'`;
}
