import type { Database } from 'better-sqlite3';
import type { LoadedProfile } from '../profile/load-profile.js';
import { CandidateReader, type RawCandidate } from '../snapshot/candidates.js';
import type { MappingContext } from '../mapping/functions.js';
import { EvaluationPool } from './worker-pool.js';
import { connectionKey, readConnections } from '../snapshot/connections.js';
import { EvalCache, type CachedEvaluation } from '../state/eval-cache.js';
import { IdentityMap, type IdentityRow } from '../state/identity-map.js';
import type { Candidate, Connection, Decision, Json, JsonObject, Operation } from '../types.js';
import { canonicalJson, hashJson, sha1 } from '../util/hash.js';
import { applyDerive, deriveColumns, type DeriveInput } from './derive.js';
import { changedPaths, naturalKeyOf } from './paths.js';
import { emptyPlan, type ConnectionSummary, type Plan, type PlanIssue } from './plan-types.js';
import { RecordEvaluator } from './record-evaluator.js';
import { DESCRIPTOR_LIST_CHECK, SCHEMA_CHECK, decodeFinding } from '../sanity/body-findings.js';

export interface PlanOptions {
  profile: LoadedProfile;
  snapshot: Database;
  state: Database;
  /** Worker threads for rule and mapping evaluation of large batches (0: all on this thread). */
  workers?: number;
  /** The smallest batch sent to the workers (default 2,000: a smaller one is quicker on this thread). */
  workerThreshold?: number;
  /** Only these source keys (retry); others keep their identity rows untouched. */
  onlySourceKeys?: Set<string>;
  /** Only these connections ("districtID:endYear"); the others are neither sent nor deleted. */
  onlyConnections?: Set<string>;
  onProgress?: (done: number, connection: string) => void;
  /** Every decision as it is made (fixture coverage, explain). */
  onDecision?: (connection: string, sourceKey: string, decision: Decision) => void;
  /** Cross-record facts of each kept record (explain). */
  onDerived?: (connection: string, sourceKey: string, derived: JsonObject) => void;
  /** Every record the snapshot wants in the ODS, with its body (resync compares them with the ODS). */
  onDesired?: (connection: string, sourceKey: string, naturalKey: JsonObject, body: JsonObject) => void;
}

/** Kept records whose facts changed are held in memory for mapping up to this many; beyond, the query is read again. */
const MAX_HELD_FACTS = 50_000;
/** Rows read before their changed records are evaluated together. */
const CHUNK_ROWS = 20_000;
/** Records per message to a worker, and the smallest batch worth sending to workers at all. */
const WORKER_BATCH = 500;
const WORKER_THRESHOLD = 2_000;

interface Mapped {
  bodyHash: string;
  /** Parsed from `nk` when needed: most records of a night are unchanged and never need it. */
  naturalKey?: JsonObject;
  /** Canonical JSON of the natural key, for duplicate detection. */
  nk: string;
  problems: string[];
  derived: JsonObject;
  /** Present when mapped in this run; otherwise read from the cache only if the record must be sent. */
  body?: JsonObject;
  /** Taken from a cache entry made with other derived facts: confirmed or mapped again once they are final. */
  provisional?: boolean;
}

interface Seen {
  student: string | null;
  decision: Decision;
  rulesKey: string;
}

/** What the error log says of a record held back by the schema or descriptor checks (and any sanity rule with them). */
function heldBackMessage(holds: Array<{ id: string; message: string }>): string {
  const of = (id: string): string[] => holds.filter((f) => f.id === id).map((f) => f.message);
  const parts: string[] = [];
  if (of(SCHEMA_CHECK).length) parts.push(`the body does not pass the Ed-Fi schema: ${of(SCHEMA_CHECK).join('; ')}`);
  if (of(DESCRIPTOR_LIST_CHECK).length) parts.push(`not on the state's published descriptor list: ${of(DESCRIPTOR_LIST_CHECK).join('; ')}`);
  for (const f of holds) if (f.id !== SCHEMA_CHECK && f.id !== DESCRIPTOR_LIST_CHECK) parts.push(`${f.message} (sanity rule ${f.id})`);
  return parts.join('; ');
}

