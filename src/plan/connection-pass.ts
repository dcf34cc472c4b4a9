import type { Database } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import type { EvalCache } from '../state/eval-cache.js';
import type { IdentityBrief, IdentityMap } from '../state/identity-map.js';
import type { Connection, Json } from '../types.js';
import { canonicalJson } from '../util/hash.js';
import { bodyHold } from './body-checks.js';
import type { DecideStage, DecidedRow } from './decide.js';
import { applyDerive, deriveColumns, type DeriveInput } from './derive.js';
import { duplicateMessage, NATURAL_KEY_CONFLICT, planIssue } from './issues.js';
import type { MapStage, MappedRecord } from './map.js';
import type { PlanOptions } from './plan-options.js';
import type { ConnectionSummary, PlanSummary } from './plan-types.js';
import type { SourceReader } from './read.js';
import { OWN, SEEN, type Own, type WorkTables } from './work-tables.js';

/** Rows read between two turns of the event loop (and progress reports): a fraction of a second of planning. */
const PROGRESS_EVERY = 2_000;

/** Rows written to the state between commits: batched writes are what make SQLite fast. */
const COMMIT_EVERY = 5_000;

export interface ConnectionPass {
  profile: LoadedProfile;
  state: Database;
  conn: Connection;
  key: string;
  instance: string;
  reader: SourceReader;
  decide: DecideStage;
  map: MapStage;
  cache: EvalCache;
  scope: number;
  identity: IdentityMap;
  tables: WorkTables;
  options: PlanOptions;
  summary: ConnectionSummary;
  planSummary: PlanSummary;
  /** Records the rules kept out, counted by decision, the first few kept for the report. */
  excluded: ExcludedTally;
}

/** Excluded records are counted, and kept only as far as a report needs them: memory stays bounded. */
export interface ExcludedTally {
  byDecision: Map<number, number>;
  sample: Array<{ connection: string; sourceKey: string; student: string | null; decisionId: number }>;
  sampleSize: number;
}

/** How a kept record stands against its own identity row. */
function ownOf(brief: IdentityBrief | undefined, instance: string, m: MappedRecord): Own {
  if (!brief || (brief.instance !== null && brief.instance !== instance)) return OWN.none;
  if (!brief.edfiId) return OWN.noId;
  if (brief.nkHash !== m.nkHash) return OWN.otherKey;
  return brief.bodyHash === m.bodyHash && brief.lastOutcome === 'ok' ? OWN.inStep : OWN.sameKey;
}

/**
 * Reads one connection group by group: decide, derive over the kept records, map, check, derive again over the
 * records not held back ("exactly one record per student is primary" among the records really sent), then hands
 * each kept record to the claim stage (a row of plan_desired). Nothing of the group is held after it.
 */
