import type { Database, Statement } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { FactContext } from '../profile/computed-facts.js';
import type { Candidate, Connection, Json, JsonObject } from '../types.js';
import { connectionFactsOf } from './connections.js';
import { preferenceFingerprint, readPreferenceTable } from './preferences.js';

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
  private readonly contexts = new WeakMap<Connection, { context: FactContext; fingerprint: string }>();

  constructor(private readonly db: Database, private readonly profile: LoadedProfile) {
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

  /** What computed facts read besides the row: the connection's Resource Preferences, read once per connection. */
  private factContext(connection: Connection): { context: FactContext; fingerprint: string } {
    let c = this.contexts.get(connection);
    if (!c) {
      const preferences = readPreferenceTable(this.db, connection.configID);
      c = { context: { preferences, descriptorNamespaces: this.profile.def.descriptorNamespaces }, fingerprint: preferenceFingerprint(preferences) };
      this.contexts.set(connection, c);
    }
    return c;
  }

  *readRaw(connection: Connection): Generator<RawCandidate> {
    const key = this.profile.def.source.key;
    // A computed fact that reads Resource Preferences changes with them: their fingerprint goes after the row's
    // values, so the row's fingerprint (the planner's evaluation cache key) changes too.
    const prefs = this.profile.computedFacts?.usesPreferences ? this.factContext(connection).fingerprint : undefined;
    for (const values of this.stmt.iterate(this.params(connection)) as Iterable<unknown[]>) {
      const sourceKey = this.keyIndexes
        .map((i, n) => `${key[n]}=${values[i] === null || values[i] === undefined ? '' : String(values[i])}`)
        .join('|');
      if (prefs !== undefined) values.push(prefs);
      yield { connection, sourceKey, values };
    }
  }

  /** The row's facts, with the profile's computed facts added (the read stage's hook, until the planner calls it). */
  toCandidate(raw: RawCandidate): Candidate {
    const facts: JsonObject = {};
    for (let i = 0; i < this.columns.length; i++) {
      const v = raw.values[i];
      facts[this.columns[i]!] = this.json[i] && typeof v === 'string' ? (JSON.parse(v) as Json) : ((typeof v === 'bigint' ? Number(v) : v) as Json);
    }
    const computed = this.profile.computedFacts;
    if (computed && computed.names.length > 0) {
      computed.apply(facts, connectionFactsOf(raw.connection), this.factContext(raw.connection).context);
    }
    return { connection: raw.connection, sourceKey: raw.sourceKey, facts };
  }

  *read(connection: Connection): Generator<Candidate> {
    for (const raw of this.readRaw(connection)) yield this.toCandidate(raw);
  }
}