/** Fill in {column} placeholders of a warning text. */
function fillTemplate(text: string, row: Record<string, unknown>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => (row[k] === undefined || row[k] === null ? '' : String(row[k])));
}

/**
 * Turns a snapshot into the operations that bring the ODS in step with it: the desired records (rules, derive,
 * mapping) compared with the identity mapping of what was sent before.
 */
export class Planner {
  private readonly evaluator: RecordEvaluator;

  private pool: EvaluationPool | undefined;
  private readonly contexts = new Set<string>();

  constructor(private readonly opts: PlanOptions) {
    this.evaluator = new RecordEvaluator(opts.profile);
  }

  async plan(): Promise<Plan> {
    const { profile, snapshot } = this.opts;
    const plan = emptyPlan(profile.def.name, profile.def.resource.name);
    for (const w of profile.warnings) {
      for (const row of snapshot.prepare(w.sql).all({ profile: profile.def.connectionProfile ?? profile.def.name, resource: profile.def.resource.name }) as Array<Record<string, unknown>>) {
        plan.warnings.push({ id: w.id, message: fillTemplate(w.message, row) });
      }
    }
    const reader = new CandidateReader(snapshot, profile);
    try {
      for (const conn of readConnections(snapshot, profile)) {
        if (this.opts.onlyConnections && !this.opts.onlyConnections.has(connectionKey(conn))) continue;
        plan.connections.push(await this.planConnection(conn, reader, plan));
      }
    } finally {
      await this.pool?.close();
      this.pool = undefined;
    }
    // Deletes first (a freed natural key can then be taken), then key changes, then new records, then updates.
    const rank = (op: Operation): number => (op.unit ? 1 : op.method === 'DELETE' ? 0 : op.method === 'POST' ? 2 : 3);
    plan.operations = plan.operations.map((op, i) => ({ op, i })).sort((a, b) => rank(a.op) - rank(b.op) || a.i - b.i).map((x) => x.op);
    for (const op of plan.operations) plan.summary.operations[op.method] = (plan.summary.operations[op.method] ?? 0) + 1;
    for (const x of plan.excluded) {
      for (const r of x.decision.reasons) plan.summary.excludedByReason[r] = (plan.summary.excludedByReason[r] ?? 0) + 1;
    }
    for (const i of plan.issues) plan.summary.issues[i.catalogueId] = (plan.summary.issues[i.catalogueId] ?? 0) + 1;
    return plan;
  }