export async function passConnection(p: ConnectionPass): Promise<void> {
  const { profile, state, conn, key, tables, summary } = p;
  const deriveDefs = profile.def.derive ?? [];
  const deriveCols = deriveColumns(deriveDefs);
  const deriveIndexes = deriveCols.map((c) => p.reader.columnIndex(c));
  const [year, district] = [conn.endYear, conn.districtID];
  // Records without an identity row that are not kept need not be written down, unless every record read is wanted:
  // for the caller (every excluded record), or for the cache prune (entries of records no longer read). The cache
  // is pruned when it holds 5% more entries than the last run read.
  const last = p.cache.rowsRead(p.scope);
  const prune = !p.options.onlySourceKeys && last !== null && p.cache.count(p.scope) > last * 1.05 + 50;
  const keepAll = prune || Boolean(p.options.keepExcluded);
  let uncommitted = 0;
  state.prepare('BEGIN').run();
  try {
    for (const group of withPrefetch(p.reader.groups(conn), (rows) => p.decide.prefetch(rows))) {
      summary.candidates += group.length;
      if (summary.candidates % PROGRESS_EVERY < group.length) {
        // Every await of a pass resolves at once, so without a turn of the event loop no timer (the run lock's
        // heartbeat) and no signal handler (SIGTERM) would run until the plan is made: a minute and more at a million.
        await new Promise<void>((resolve) => setImmediate(resolve));
        p.options.onProgress?.(summary.candidates, key);
      }
      const decided = await p.decide.decide(group);
      const kept: DecidedRow[] = [];
      for (const d of decided) {
        p.options.onDecision?.(key, d.sourceKey, d.decision);
        if (d.evaluated) summary.evaluated++;
        if (d.decision.kind === 'kept') kept.push(d);
      }
      summary.kept += kept.length;
      const mapped = await mapKept(p, kept, deriveDefs.length > 0, deriveIndexes, deriveCols);

      for (const d of decided) {
        const m = mapped.records.get(d.sourceKey);
        if (d.decision.kind !== 'kept' || !m) {
          if (d.own || keepAll) tables.seen(key, d.sourceKey, d.student, SEEN.excluded, d.decisionId);
          p.excluded.byDecision.set(d.decisionId, (p.excluded.byDecision.get(d.decisionId) ?? 0) + 1);
          if (p.excluded.sample.length < p.excluded.sampleSize) p.excluded.sample.push({ connection: key, sourceKey: d.sourceKey, student: d.student, decisionId: d.decisionId });
          p.planSummary.excluded++;
          for (const r of d.decision.reasons) p.planSummary.excludedByReason[r] = (p.planSummary.excludedByReason[r] ?? 0) + 1;
          if (d.evaluated) p.cache.put(p.scope, d.sourceKey, { rulesKey: d.rulesKey, decisionId: d.decisionId, mapKey: null, bodyHash: null, nkHash: null, problems: null });
          continue;
        }
        p.options.onDerived?.(key, d.sourceKey, m.derived);
        if (m.fresh) {
          summary.mapped++;
          p.cache.put(p.scope, d.sourceKey, { rulesKey: d.rulesKey, decisionId: d.decisionId, mapKey: m.mapKey, bodyHash: m.bodyHash, nkHash: m.nkHash, problems: m.holds.length > 0 ? m.holds : null });
        }
        const brief = d.own;
        const hold = mapped.held.get(d.sourceKey);
        if (hold) {
          summary.heldBack++;
          if (d.own || keepAll) tables.seen(key, d.sourceKey, d.student, hold.duplicateOf ? SEEN.duplicate : SEEN.heldBack, d.decisionId);
          // The body goes with the entry when it was mapped in this run (the problem is new); a record held back
          // for the same reason as last night is reported again without mapping it again.
          const message = hold.duplicateOf ? duplicateMessage(hold.duplicateOf, m.naturalKey ?? null) : hold.message;
          tables.issue({
            ...planIssue(profile, { connection: key, sourceKey: d.sourceKey, student: d.student }, {
              method: hold.status === 400 && brief?.edfiId ? 'PUT' : 'POST', status: hold.status, message, kind: hold.kind, body: m.body,
            }),
            checks: hold.checks,
          });
          continue;
        }
        // A body is needed when something may be sent: not when the record is in step, nor when a record read
        // earlier (a later school year, a lower district, or earlier in this connection) already wants its key:
        // it cannot win that key (connections are read in the order of the winner rule).
        const needsBody = p.options.onDesired || (ownOf(brief, p.instance, m) !== OWN.inStep && (m.body !== undefined || !tables.isWanted(p.instance, m.nkHash)));
        const full = needsBody ? await p.map.withBody(m) : m;
        tables.desired({
          instance: p.instance, nkHash: full.nkHash, year, district, seq: d.seq, connection: key, sourceKey: d.sourceKey, student: d.student,
          decisionId: d.decisionId, bodyHash: full.bodyHash, own: ownOf(brief, p.instance, full), ownEdfiId: brief?.edfiId ?? null,
          ownNkHash: brief?.edfiId ? brief.nkHash : null, body: full.body ?? null, naturalKey: full.naturalKey ?? null,
          // A body check of severity warn is logged when the record is sent (the diff stage decides that).
          warnings: m.warnings.length > 0 ? m.warnings.map((w) => ({ id: w.id, message: w.message })) : null,
        });
      }
      uncommitted += group.length;
      if (uncommitted >= COMMIT_EVERY) {
        state.prepare('COMMIT').run();
        state.prepare('BEGIN').run();
        uncommitted = 0;
      }
    }
    state.prepare('COMMIT').run();
    // The state file is written once per connection, in a short write transaction of its own (parallel jobs on one
    // state file wait for each other here only).
    state.transaction(() => {
      p.cache.flush(!p.options.preview);
      if (p.options.preview) return;
      if (prune) p.cache.pruneUnseen(p.scope, tables.seenKeysSql(), [key, key]);
      p.cache.setRowsRead(p.scope, summary.candidates);
    }).immediate();
  } catch (err) {
    if (state.inTransaction) state.prepare('ROLLBACK').run();
    throw err;
  }
  p.options.onProgress?.(summary.candidates, key);
}

