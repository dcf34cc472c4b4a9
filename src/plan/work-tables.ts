import type { Database, Statement } from 'better-sqlite3';
import type { JsonObject, Operation } from '../types.js';
import { PHASE, type PlanIssue } from './plan-types.js';

/** How a kept record stands against its own identity row. */
export const OWN = {
  /** No row (or a row of another ODS instance). */
  none: 0,
  /** Same natural key, same body, last send succeeded: nothing to do. */
  inStep: 1,
  /** Same natural key, but the body differs or the last send failed. */
  sameKey: 2,
  /** The row holds an ODS record with another natural key: a key change. */
  otherKey: 3,
  /** A row without an Ed-Fi id (an earlier POST failed). */
  noId: 4,
} as const;
export type Own = (typeof OWN)[keyof typeof OWN];

/** State of a record read in this run (plan_seen.state). */
export const SEEN = {
  kept: 0,
  /** Its body fails a check: not sent, and what was sent before stays in the ODS until Campus is fixed. */
  heldBack: 1,
  excluded: 2,
  /** Repeats the natural key of another record of its group (a Campus duplicate): held back, its own old record goes. */
  duplicate: 3,
} as const;

/**
 * A kept record that does not get its natural key: `duplicate` (an earlier record of its connection has it),
 * `shared` (another connection of the instance sends it), `immutable` (a field that may not change did: nothing
 * is sent, the old record stays).
 */
export type LoserKind = 'duplicate' | 'shared' | 'immutable';

/** A kept record that passed its checks, as the claim stage reads it back. */
export interface DesiredRow {
  id: number;
  instance: string;
  nkHash: string;
  year: number;
  district: number;
  seq: number;
  connection: string;
  sourceKey: string;
  student: string | null;
  decisionId: number;
  bodyHash: string;
  own: Own;
  ownEdfiId: string | null;
  ownNkHash: string | null;
  /** Present unless the record is in step with its identity row (nothing to send); parsed when first read. */
  readonly body: JsonObject | null;
  naturalKey: JsonObject | null;
  /** Findings of body checks of severity warn, logged if the record is sent. */
  warnings: Array<{ id: string; message: string }> | null;
}

interface RawDesired {
  id: number;
  instance: string;
  nk_hash: string;
  year: number;
  district: number;
  seq: number;
  connection: string;
  source_key: string;
  student: string | null;
  decision_id: number;
  body_hash: string;
  own: Own;
  own_edfi_id: string | null;
  own_nk_hash: string | null;
  natural_key: string | null;
  warnings: string | null;
}

function desiredFromRaw(r: RawDesired, bodyOf: (id: number) => string | null): DesiredRow {
  // The body is read and parsed only when a stage reads it: a new record's POST is written pointing at the stored
  // text, so a first night never reads the bodies back here (read in natural-key order, each one was a random page).
  let body: JsonObject | null | undefined;
  return {
    id: r.id, instance: r.instance, nkHash: r.nk_hash, year: r.year, district: r.district, seq: r.seq, connection: r.connection,
    sourceKey: r.source_key, student: r.student, decisionId: r.decision_id, bodyHash: r.body_hash, own: r.own,
    ownEdfiId: r.own_edfi_id, ownNkHash: r.own_nk_hash,
    get body() {
      if (body === undefined) {
        const text = bodyOf(r.id);
        body = text ? (JSON.parse(text) as JsonObject) : null;
      }
      return body;
    },
    naturalKey: r.natural_key ? (JSON.parse(r.natural_key) as JsonObject) : null,
    warnings: r.warnings ? (JSON.parse(r.warnings) as Array<{ id: string; message: string }>) : null,
  };
}

const PAGE = 1000;

/** Why a record is POSTed when nobody holds its natural key. */
export const NEW_RECORD_REASON = { fresh: 'new record', failed: 'not yet in the ODS (an earlier send failed)' } as const;