  private async planConnection(conn: Connection, reader: CandidateReader, plan: Plan): Promise<ConnectionSummary> {
    const { profile, snapshot, state } = this.opts;
    const resource = profile.def.resource.name;
    const key = connectionKey(conn);
    const identityMap = new IdentityMap(state);
    const identity = identityMap.summaries(key, resource);
    const summary: ConnectionSummary = {
      connection: key, configID: conn.configID, endYear: conn.endYear, resourceEnabled: conn.resourceEnabled,
      candidates: 0, kept: 0, evaluated: 0, mapped: 0, identityRows: identity.size, deletes: 0,
    };
    if (!conn.resourceEnabled) {
      // whenResourceDisabled: keep. "When a resource is toggled to off after data has sent, all sent data remains in the ODS but no new data sends."
      summary.note = `resource ${resource} is toggled off: nothing is sent, ${identity.size} record(s) already sent stay in the ODS`;
      return summary;
    }
    const cache = new EvalCache(state);
    const cached = cache.load(key, resource);
    const cacheWrites = new Map<string, CachedEvaluation>();
    const studentCol = profile.def.source.student;
    const deriveDefs = profile.def.derive ?? [];
    const deriveCols = deriveColumns(deriveDefs);
    const connFingerprint = canonicalJson({ ...conn.facts, yearStart: conn.yearStart, yearEnd: conn.yearEnd, configID: conn.configID });
    const ctx = this.evaluator.mappingContext(snapshot, conn);
    const prefsFingerprint = sha1(canonicalJson(
      [...ctx.preferences].map(([r, els]) => [r, [...els].map(([e, vals]) => [e, [...vals].sort()])]) as unknown as Json,
    ));

    // Pass 1: rules. Only records whose facts (or the profile's files) changed since the last run are evaluated.
    // The facts of kept records that changed are held for mapping, so an ordinary night reads the snapshot once.
    const seen = new Map<string, Seen>();
    const keptDerive: DeriveInput[] = [];
    const held = new Map<string, Candidate>();
    // Many records share one decision ("kept", "No Show", ...): parse each cached decision text once.
    const decisions = new Map<string, Decision>();
    const studentIndex = studentCol ? reader.columnIndex(studentCol) : -1;
    const deriveIndexes = deriveCols.map((col) => reader.columnIndex(col));
    const keyPrefix = profile.version + '\0' + connFingerprint + '\0';
    // Rows are taken in chunks: the chunk's changed records are evaluated together (on worker threads when there
    // are many), then the chunk is recorded in query order.
    interface Row { raw: RawCandidate; student: string | null; rulesKey: string; decision?: Decision; candidate?: Candidate }
    let chunk: Row[] = [];
    const recordChunk = (rows: Row[], decided: Decision[]): void => {
      rows.filter((r) => !r.decision).forEach((r, i) => {
        r.decision = decided[i]!;
        summary.evaluated++;
        if (r.decision.kind !== 'kept') cacheWrites.set(r.raw.sourceKey, { rulesKey: r.rulesKey, decision: r.decision, mapKey: null, body: null, bodyHash: null, naturalKey: null, problems: null });
      });
      for (const r of rows) {
        const decision = r.decision!;
        seen.set(r.raw.sourceKey, { student: r.student, decision, rulesKey: r.rulesKey });
        this.opts.onDecision?.(key, r.raw.sourceKey, decision);
        if (decision.kind === 'kept') {
          summary.kept++;
          const values: Record<string, Json> = {};
          deriveCols.forEach((col, i) => (values[col] = (r.raw.values[deriveIndexes[i]!] as Json) ?? null));
          keptDerive.push({ sourceKey: r.raw.sourceKey, values });
          if (r.candidate && held.size < MAX_HELD_FACTS) held.set(r.raw.sourceKey, r.candidate);
        } else {
          plan.excluded.push({ connection: key, sourceKey: r.raw.sourceKey, student: r.student, decision });
        }
      }
    };
    // Chunks are recorded in query order; while workers evaluate one chunk, the next is read (at most two in flight).
    let recorded: Promise<void> = Promise.resolve();
    const inFlight: Array<Promise<void>> = [];
    const flush = async (): Promise<void> => {
      const rows = chunk;
      chunk = [];
      const decided = this.decideAll(rows.filter((r) => !r.decision).map((r) => r.candidate!));
      recorded = recorded.then(async () => recordChunk(rows, await decided));
      inFlight.push(recorded);
      if (inFlight.length > 2) await inFlight.shift();
    };
    const read = new Set<string>();
    for (const raw of reader.readRaw(conn)) {
      summary.candidates++;
      if (summary.candidates % 10_000 === 0) this.opts.onProgress?.(summary.candidates, key);
      if (read.has(raw.sourceKey)) {
        plan.issues.push({ ...this.issue(conn, raw.sourceKey, null, 'POST', 409, `the source query returned ${raw.sourceKey} twice; only the first is used`, 'natural-key-conflict'), checks: ['duplicate-source-key'] });
        continue;
      }
      const student = studentIndex >= 0 ? ((raw.values[studentIndex] as string | null) ?? null) : null;
      // The row's values in query order fingerprint its facts: no objects are built for an unchanged record.
      const rulesKey = sha1(keyPrefix + JSON.stringify(raw.values));
      const hit = cached.get(raw.sourceKey);
      const row: Row = { raw, student, rulesKey };
      if (hit && hit.rulesKey === rulesKey) {
        row.decision = decisions.get(hit.decision) ?? (JSON.parse(hit.decision) as Decision);
        decisions.set(hit.decision, row.decision);
      } else {
        row.candidate = reader.toCandidate(raw);
      }
      chunk.push(row);
      read.add(raw.sourceKey);
      if (chunk.length >= CHUNK_ROWS) await flush();
    }
    await flush();
    await recorded;
    plan.summary.candidates += summary.candidates;
    plan.summary.evaluated += summary.evaluated;

    // Pass 2: bodies of the kept records (from the cache when nothing they depend on moved). A record is held back
    // when its body fails the Ed-Fi schema or repeats another record's natural key; the cross-record facts are then
    // taken again over the records really sent ("exactly one record per student is primary").
    const mapped = new Map<string, Mapped>();
    const keyOf = (m: Mapped): JsonObject => m.naturalKey ?? (m.naturalKey = JSON.parse(m.nk) as JsonObject);
    const mapKeyOf = (s: Seen, d: JsonObject): string => sha1(s.rulesKey + '\0' + prefsFingerprint + '\0' + canonicalJson(d));
    const record = (sourceKey: string, s: Seen, d: JsonObject, result: { body: JsonObject; problems: string[] }): Mapped => {
      const { body, problems } = result;
      summary.mapped++;
      const naturalKey = naturalKeyOf(body, profile.def.naturalKey);
      const m: Mapped = { bodyHash: hashJson(body), naturalKey, nk: canonicalJson(naturalKey), problems, derived: d, body };
      cacheWrites.set(sourceKey, { rulesKey: s.rulesKey, decision: s.decision, mapKey: mapKeyOf(s, d), body, bodyHash: m.bodyHash, naturalKey: m.nk, problems });
      return m;
    };
    // `provisional`: a record whose facts were not held and whose cached body was made with other derived facts
    // keeps that body's key and problems for now; most often the final derived facts match the cache and no
    // second read of the snapshot is needed (the cross-record facts depend on which records are held back).
    const mapAll = async (wanted: Map<string, JsonObject>, allowProvisional: boolean): Promise<void> => {
      const toMap: Array<{ candidate: Candidate; derived: JsonObject }> = [];
      const rescan = new Map<string, JsonObject>();
      for (const [sourceKey, d] of wanted) {
        const s = seen.get(sourceKey)!;
        const hit = cached.get(sourceKey);
        const usable = hit && hit.rulesKey === s.rulesKey && hit.bodyHash && hit.naturalKey ? hit : undefined;
        if (usable && (usable.mapKey === mapKeyOf(s, d) || (allowProvisional && !held.has(sourceKey)))) {
          mapped.set(sourceKey, {
            bodyHash: usable.bodyHash!, nk: usable.naturalKey!,
            problems: usable.problems ? (JSON.parse(usable.problems) as string[]) : [], derived: d, provisional: usable.mapKey !== mapKeyOf(s, d),
          });
          continue;
        }
        const c = held.get(sourceKey);
        if (c) toMap.push({ candidate: c, derived: d });
        else rescan.set(sourceKey, d);
      }
      // Facts not held (a preference change touches every record; very large first runs): read them again.
      if (rescan.size > 0) {
        for (const c of reader.read(conn)) {
          const d = rescan.get(c.sourceKey);
          if (d) toMap.push({ candidate: c, derived: d });
        }
      }
      for (let i = 0; i < toMap.length; i += CHUNK_ROWS) {
        const part = toMap.slice(i, i + CHUNK_ROWS);
        const bodies = await this.mapMany(key, ctx, part);
        part.forEach((item, n) => mapped.set(item.candidate.sourceKey, record(item.candidate.sourceKey, seen.get(item.candidate.sourceKey)!, item.derived, bodies[n]!)));
      }
    };
    const firstDerived = applyDerive(deriveDefs, keptDerive);
    await mapAll(new Map(keptDerive.map((k) => [k.sourceKey, firstDerived.get(k.sourceKey) ?? {}])), true);

    const heldBack = new Map<string, { status: number; message: string; kind: string; checks: string[] }>();
    const findHeldBack = (): void => {
      heldBack.clear();
      const byNaturalKey = new Map<string, string>();
      for (const { sourceKey } of keptDerive) {
        const m = mapped.get(sourceKey)!;
        const holds = m.problems.map(decodeFinding).filter((f) => f.severity === 'hold');
        if (holds.length > 0) {
          // Not sent; what was sent before stays in the ODS until the Campus data is fixed. A schema problem is the
          // Ed-Fi error the spec lists; a sanity rule alone names its own error-log entry.
          const schema = holds.filter((f) => f.id === SCHEMA_CHECK || f.id === DESCRIPTOR_LIST_CHECK);
          const checks = [...new Set(holds.map((f) => f.id))];
          heldBack.set(sourceKey, schema.length > 0
            ? { status: 400, message: heldBackMessage(holds), kind: 'required-field', checks }
            : { status: 0, message: holds.map((f) => f.message).join('; '), kind: holds[0]!.id, checks });
          continue;
        }
        const other = byNaturalKey.get(m.nk);
        if (other) {
          heldBack.set(sourceKey, { status: 409, message: `same natural key as ${other} (${Object.values(keyOf(m)).join(', ')}): duplicate data in Campus`, kind: 'natural-key-conflict', checks: ['duplicate-natural-key'] });
          continue;
        }
        byNaturalKey.set(m.nk, sourceKey);
      }
    };
    findHeldBack();
    const final = heldBack.size > 0 && deriveDefs.length > 0 ? applyDerive(deriveDefs, keptDerive.filter((k) => !heldBack.has(k.sourceKey))) : firstDerived;
    const redo = new Map<string, JsonObject>();
    for (const { sourceKey } of keptDerive) {
      const m = mapped.get(sourceKey)!;
      const d = final.get(sourceKey) ?? m.derived;
      if (m.provisional || canonicalJson(d) !== canonicalJson(m.derived)) redo.set(sourceKey, d);
    }
    if (redo.size > 0) {
      await mapAll(redo, false);
      findHeldBack();
    }

    const bodyOf = (sourceKey: string, m: Mapped): JsonObject => m.body ?? (m.body = cache.body(key, resource, sourceKey) ?? {});
    const desiredKeys = new Set<string>();
    // A retry touches only its records: the others are neither sent nor deleted.
    const untouched = (sourceKey: string): boolean => Boolean(this.opts.onlySourceKeys && !this.opts.onlySourceKeys.has(sourceKey));
    for (const { sourceKey } of keptDerive) {
      const m = mapped.get(sourceKey)!;
      const s = seen.get(sourceKey)!;
      this.opts.onDerived?.(key, sourceKey, m.derived);
      if (untouched(sourceKey)) continue;
      const old = identity.get(sourceKey);
      const hb = heldBack.get(sourceKey);
      if (hb) {
        plan.issues.push({ ...this.issue(conn, sourceKey, s.student, hb.status === 400 && old?.edfiId ? 'PUT' : 'POST', hb.status, hb.message, hb.kind, bodyOf(sourceKey, m)), checks: hb.checks });
        continue;
      }
      desiredKeys.add(sourceKey);
      if (this.opts.onDesired) this.opts.onDesired(key, sourceKey, keyOf(m), bodyOf(sourceKey, m));
      if (old && old.edfiId && old.bodyHash === m.bodyHash && old.lastOutcome === 'ok') {
        plan.summary.unchanged++;
        continue;
      }
      const full = old ? identityMap.get(key, resource, sourceKey) : undefined;
      const before = plan.operations.length;
      this.diff(conn, sourceKey, s, bodyOf(sourceKey, m), m.bodyHash, keyOf(m), full, plan);
      // A sanity rule of severity warn: the record is sent, and the warning goes with the send.
      if (plan.operations.length > before) {
        for (const f of m.problems.map(decodeFinding).filter((x) => x.severity === 'warn')) {
          plan.warnings.push({ id: f.id, message: `${sourceKey}${s.student ? ` (student ${s.student})` : ''}: ${f.message}`, connection: key, sourceKey, student: s.student });
        }
      }
    }

    // Records sent before and no longer wanted.
    for (const [sourceKey, row] of identity) {
      if (desiredKeys.has(sourceKey) || heldBack.has(sourceKey) || untouched(sourceKey)) continue;
      if (!row.edfiId) {
        plan.forget.push({ connection: key, sourceKey });
        continue;
      }
      const s = seen.get(sourceKey);
      const gone = profile.def.deletes?.notFoundInCampus ?? { id: 'delete.not-in-campus', spec: '', reason: 'the Campus record no longer exists' };
      const rules = s ? s.decision.ruleIds : [gone.id];
      const reason = s ? s.decision.reasons.join('; ') : gone.reason ?? gone.spec;
      const full = identityMap.get(key, resource, sourceKey)!;
      summary.deletes++;
      plan.operations.push({
        method: 'DELETE', resource, connection: key, sourceKey, student: full.student ?? s?.student ?? null, naturalKey: full.naturalKey, id: row.edfiId, rules, reason,
      });
    }

    cache.saveMany(key, resource, [...cacheWrites].map(([sourceKey, value]) => ({ sourceKey, value })));
    if (!this.opts.onlySourceKeys && cached.size > seen.size) cache.prune(key, resource, new Set(seen.keys()));
    this.opts.onProgress?.(summary.candidates, key);
    return summary;
  }

