// Rows as the snapshot writers hand them to SQLite: plain column -> value records.

/** A value better-sqlite3 can bind. */
export type SqlValue = string | number | bigint | Buffer | null;

export type Row = Record<string, SqlValue>;

/** Rows per table name. */
export type TableRows = Record<string, Row[]>;
