// One transaction per table and one prepared statement per column set: the difference between seconds
// and minutes for a 100,000-student snapshot.
import type Database from 'better-sqlite3';
import { quoteIdent } from './schema.js';
import type { Row, SqlValue } from './rows.js';

export class RowInsertError extends Error {
  constructor(
    readonly table: string,
    /** 0-based position of the failing row in the rows given. */
    readonly index: number,
    /** SQLite's own words, e.g. "NOT NULL constraint failed: School.name". */
    readonly detail: string,
  ) {
    super(`${table} row ${index + 1}: ${detail}`);
    this.name = 'RowInsertError';
  }
}

/** Inserts rows into one table. Rows may name different columns; omitted columns take their DEFAULT. */
export function insertRows(db: Database.Database, table: string, rows: readonly Row[]): number {
  const statements = new Map<string, Database.Statement<SqlValue[]>>();
  const statementFor = (columns: string[]): Database.Statement<SqlValue[]> => {
    const key = columns.join('\u0000');
    let stmt = statements.get(key);
    if (!stmt) {
      const sql = columns.length === 0
        ? `INSERT INTO ${quoteIdent(table)} DEFAULT VALUES`
        : `INSERT INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
      stmt = db.prepare<SqlValue[]>(sql);
      statements.set(key, stmt);
    }
    return stmt;
  };
  const run = db.transaction((batch: readonly Row[]) => {
    batch.forEach((row, index) => {
      const columns = Object.keys(row);
      try {
        statementFor(columns).run(...columns.map((c) => row[c] as SqlValue));
      } catch (err) {
        throw new RowInsertError(table, index, (err as Error).message);
      }
    });
  });
  run(rows);
  return rows.length;
}