  /** Decisions for a batch of records: on the worker threads when the batch is large, here otherwise. */
  private async decideAll(items: Candidate[]): Promise<Decision[]> {
    if (items.length === 0) return [];
    const pool = this.poolFor(items.length);
    if (!pool) {
      const out: Decision[] = [];
      for (const c of items) out.push(await this.evaluator.decide(c));
      return out;
    }
    const parts: Candidate[][] = [];
    for (let i = 0; i < items.length; i += WORKER_BATCH) parts.push(items.slice(i, i + WORKER_BATCH));
    return (await Promise.all(parts.map((p) => pool.decide(p)))).flat();
  }

  private async mapMany(connection: string, ctx: MappingContext, items: Array<{ candidate: Candidate; derived: JsonObject }>): Promise<Array<{ body: JsonObject; problems: string[] }>> {
    if (items.length === 0) return [];
    const pool = this.poolFor(items.length);
    if (!pool) {
      const out: Array<{ body: JsonObject; problems: string[] }> = [];
      for (const it of items) out.push(await this.evaluator.body(it.candidate, it.derived, ctx));
      return out;
    }
    if (!this.contexts.has(connection)) {
      await pool.setContext(connection, ctx);
      this.contexts.add(connection);
    }
    const parts: Array<typeof items> = [];
    for (let i = 0; i < items.length; i += WORKER_BATCH) parts.push(items.slice(i, i + WORKER_BATCH));
    return (await Promise.all(parts.map((p) => pool.map(connection, p)))).flat();
  }