/** Rows looked up together before their groups are decided: one query per this many rows. */
const PREFETCH_ROWS = 256;

/** Yields the groups of a stream, reading ahead by chunks of about PREFETCH_ROWS rows and announcing each chunk. */
function* withPrefetch<T extends { sourceKey: string }>(groups: Iterable<T[]>, prefetch: (rows: T[]) => void): Generator<T[]> {
  let chunk: T[][] = [];
  let rows = 0;
  const flush = function* (): Generator<T[]> {
    prefetch(chunk.flat());
    yield* chunk;
    chunk = [];
    rows = 0;
  };
  for (const g of groups) {
    chunk.push(g);
    rows += g.length;
    if (rows >= PREFETCH_ROWS) yield* flush();
  }
  if (chunk.length > 0) yield* flush();
}

interface Hold {
  status: number;
  message: string;
  kind: string;
  checks: string[];
  /** A Campus duplicate: the record of the group that keeps the natural key. */
  duplicateOf?: string;
}

/**
 * Bodies of a group's kept records. A record is held back when its body fails a check or repeats the natural key
 * of an earlier record of the group; the cross-record facts are then taken again over the records not held back,
 * and the records whose facts moved are mapped again.
 */
async function mapKept(
  p: ConnectionPass, kept: DecidedRow[], derives: boolean, deriveIndexes: number[], deriveCols: string[],
): Promise<{ records: Map<string, MappedRecord>; held: Map<string, Hold> }> {
  const records = new Map<string, MappedRecord>();
  if (kept.length === 0) return { records, held: new Map() };
  const defs = p.profile.def.derive ?? [];
  const inputs: DeriveInput[] = kept.map((d) => {
    const values: Record<string, Json> = {};
    deriveCols.forEach((col, i) => (values[col] = (d.values[deriveIndexes[i]!] as Json) ?? null));
    return { sourceKey: d.sourceKey, values };
  });
  const first = derives ? applyDerive(defs, inputs) : new Map();
  for (const d of kept) records.set(d.sourceKey, await p.map.map(d, first.get(d.sourceKey) ?? {}));
  let held = heldBack(kept, records);
  if (derives && held.size > 0) {
    const final = applyDerive(defs, inputs.filter((i) => !held.has(i.sourceKey)));
    let moved = false;
    for (const d of kept) {
      const m = records.get(d.sourceKey)!;
      const want = final.get(d.sourceKey) ?? m.derived;
      if (!held.has(d.sourceKey) && canonicalJson(want) !== canonicalJson(m.derived)) {
        records.set(d.sourceKey, await p.map.map(d, want));
        moved = true;
      }
    }
    if (moved) held = heldBack(kept, records);
  }
  return { records, held };
}

function heldBack(kept: DecidedRow[], records: Map<string, MappedRecord>): Map<string, Hold> {
  const held = new Map<string, Hold>();
  const byKey = new Map<string, string>();
  for (const d of kept) {
    const m = records.get(d.sourceKey)!;
    if (m.holds.length > 0) {
      // Not sent; what was sent before stays in the ODS until the Campus data is fixed. A schema problem is the
      // Ed-Fi error the spec lists; a sanity rule alone names its own error-log entry.
      held.set(d.sourceKey, bodyHold(m.holds));
      continue;
    }
    const other = byKey.get(m.nkHash);
    if (other) {
      held.set(d.sourceKey, { status: 409, message: duplicateMessage(other, m.naturalKey ?? null), kind: NATURAL_KEY_CONFLICT, checks: ['duplicate-natural-key'], duplicateOf: other });
      continue;
    }
    byKey.set(m.nkHash, d.sourceKey);
  }
  return held;
}