/**
 * A plan's working tables, in the state connection's TEMP schema (on disk, dropped when the plan closes): every
 * record read, every record wanted, the operations and issues in emit order. They keep a run's memory flat in
 * the number of students. Readers page through them, so the state file can be written while a plan is read.
 */
export class WorkTables {
  private readonly seenStmt: Statement;
  private readonly desiredStmt: Statement;
  private readonly opStmt: Statement;
  private readonly issueStmt: Statement;
  private readonly forgetStmt: Statement;
  private readonly loserStmt: Statement;
  private indexed = false;
  private seenStmt2!: Statement;
  private keptStmt!: Statement;
  private loserOfStmt!: Statement;

  constructor(private readonly db: Database) {
    // The working tables need no rollback journal: a failed plan drops them. Journaling their pages was most of
    // the write volume of a large first night.
    db.pragma('temp.journal_mode = OFF');
    db.exec(`
      DROP TABLE IF EXISTS temp.plan_seen; DROP TABLE IF EXISTS temp.plan_desired; DROP TABLE IF EXISTS temp.plan_ops;
      DROP TABLE IF EXISTS temp.plan_issues; DROP TABLE IF EXISTS temp.plan_forget; DROP TABLE IF EXISTS temp.plan_losers;
      DROP TABLE IF EXISTS temp.plan_attention; DROP TABLE IF EXISTS temp.plan_unclaimed;
      DROP TABLE IF EXISTS temp.plan_posted; DROP TABLE IF EXISTS temp.plan_decision_rules;
      CREATE TEMP TABLE plan_seen (connection TEXT NOT NULL, source_key TEXT NOT NULL, student TEXT, state INTEGER NOT NULL, decision_id INTEGER NOT NULL);
      CREATE TEMP TABLE plan_desired (
        id INTEGER PRIMARY KEY, instance TEXT NOT NULL, nk_hash TEXT NOT NULL, year INTEGER NOT NULL, district INTEGER NOT NULL,
        seq INTEGER NOT NULL, connection TEXT NOT NULL, source_key TEXT NOT NULL, student TEXT, decision_id INTEGER NOT NULL,
        body_hash TEXT NOT NULL, own INTEGER NOT NULL, own_edfi_id TEXT, own_nk_hash TEXT, body TEXT, natural_key TEXT, warnings TEXT);
      CREATE TEMP TABLE plan_ops (id INTEGER PRIMARY KEY, phase INTEGER NOT NULL, seq INTEGER NOT NULL, connection TEXT NOT NULL,
        method TEXT NOT NULL, counted INTEGER NOT NULL, key_change INTEGER NOT NULL, op TEXT NOT NULL, body_of INTEGER);
      CREATE TEMP TABLE plan_issues (id INTEGER PRIMARY KEY, catalogue_id TEXT NOT NULL, level TEXT, issue TEXT NOT NULL);
      CREATE TEMP TABLE plan_forget (connection TEXT NOT NULL, source_key TEXT NOT NULL);
      CREATE TEMP TABLE plan_losers (connection TEXT NOT NULL, source_key TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (connection, source_key));
      CREATE TEMP TABLE plan_attention (id INTEGER PRIMARY KEY, desired_id INTEGER NOT NULL);
      CREATE TEMP TABLE plan_unclaimed (id INTEGER PRIMARY KEY, identity_rowid INTEGER NOT NULL);
      CREATE TEMP TABLE plan_posted (desired_id INTEGER PRIMARY KEY);
      CREATE TEMP TABLE plan_decision_rules (decision_id INTEGER PRIMARY KEY, rules TEXT NOT NULL);`);
    this.seenStmt = db.prepare('INSERT INTO plan_seen (connection, source_key, student, state, decision_id) VALUES (?, ?, ?, ?, ?)');
    this.desiredStmt = db.prepare(`INSERT INTO plan_desired (instance, nk_hash, year, district, seq, connection, source_key, student, decision_id,
      body_hash, own, own_edfi_id, own_nk_hash, body, natural_key, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.opStmt = db.prepare('INSERT INTO plan_ops (phase, seq, connection, method, counted, key_change, op, body_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.issueStmt = db.prepare('INSERT INTO plan_issues (catalogue_id, level, issue) VALUES (?, ?, ?)');
    this.forgetStmt = db.prepare('INSERT INTO plan_forget (connection, source_key) VALUES (?, ?)');
    this.loserStmt = db.prepare('INSERT OR REPLACE INTO plan_losers (connection, source_key, kind) VALUES (?, ?, ?)');
  }

  seen(connection: string, sourceKey: string, student: string | null, state: number, decisionId: number): void {
    this.seenStmt.run(connection, sourceKey, student, state, decisionId);
  }

  /** Wanted records in step with their own row, per instance (most of them never need a decision). */
  readonly inStep = new Map<string, number>();

  desired(r: Omit<DesiredRow, 'id'>): void {
    if (r.own === OWN.inStep) this.inStep.set(r.instance, (this.inStep.get(r.instance) ?? 0) + 1);
    this.desiredStmt.run(r.instance, r.nkHash, r.year, r.district, r.seq, r.connection, r.sourceKey, r.student, r.decisionId, r.bodyHash, r.own,
      r.ownEdfiId, r.ownNkHash, r.body ? JSON.stringify(r.body) : null, r.naturalKey ? JSON.stringify(r.naturalKey) : null,
      r.warnings ? JSON.stringify(r.warnings) : null);
  }

  /**
   * An operation, spooled in emit order. Its body is not copied: `bodyOf` names the wanted record it comes from
   * (a PUT gets the Ed-Fi id added when read back).
   *
   * Emit order is the phase, then, within the POSTs and the PUTs, the order the records were read; within the
   * DELETEs and the key-change units, the order they were planned (a unit's operations stay together, in order).
   * Nothing within a phase depends on another operation of it (the emitter runs a phase concurrently). Planned in
   * natural-key order, the bodies were read back one random page at a time, and the identity rows the sends write
   * landed in that order, so every later night looked them up at random too.
   */
  operation(phase: number, op: Operation, counted: boolean, keyChange: boolean, bodyOf: number | null): void {
    const { body: _body, ...withoutBody } = op;
    const seq = (phase === PHASE.post || phase === PHASE.put) && bodyOf !== null ? bodyOf : this.planned++;
    this.opStmt.run(phase, seq, op.connection, op.method, counted ? 1 : 0, keyChange ? 1 : 0, JSON.stringify(bodyOf !== null ? withoutBody : op), bodyOf);
  }
  private planned = 0;

  issue(i: PlanIssue): void {
    this.issueStmt.run(i.catalogueId, i.level ?? null, JSON.stringify(i));
  }

  forget(connection: string, sourceKey: string): void {
    this.forgetStmt.run(connection, sourceKey);
  }

  loser(connection: string, sourceKey: string, kind: LoserKind): void {
    this.loserStmt.run(connection, sourceKey, kind);
  }

  /**
   * The claim stage's index of wanted records: by instance and natural key, in the order of the winner rule. It is
   * built once the records are read, in one sort, rather than kept up row by row: inserting into it in random key
   * order was most of the cost of writing a wanted record (290,000 rows: about 5.5 s kept up, against 1.8 s for
   * the rows and 0.8 s to build it after). A look-up by key while records are still read builds it at once, and the
   * rows that follow keep it up.
   */
  private keyIndex(): void {
    if (this.keyIndexed) return;
    this.db.exec('CREATE INDEX temp.plan_desired_key ON plan_desired(instance, nk_hash, year DESC, district, seq)');
    this.keyIndexed = true;
  }
  private keyIndexed = false;

  /** Indexes by record and by key, built once every connection has been read. */
  index(): void {
    this.keyIndex();
    if (this.indexed) return;
    this.db.exec(`CREATE INDEX temp.plan_seen_key ON plan_seen(connection, source_key);
                  CREATE INDEX temp.plan_desired_record ON plan_desired(connection, source_key);`);
    this.indexed = true;
    this.seenStmt2 = this.db.prepare('SELECT state, decision_id AS decisionId FROM plan_seen WHERE connection = ? AND source_key = ? LIMIT 1');
    this.keptStmt = this.db.prepare(`SELECT ${SEEN.kept} AS state, decision_id AS decisionId FROM plan_desired WHERE connection = ? AND source_key = ? LIMIT 1`);
    this.loserOfStmt = this.db.prepare('SELECT kind FROM plan_losers WHERE connection = ? AND source_key = ?');
  }

  /**
   * A source key the query returned more than once in a connection: the first row read is used, the others are
   * dropped from the plan. Returns the repeated keys.
   */
  dropRepeatedKeys(): Array<{ connection: string; sourceKey: string; student: string | null }> {
    const repeated = this.db.prepare(`SELECT connection, source_key AS sourceKey, MIN(id) AS first, student FROM plan_desired
      GROUP BY connection, source_key HAVING COUNT(*) > 1`).all() as Array<{ connection: string; sourceKey: string; first: number; student: string | null }>;
    for (const r of repeated) this.db.prepare('DELETE FROM plan_desired WHERE connection = ? AND source_key = ? AND id <> ?').run(r.connection, r.sourceKey, r.first);
    return repeated.map(({ connection, sourceKey, student }) => ({ connection, sourceKey, student }));
  }

  /**
   * The POSTs of an instance's new records, decided in one statement: a record never sent (or whose POST failed)
   * that alone wants its natural key, which no identity row and no owed DELETE holds, with no warning to log. The
   * diff stage would make exactly this POST for each of them (spec/plan-fast-posts.spec.ts plans both ways); here
   * a first night's records are not read back one by one. The records are left out of attention().
   * `rulesOf` gives the rule ids an operation names for a decision (its rules, then the mapping).
   */
  postNewRecords(instance: string, resource: string, rulesOf: (decisionId: number) => string[]): number {
    this.keyIndex();
    this.db.prepare('DELETE FROM plan_decision_rules').run();
    const ids = this.db.prepare('SELECT DISTINCT decision_id FROM plan_desired WHERE instance = ?').pluck().all(instance) as number[];
    const addRules = this.db.prepare('INSERT INTO plan_decision_rules (decision_id, rules) VALUES (?, ?)');
    for (const id of ids) addRules.run(id, JSON.stringify(rulesOf(id)));
    const { changes } = this.db.prepare(`INSERT INTO plan_posted (desired_id)
      SELECT d.id FROM plan_desired d
      WHERE d.instance = @instance AND d.own IN (${OWN.none}, ${OWN.noId}) AND d.warnings IS NULL AND d.body IS NOT NULL AND d.natural_key IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM plan_desired e WHERE e.instance = d.instance AND e.nk_hash = d.nk_hash AND e.id <> d.id)
        AND NOT EXISTS (SELECT 1 FROM identity_map i WHERE i.instance = d.instance AND i.resource = @resource AND i.nk_hash = d.nk_hash AND i.edfi_id IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM owed_deletes o WHERE o.instance = d.instance AND o.resource = @resource AND o.nk_hash = d.nk_hash)`).run({ instance, resource });
    // The operation as the diff stage writes it (operation(): phase, then the reading order; no body, it is read
    // from the wanted record), its members in the diff stage's order.
    this.db.prepare(`INSERT INTO plan_ops (phase, seq, connection, method, counted, key_change, op, body_of)
      SELECT ${PHASE.post}, d.id, d.connection, 'POST', 0, 0, json_object(
          'resource', @resource, 'connection', d.connection, 'sourceKey', d.source_key, 'student', d.student,
          'naturalKey', json(d.natural_key), 'bodyHash', d.body_hash, 'instance', d.instance, 'method', 'POST',
          'rules', json(r.rules), 'reason', CASE d.own WHEN ${OWN.noId} THEN @failed ELSE @fresh END), d.id
      FROM plan_posted p JOIN plan_desired d ON d.id = p.desired_id JOIN plan_decision_rules r ON r.decision_id = d.decision_id
      WHERE d.instance = @instance
      ORDER BY d.id`).run({ instance, resource, failed: NEW_RECORD_REASON.failed, fresh: NEW_RECORD_REASON.fresh });
    return changes;
  }

  /** Wanted records of an instance that need a decision: not in step with their own row, or sharing a natural key. */
  *attention(instance: string, everyRecord: boolean): Generator<DesiredRow[]> {
    this.keyIndex();
    this.db.prepare('DELETE FROM plan_attention').run();
    this.db.prepare(`INSERT INTO plan_attention (desired_id)
      SELECT d.id FROM plan_desired d
      WHERE d.instance = @instance AND (@every OR d.own <> ${OWN.inStep}
        OR EXISTS (SELECT 1 FROM plan_desired e WHERE e.instance = d.instance AND e.nk_hash = d.nk_hash AND e.id <> d.id))
        AND NOT EXISTS (SELECT 1 FROM plan_posted p WHERE p.desired_id = d.id)
      ORDER BY d.nk_hash, d.year DESC, d.district, d.seq`).run({ instance, every: everyRecord ? 1 : 0 });
    // Every column but the body, as the table has them (a column added later comes along).
    const columns = (this.db.pragma('temp.table_info(plan_desired)') as Array<{ name: string }>).filter((c) => c.name !== 'body').map((c) => `d.${c.name}`);
    const page = this.db.prepare(`SELECT a.id AS attention_id, ${columns.join(', ')} FROM plan_attention a JOIN plan_desired d ON d.id = a.desired_id
      WHERE a.id > ? ORDER BY a.id LIMIT ${PAGE}`);
    const bodyStmt = this.db.prepare('SELECT body FROM plan_desired WHERE id = ?').pluck();
    const bodyOf = (id: number): string | null => (bodyStmt.get(id) as string | null | undefined) ?? null;
    // Yields whole natural-key groups: a group cut by the page boundary waits for the next page.
    let after = 0;
    let group: DesiredRow[] = [];
    for (;;) {
      const rows = page.all(after) as Array<RawDesired & { attention_id: number }>;
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.attention_id;
      for (const r of rows) {
        const d = desiredFromRaw(r, bodyOf);
        if (group.length > 0 && group[0]!.nkHash !== d.nkHash) {
          yield group;
          group = [];
        }
        group.push(d);
      }
    }
    if (group.length > 0) yield group;
  }

  /** Whether a record of this instance wants the natural key (an ODS record with it is then not "nobody's"). */
  isWanted(instance: string, nkHash: string): boolean {
    this.keyIndex();
    this.wantedStmt ??= this.db.prepare('SELECT 1 FROM plan_desired WHERE instance = ? AND nk_hash = ? LIMIT 1');
    return this.wantedStmt.get(instance, nkHash) !== undefined;
  }
  private wantedStmt: Statement | undefined;

  /**
   * What this run saw of a record: kept (a row of plan_desired), held back, a duplicate, excluded (with the
   * decision), or nothing (not in Campus). Only records with an identity row are looked up here, and those are
   * always written down when read.
   */
  seenState(connection: string, sourceKey: string): { state: number; decisionId: number; loser?: LoserKind } | undefined {
    let s = this.seenStmt2.get(connection, sourceKey) as { state: number; decisionId: number } | undefined;
    s ??= this.keptStmt.get(connection, sourceKey) as { state: number; decisionId: number } | undefined;
    if (!s) return undefined;
    const l = this.loserOfStmt.get(connection, sourceKey) as { kind: LoserKind } | undefined;
    return l ? { ...s, loser: l.kind } : s;
  }

  /**
   * Identity rows of these connections in an instance that hold an ODS record no wanted record claims by natural
   * key: candidates for a DELETE. Listed first, then read in pages, so operations can be written meanwhile.
   */
  *unclaimed(instance: string, resource: string, connections: string[]): Generator<number[]> {
    this.keyIndex();
    this.db.prepare('DELETE FROM plan_unclaimed').run();
    this.db.prepare(`INSERT INTO plan_unclaimed (identity_rowid)
      SELECT i.rowid FROM identity_map i
      WHERE i.instance = @instance AND i.resource = @resource AND i.edfi_id IS NOT NULL
        AND i.connection IN (SELECT value FROM json_each(@connections))
        AND NOT EXISTS (SELECT 1 FROM plan_desired d WHERE d.instance = i.instance AND d.nk_hash = i.nk_hash)
      ORDER BY i.connection, i.source_key`).run({ instance, resource, connections: JSON.stringify(connections) });
    const page = this.db.prepare(`SELECT id, identity_rowid AS r FROM plan_unclaimed WHERE id > ? ORDER BY id LIMIT ${PAGE}`);
    let after = 0;
    for (;;) {
      const rows = page.all(after) as Array<{ id: number; r: number }>;
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.id;
      yield rows.map((x) => x.r);
    }
  }

  /**
   * Identity rows without an Ed-Fi id of these connections whose record this run does not want as its own (kept and
   * winning its key, or held back by a check or an immutable field): forgotten.
   */
  unsentNotWanted(resource: string, connections: string[]): Array<{ connection: string; sourceKey: string }> {
    return this.db.prepare(`SELECT i.connection, i.source_key AS sourceKey FROM identity_map i
      WHERE i.resource = ? AND i.edfi_id IS NULL AND i.connection IN (SELECT value FROM json_each(?))
        AND NOT EXISTS (SELECT 1 FROM plan_seen s WHERE s.connection = i.connection AND s.source_key = i.source_key AND s.state = ${SEEN.heldBack})
        AND NOT EXISTS (SELECT 1 FROM plan_desired d WHERE d.connection = i.connection AND d.source_key = i.source_key
          AND NOT EXISTS (SELECT 1 FROM plan_losers l WHERE l.connection = d.connection AND l.source_key = d.source_key AND l.kind <> 'immutable'))
      ORDER BY i.connection, i.source_key`).all(resource, JSON.stringify(connections)) as Array<{ connection: string; sourceKey: string }>;
  }

  /** Counted deletes per connection (the mass-delete guard). */
  deletesByConnection(): Map<string, number> {
    const rows = this.db.prepare('SELECT connection, SUM(counted) AS n FROM plan_ops GROUP BY connection').all() as Array<{ connection: string; n: number }>;
    return new Map(rows.map((r) => [r.connection, r.n]));
  }

  /** Drops every operation of these connections (refused by the guard). */
  dropOperations(connections: string[]): void {
    this.db.prepare('DELETE FROM plan_ops WHERE connection IN (SELECT value FROM json_each(?))').run(JSON.stringify(connections));
  }

  operationCounts(): { byMethod: Record<string, number>; keyChanges: number; byConnection: Map<string, number>; total: number } {
    const byMethod: Record<string, number> = { POST: 0, PUT: 0, DELETE: 0 };
    let total = 0;
    for (const r of this.db.prepare('SELECT method, COUNT(*) AS n FROM plan_ops GROUP BY method').all() as Array<{ method: string; n: number }>) {
      byMethod[r.method] = r.n;
      total += r.n;
    }
    const keyChanges = (this.db.prepare('SELECT COUNT(*) AS n FROM plan_ops WHERE key_change = 1').get() as { n: number }).n;
    const rows = this.db.prepare('SELECT connection, SUM(counted) AS n FROM plan_ops GROUP BY connection').all() as Array<{ connection: string; n: number }>;
    return { byMethod, keyChanges, byConnection: new Map(rows.map((r) => [r.connection, r.n])), total };
  }

  /** Operations in emit order (see operation()), read a page at a time. */
  *operations(): Generator<Operation> {
    this.db.exec('CREATE INDEX IF NOT EXISTS temp.plan_ops_order ON plan_ops(phase, seq, id)');
    const page = this.db.prepare(`SELECT o.id, o.phase, o.seq, o.op, d.body FROM plan_ops o LEFT JOIN plan_desired d ON d.id = o.body_of
      WHERE (o.phase, o.seq, o.id) > (?, ?, ?) ORDER BY o.phase, o.seq, o.id LIMIT ${PAGE}`);
    let after: [number, number, number] = [-1, 0, 0];
    for (;;) {
      const rows = page.all(after[0], after[1], after[2]) as Array<{ id: number; phase: number; seq: number; op: string; body: string | null }>;
      if (rows.length === 0) return;
      const last = rows[rows.length - 1]!;
      after = [last.phase, last.seq, last.id];
      for (const r of rows) {
        const op = JSON.parse(r.op) as Operation;
        if (r.body !== null) op.body = op.method === 'PUT' && op.id ? { ...(JSON.parse(r.body) as JsonObject), id: op.id } : (JSON.parse(r.body) as JsonObject);
        yield op;
      }
    }
  }

  operationCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM plan_ops').get() as { n: number }).n;
  }

  *issues(): Generator<PlanIssue> {
    yield* this.paged<PlanIssue>('SELECT id, issue AS v FROM plan_issues', (v) => JSON.parse(v) as PlanIssue);
  }

  issueCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.db.prepare("SELECT catalogue_id AS id, COUNT(*) AS n FROM plan_issues WHERE level IS NULL GROUP BY catalogue_id").all() as Array<{ id: string; n: number }>) out[r.id] = r.n;
    return out;
  }

  *forgotten(): Generator<{ connection: string; sourceKey: string }> {
    yield* this.paged('SELECT rowid AS id, connection || char(0) || source_key AS v FROM plan_forget', (v) => {
      const [connection, sourceKey] = v.split('\0') as [string, string];
      return { connection, sourceKey };
    });
  }

  /** Records the rules kept out, with their decision id (every one only when the plan was asked to keep them). */
  *excluded(limit = Infinity): Generator<{ connection: string; sourceKey: string; student: string | null; decisionId: number }> {
    const page = this.db.prepare(`SELECT rowid AS id, connection, source_key AS sourceKey, student, decision_id AS decisionId FROM plan_seen
      WHERE state = ${SEEN.excluded} AND rowid > ? ORDER BY rowid LIMIT ${PAGE}`);
    let after = 0;
    let n = 0;
    for (;;) {
      const rows = page.all(after) as Array<{ id: number; connection: string; sourceKey: string; student: string | null; decisionId: number }>;
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.id;
      for (const { id: _id, ...r } of rows) {
        if (n++ >= limit) return;
        yield r;
      }
    }
  }

  /** Source keys of a connection read this run, when every record read was written down (the cache prune). */
  seenKeysSql(): string {
    return 'SELECT source_key FROM plan_seen WHERE connection = ? UNION ALL SELECT source_key FROM plan_desired WHERE connection = ?';
  }

  private *paged<T>(select: string, parse: (v: string) => T): Generator<T> {
    const page = this.db.prepare(`${select} WHERE rowid > ? ORDER BY rowid LIMIT ${PAGE}`);
    let after = 0;
    for (;;) {
      const rows = page.all(after) as Array<{ id: number; v: string }>;
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.id;
      for (const r of rows) yield parse(r.v);
    }
  }

  close(): void {
    this.db.exec(`DROP TABLE IF EXISTS temp.plan_seen; DROP TABLE IF EXISTS temp.plan_desired; DROP TABLE IF EXISTS temp.plan_ops;
      DROP TABLE IF EXISTS temp.plan_issues; DROP TABLE IF EXISTS temp.plan_forget; DROP TABLE IF EXISTS temp.plan_losers;
      DROP TABLE IF EXISTS temp.plan_attention; DROP TABLE IF EXISTS temp.plan_unclaimed;
      DROP TABLE IF EXISTS temp.plan_posted; DROP TABLE IF EXISTS temp.plan_decision_rules;`);
  }
}