  /** The worker pool, started on the first batch big enough to pay for it. */
  private poolFor(batch: number): EvaluationPool | undefined {
    const size = this.opts.workers ?? 0;
    if (size <= 0 || batch < (this.opts.workerThreshold ?? WORKER_THRESHOLD)) return this.pool;
    this.pool ??= new EvaluationPool(this.opts.profile.file, process.cwd(), size);
    return this.pool;
  }

  /** The operation for a wanted record that is new or differs from what was last sent with success. */
  private diff(conn: Connection, sourceKey: string, s: Seen, body: JsonObject, bodyHash: string, naturalKey: JsonObject, old: IdentityRow | undefined, plan: Plan): void {
    const { profile } = this.opts;
    const resource = profile.def.resource.name;
    const key = connectionKey(conn);
    const rules = [...s.decision.ruleIds, profile.mapping.id];
    const base = { resource, connection: key, sourceKey, student: s.student, naturalKey, body, bodyHash };
    if (!old || !old.edfiId) {
      plan.operations.push({ ...base, method: 'POST', rules, reason: old ? 'not yet in the ODS (an earlier send failed)' : 'new record' });
      return;
    }
    // Every immutable field that changed is named (they often change together, e.g. two references to one LEA).
    const immutable = (profile.def.immutableFields ?? []).filter((f) => changedPaths(old.body, body, [f.path]).length > 0);
    if (immutable.length > 0) {
      const f = immutable[0]!;
      const more = immutable.slice(1).map((x) => `; ${x.path} changed too (${x.id})`).join('');
      plan.issues.push({ ...this.issue(conn, sourceKey, s.student, 'PUT', 0, `${f.path} changed after the record was sent (was ${JSON.stringify(naturalKeyOf(old.body, [f.path])[f.path])}): ${f.reason ?? f.spec}${more}`, f.error ?? 'other', body), checks: immutable.map((x) => x.id) });
      return;
    }
    const keyPaths = [...profile.def.naturalKey, ...(profile.def.keyChangeFields ?? []).map((f) => f.path)];
    const changed = changedPaths(old.body, body, keyPaths);
    if (changed.length > 0) {
      const unit = `${key}/${sourceKey}`;
      const keyRules = (profile.def.keyChangeFields ?? []).filter((f) => changed.includes(f.path)).map((f) => f.id);
      const keyReasons = (profile.def.keyChangeFields ?? []).filter((f) => changed.includes(f.path) && f.reason).map((f) => f.reason);
      const reason = `key change: ${changed.join(', ')}${keyReasons.length ? ` (${keyReasons.join('; ')})` : ''}`;
      plan.summary.keyChanges++;
      plan.operations.push({ method: 'DELETE', resource, connection: key, sourceKey, student: old.student ?? s.student, naturalKey: old.naturalKey, id: old.edfiId, rules: [...rules, ...keyRules], reason, unit });
      plan.operations.push({ ...base, method: 'POST', rules: [...rules, ...keyRules], reason, unit });
      return;
    }
    const fields = Object.keys({ ...old.body, ...body }).filter((k) => canonicalJson(old.body[k]) !== canonicalJson(body[k]));
    plan.operations.push({
      ...base, method: 'PUT', id: old.edfiId, body: { ...body, id: old.edfiId }, rules,
      reason: fields.length > 0 ? `changed: ${fields.join(', ')}` : 'resend (last send did not succeed)',
    });
  }

  private issue(conn: Connection, sourceKey: string, student: string | null, method: PlanIssue['method'], status: number, message: string, kind: string, body?: JsonObject): PlanIssue {
    const { profile } = this.opts;
    const entry = profile.catalogue.entries.find((e) => e.id === kind || e.id.endsWith('.' + kind)) ?? profile.catalogue.match(status, method, message);
    return {
      connection: connectionKey(conn),
      resource: profile.def.resource.name,
      sourceKey,
      student,
      catalogueId: entry.id,
      status,
      method,
      message,
      body,
    };
  }
}

export async function buildPlan(opts: PlanOptions): Promise<Plan> {
  return new Planner(opts).plan();
}
