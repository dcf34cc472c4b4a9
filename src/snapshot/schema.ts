// The expected snapshot shape, read from campus-schema.sql rather than restated in code, so the DDL stays
// the single source of truth. SQLite parses it for us: we create it in memory and read the PRAGMAs back.
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { repoPath } from '../util/repo-root.js';

export interface ColumnInfo {
  name: string;
  /** Declared type as written in the DDL, upper-cased ('INTEGER', 'TEXT'). */
  type: string;
  notNull: boolean;
  /** The DEFAULT expression as SQLite reports it, or null when there is none. */
  defaultValue: string | null;
  /** 1-based position in the primary key, 0 when not part of it. */
  pk: number;
}

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  /** Primary-key column names in key order. */
  primaryKey: string[];
  /** Columns declared REFERENCES another table. */
  foreignKeys: string[];
}

export interface CampusSchema {
  /** Tables in DDL order, which is also a safe insert order (parents first). */
  tables: TableInfo[];
  byName: Map<string, TableInfo>;
}

interface PragmaColumn {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

/** Checkbox columns: INTEGER 0/1 in every table that has them. */
const FLAG_COLUMNS = new Set(['exclude', 'noShow', 'nonTraditional', 'attempted', 'passed', 'active', 'enabled']);

export function isDateColumn(column: ColumnInfo): boolean {
  return column.type === 'TEXT' && /Date$/.test(column.name);
}

export function isFlagColumn(column: ColumnInfo): boolean {
  return column.type === 'INTEGER' && FLAG_COLUMNS.has(column.name);
}

export function campusSchemaPath(): string {
  return repoPath('src', 'snapshot', 'campus-schema.sql');
}

export function campusDdl(): string {
  return readFileSync(campusSchemaPath(), 'utf8');
}

/** Tables and columns of any open database, in creation order. */
export function readTables(db: Database.Database): TableInfo[] {
  const names = db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
    )
    .all()
    .map((r) => r.name);
  return names.map((name) => {
    const rows = db.prepare<[], PragmaColumn>(`PRAGMA table_info(${quoteIdent(name)})`).all();
    const columns: ColumnInfo[] = rows.map((c) => ({
      name: c.name,
      type: c.type.toUpperCase(),
      notNull: c.notnull === 1,
      defaultValue: c.dflt_value,
      pk: c.pk,
    }));
    const primaryKey = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    const foreignKeys = db.prepare<[], { from: string }>(`PRAGMA foreign_key_list(${quoteIdent(name)})`).all().map((r) => r.from);
    return { name, columns, primaryKey, foreignKeys };
  });
}

let cached: CampusSchema | undefined;

export function campusSchema(): CampusSchema {
  if (cached) return cached;
  const mem = new Database(':memory:');
  try {
    mem.exec(campusDdl());
    const tables = readTables(mem);
    cached = { tables, byName: new Map(tables.map((t) => [t.name, t])) };
    return cached;
  } finally {
    mem.close();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
