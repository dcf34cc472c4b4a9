import type { Database, Statement } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { Candidate, Connection, Json, JsonObject } from '../types.js';

/** "participationID=42" or "enrollmentID=7|participationID=42": readable in reports, stable across runs. */
export function sourceKeyOf(row: Record<string, unknown>, keyColumns: string[]): string {
  return keyColumns.map((k) => `${k}=${row[k] === null || row[k] === undefined ? '' : String(row[k])}`).join('|');
}

/** Reads one connection's candidates lazily: rows are streamed, never all held at once. */
export class CandidateReader {
  private readonly stmt: Statement;
  private readonly jsonColumns: Set<string>;

  constructor(db: Database, private readonly profile: LoadedProfile) {
    this.stmt = db.prepare(profile.sourceSql);
    this.jsonColumns = new Set(profile.def.source.json ?? []);
  }

  *read(connection: Connection): Generator<Candidate> {
    const params = {
      configID: connection.configID,
      districtID: connection.districtID,
      endYear: connection.endYear,
      yearStart: connection.yearStart,
      yearEnd: connection.yearEnd,
    };
    for (const row of this.stmt.iterate(params) as Iterable<Record<string, unknown>>) {
      const facts: JsonObject = {};
      for (const [k, v] of Object.entries(row)) {
        if (this.jsonColumns.has(k) && typeof v === 'string') {
          facts[k] = JSON.parse(v) as Json;
        } else {
          facts[k] = (typeof v === 'bigint' ? Number(v) : v) as Json;
        }
      }
      yield { connection, sourceKey: sourceKeyOf(row, this.profile.def.source.key), facts };
    }
  }
}
