import type { Database, Statement } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { Candidate, Connection, Json, JsonObject } from '../types.js';
import type { FactContext } from '../profile/computed-facts.js';
import { connectionFactsOf } from '../snapshot/connections.js';
import { preferenceFingerprint, readPreferenceTable } from '../snapshot/preferences.js';
import { ruleContext } from './record-evaluator.js';

/** One row of the profile's source query: a Campus record a connection may send. */
export interface SourceRow {
  /** "participationID=42": stable across runs, the key of the identity mapping. */
  sourceKey: string;
  /** Column values in query order, as SQLite returned them (an unchanged record is fingerprinted from these). */
  values: unknown[];
  /** Position in reading order within the connection: the last tie-breaker of the winner rule. */
  seq: number;
  /** The student the record is about (the profile's `source.student` column). */
  student: string | null;
}

/** Columns every derive rule groups by: the rows of one group are planned together (e.g. one student's records). */
export function groupColumns(profile: LoadedProfile): string[] {
  const defs = profile.def.derive ?? [];
  if (defs.length === 0) return [];
  // Groups must contain every derive rule's groups: the columns they all share. None shared: one group per connection.
  return defs[0]!.groupBy.filter((c) => defs.every((d) => d.groupBy.includes(c)));
}

/**
 * The read stage: streams a connection's source rows group by group, never a connection at once. The profile's
 * query is wrapped with ORDER BY the group columns, then the source key, so a group's rows arrive together.
 */
export class SourceReader {
  private readonly stmt: Statement;
  private readonly columns: string[];
  private readonly json: boolean[];
  private readonly keyIndexes: number[];
  private readonly groupIndexes: number[];
  private readonly studentIndex: number;
  private readonly contexts = new WeakMap<Connection, { context: FactContext; fingerprint: string }>();
  /** Rows of one group when the profile has no derive rule: one record at a time. */
  private readonly grouped: boolean;

  constructor(private readonly db: Database, private readonly profile: LoadedProfile) {
    const keys = profile.def.source.key;
    const groups = groupColumns(profile);
    this.grouped = (profile.def.derive ?? []).length > 0;
    const sql = profile.sourceSql.trim().replace(/;+\s*$/, '');
    const ordered = this.grouped ? `SELECT * FROM (\n${sql}\n) ORDER BY ${[...groups, ...keys].map(quote).join(', ')}` : sql;
    this.stmt = db.prepare(ordered).raw(true);
    this.columns = this.stmt.columns().map((c) => c.name);
    const jsonColumns = new Set(profile.def.source.json ?? []);
    this.json = this.columns.map((c) => jsonColumns.has(c));
    this.keyIndexes = keys.map((k) => this.columns.indexOf(k));
    this.groupIndexes = groups.map((g) => this.columns.indexOf(g));
    this.studentIndex = profile.def.source.student ? this.columns.indexOf(profile.def.source.student) : -1;
  }

  columnIndex(name: string): number {
    return this.columns.indexOf(name);
  }

  private params(c: Connection): Record<string, string | number> {
    return { configID: c.configID, districtID: c.districtID, endYear: c.endYear, yearStart: c.yearStart, yearEnd: c.yearEnd };
  }

  /** What computed facts read besides the row: the connection's Resource Preferences, read once per connection. */
  private factContext(conn: Connection): { context: FactContext; fingerprint: string } {
    let c = this.contexts.get(conn);
    if (!c) {
      const preferences = readPreferenceTable(this.db, conn.configID);
      c = { context: { preferences, descriptorNamespaces: this.profile.def.descriptorNamespaces }, fingerprint: preferenceFingerprint(preferences) };
      this.contexts.set(conn, c);
    }
    return c;
  }

  /** The rows of a connection, one group at a time (the group of consecutive rows with equal group columns). */
  *groups(conn: Connection): Generator<SourceRow[]> {
    const key = this.profile.def.source.key;
    // A computed fact that reads Resource Preferences changes with them: their fingerprint goes after the row's
    // values, so the row's fingerprint (the evaluation cache's key) changes too.
    const prefs = this.profile.computedFacts?.usesPreferences ? this.factContext(conn).fingerprint : undefined;
    let group: SourceRow[] = [];
    let seq = 0;
    for (const values of this.stmt.iterate(this.params(conn)) as Iterable<unknown[]>) {
      const sourceKey = this.keyIndexes.map((i, n) => `${key[n]}=${values[i] === null || values[i] === undefined ? '' : String(values[i])}`).join('|');
      const student = this.studentIndex >= 0 ? ((values[this.studentIndex] as string | null) ?? null) : null;
      if (prefs !== undefined) values.push(prefs);
      const row: SourceRow = { sourceKey, values, seq: seq++, student };
      if (group.length > 0 && !(this.grouped && this.sameGroup(group[0]!.values, values))) {
        yield group;
        group = [];
      }
      group.push(row);
    }
    if (group.length > 0) yield group;
  }

  private sameGroup(a: unknown[], b: unknown[]): boolean {
    for (const i of this.groupIndexes) if (a[i] !== b[i]) return false;
    return true;
  }

  /** The facts of a row: its columns (JSON columns parsed), the profile's computed facts, the configured year and the connection. */
  candidate(row: SourceRow, conn: Connection): Candidate {
    const facts: JsonObject = {};
    for (let i = 0; i < this.columns.length; i++) {
      const v = row.values[i];
      facts[this.columns[i]!] = this.json[i] && typeof v === 'string' ? (JSON.parse(v) as Json) : ((typeof v === 'bigint' ? Number(v) : v) as Json);
    }
    const computed = this.profile.computedFacts;
    if (computed && computed.names.length > 0) computed.apply(facts, connectionFactsOf(conn), this.factContext(conn).context);
    // The facts the rules see (and the mapping, with the derived facts added in place): built once, not copied
    // per stage.
    const { configuredYear, connection } = ruleContext(conn);
    facts.configuredYear = configuredYear;
    facts.connection = connection;
    return { connection: conn, sourceKey: row.sourceKey, facts };
  }
}

function quote(column: string): string {
  return `"${column.replace(/"/g, '""')}"`;
}
