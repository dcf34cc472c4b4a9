import type { Database, Statement } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { Candidate, Connection, Json, JsonObject } from '../types.js';

/** "participationID=42" or "enrollmentID=7|participationID=42": readable in reports, stable across runs. */
export function sourceKeyOf(row: Record<string, unknown>, keyColumns: string[]): string {
  return keyColumns.map((k) => `${k}=${row[k] === null || row[k] === undefined ? '' : String(row[k])}`).join('|');
}

/** A source row as SQLite returned it (column values in query order), before it is turned into facts. */
export interface RawCandidate {
  connection: Connection;
  sourceKey: string;
  values: unknown[];
}

/**
 * Reads one connection's candidates lazily: rows are streamed, never all held at once. Rows come as arrays so
 * an unchanged record can be fingerprinted without building its facts (most records, most nights).
 */
export class CandidateReader {
  private readonly stmt: Statement;
  private readonly columns: string[];
  private readonly json: boolean[];
  private readonly keyIndexes: number[];

  constructor(db: Database, private readonly profile: LoadedProfile) {
    this.stmt = db.prepare(profile.sourceSql).raw(true);
    this.columns = this.stmt.columns().map((c) => c.name);
    const jsonColumns = new Set(profile.def.source.json ?? []);
    this.json = this.columns.map((c) => jsonColumns.has(c));
    this.keyIndexes = profile.def.source.key.map((k) => this.columns.indexOf(k));
  }

  columnIndex(name: string): number {
    return this.columns.indexOf(name);
  }

  private params(connection: Connection): Record<string, string | number> {
    return {
      configID: connection.configID,
      districtID: connection.districtID,
      endYear: connection.endYear,
      yearStart: connection.yearStart,
      yearEnd: connection.yearEnd,
    };
  }

  *readRaw(connection: Connection): Generator<RawCandidate> {
    const key = this.profile.def.source.key;
    for (const values of this.stmt.iterate(this.params(connection)) as Iterable<unknown[]>) {
      const sourceKey = this.keyIndexes
        .map((i, n) => `${key[n]}=${values[i] === null || values[i] === undefined ? '' : String(values[i])}`)
        .join('|');
      yield { connection, sourceKey, values };
    }
  }

  toCandidate(raw: RawCandidate): Candidate {
    const facts: JsonObject = {};
    for (let i = 0; i < this.columns.length; i++) {
      const v = raw.values[i];
      facts[this.columns[i]!] = this.json[i] && typeof v === 'string' ? (JSON.parse(v) as Json) : ((typeof v === 'bigint' ? Number(v) : v) as Json);
    }
    return { connection: raw.connection, sourceKey: raw.sourceKey, facts };
  }

  *read(connection: Connection): Generator<Candidate> {
    for (const raw of this.readRaw(connection)) yield this.toCandidate(raw);
  }
}
