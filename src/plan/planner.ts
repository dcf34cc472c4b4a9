import { connectionKey, readConnections } from '../snapshot/connections.js';
import { EvalCache } from '../state/eval-cache.js';
import { IdentityMap, OwedDeletes } from '../state/identity-map.js';
import type { Connection } from '../types.js';
import { ClaimStage } from './claim.js';
import { passConnection, type ExcludedTally } from './connection-pass.js';
import { DecideStage, deciderOf } from './decide.js';
import { planDeletes, planForget } from './deletes.js';
import { diffClaim, sentRules, type DiffContext } from './diff.js';
import { NATURAL_KEY_CONFLICT, planIssue } from './issues.js';
import { MapStage } from './map.js';
import { violationsOf, type MassDeleteViolation } from './mass-delete.js';
import { instanceResolver } from './instance-key.js';
import { DEFAULT_INSTANCE, type PlanOptions } from './plan-options.js';
import { emptySummary, type ConnectionSummary, type ExcludedRecord, type Plan, type PlanSource, type PlanSummary, type PlanWarning } from './plan-types.js';
import { PreferencesInEffect, recordPreferences, type PreferencesToRecord } from './preferences-in-effect.js';
import { SourceReader } from './read.js';
import { RecordEvaluator } from './record-evaluator.js';
import { RecordStateLookup } from './record-state.js';
import { WorkTables } from './work-tables.js';

export type { PlanOptions } from './plan-options.js';

/**
 * A plan whose operations, issues and excluded records wait on disk (the state connection's TEMP tables) and are
 * read in emit order: `plan` writes them as JSON Lines, the emitter sends them phase by phase. Close it when done.
 */
export interface StreamedPlan extends PlanSource {
  /** Connections planned with today's Resource Preferences, to keep as the ones in effect once their sends go ahead. */
  preferencesToRecord: PreferencesToRecord[];
  connections: ConnectionSummary[];
  summary: PlanSummary;
  /** Connections the mass-delete guard refused: none of their operations is in the plan. */
  refused: MassDeleteViolation[];
  /** Records the rules kept out: every one with PlanOptions.keepExcluded, otherwise the first EXCLUDED_SAMPLE. */
  excluded(limit?: number): Generator<ExcludedRecord>;
  /** Records kept out by the rules, per combination of reasons (the report's table). */
  excludedCounts(): Array<{ reasons: string; n: number }>;
  close(): void;
}

/** Excluded records a streamed plan keeps for a report (all are counted). */
export const EXCLUDED_SAMPLE = 500;

/** Fill in {column} placeholders of a warning text. */
function fillTemplate(text: string, row: Record<string, unknown>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => (row[k] === undefined || row[k] === null ? '' : String(row[k])));
}

function profileWarnings(o: PlanOptions): PlanWarning[] {
  const { profile, snapshot } = o;
  const out: PlanWarning[] = [];
  for (const w of profile.warnings) {
    for (const row of snapshot.prepare(w.sql).all({ profile: profile.def.connectionProfile ?? profile.def.name, resource: profile.def.resource.name }) as Array<Record<string, unknown>>) {
      out.push({ id: w.id, message: fillTemplate(w.message, row) });
    }
  }
  return out;
}

/**
 * Connections that sent records but are not among the snapshot's connections of the profile today (a configuration
 * disabled, removed, or moved to another profile): nothing of theirs is sent or deleted (decisions.md 7), which a
 * run would otherwise pass over in silence.
 */
function goneConnectionWarnings(identity: IdentityMap, resource: string, connections: Connection[], only: Set<string> | undefined): PlanWarning[] {
  const present = new Set(connections.map(connectionKey));
  const out: PlanWarning[] = [];
  for (const [key, n] of identity.mappedByConnection(resource)) {
    if (present.has(key) || (only && !only.has(key))) continue;
    out.push({
      id: 'plan.connection-not-in-snapshot',
      message: `connection ${key} sent ${n} record(s) but is not a connection of this profile in the snapshot (its Ed-Fi configuration is disabled, removed or of another profile): nothing is sent or deleted for it and its records stay in the ODS; enable the configuration in Campus if the district should still be sent`,
    });
  }
  return out;
}

/** Connections of different school years that resolve to one ODS instance: worth a warning (issue #10's shared ODS). */
function sharedInstanceWarnings(byInstance: Map<string, Connection[]>): PlanWarning[] {
  const out: PlanWarning[] = [];
  for (const [instance, conns] of byInstance) {
    const years = [...new Set(conns.map((c) => c.endYear))].sort();
    if (years.length < 2) continue;
    out.push({
      id: 'plan.shared-instance',
      message: `connections ${conns.map(connectionKey).join(', ')} (school years ${years.join(', ')}) send to one ODS instance (${instance}): a record several years report is one ODS record, sent as the latest year's; if each school year has its own ODS, give a year-specific data path (e.g. --data-path /data/v3/{endYear})`,
    });
  }
  return out;
}

/**
 * Plans a snapshot against the state: read -> decide -> derive -> map (connection by connection, group by group),
 * then per ODS instance claim -> diff -> deletes, then the mass-delete guard. Memory stays flat in the number of
 * records: everything per record goes to the working tables.
 */
export async function planRun(opts: PlanOptions): Promise<StreamedPlan> {
  const { profile, snapshot, state } = opts;
  const resource = profile.def.resource.name;
  const identity = new IdentityMap(state);
  // Without API information, a connection's instance is the one its records were sent to last: a dry run or an
  // explain sees the state as the last real run left it.
  const instanceOf = instanceResolver(connectionKey, opts.instanceOf, (key) => identity.instanceOfConnection(key, resource), DEFAULT_INSTANCE, () => identity.recordedInstances(resource));
  const warnings = profileWarnings(opts);
  const summary = emptySummary();
  const connections = opts.connections ?? readConnections(snapshot, profile);
  const byInstance = new Map<string, Connection[]>();
  for (const c of connections) {
    const i = instanceOf(c);
    byInstance.set(i, [...(byInstance.get(i) ?? []), c]);
  }

  if (!opts.connections) warnings.push(...goneConnectionWarnings(identity, resource, connections, opts.onlyConnections));

  const owed = new OwedDeletes(state);
  const cache = new EvalCache(state);
  for (const [instance, conns] of byInstance) {
    const released = identity.adoptIntoInstance(resource, instance, conns.map(connectionKey));
    if (released > 0) {
      warnings.push({ id: 'plan.identity-repaired', message: `${released} identity row(s) shared an Ed-Fi id or a natural key with another row in ${instance} (a state file written before one owner per ODS record was kept); the most recently sent claim was kept, the others are sent again if still wanted (run resync to remove ODS records no plan wants)` });
    }
  }

  const tables = new WorkTables(state);
  try {
    const participants = new Set<string>();
    const summaries: ConnectionSummary[] = [];
    const decider = deciderOf(profile);
    const evaluator = new RecordEvaluator(profile);
    const excluded: ExcludedTally = { byDecision: new Map(), sample: [], sampleSize: EXCLUDED_SAMPLE };
    const summaryOf = new Map<string, ConnectionSummary>();
    for (const conn of connections) {
      const key = connectionKey(conn);
      const s: ConnectionSummary = {
        connection: key, configID: conn.configID, endYear: conn.endYear, instance: instanceOf(conn), resourceEnabled: conn.resourceEnabled,
        candidates: 0, kept: 0, evaluated: 0, mapped: 0, identityRows: identity.countMapped(key, resource), deletes: 0, shared: 0, heldBack: 0,
      };
      // A connection outside the run (--connection) is not in the plan at all; its owners are still respected.
      if (opts.onlyConnections && !opts.onlyConnections.has(key)) continue;
      summaries.push(s);
      summaryOf.set(key, s);
      if (!conn.resourceEnabled) {
        // whenResourceDisabled: keep. "When a resource is toggled to off after data has sent, all sent data remains in the ODS but no new data sends."
        s.note = `resource ${resource} is toggled off: nothing is sent, ${s.identityRows} record(s) already sent stay in the ODS`;
      } else {
        participants.add(key);
      }
    }
    // Connections of this run of different school years that share an instance: worth a warning.
    warnings.push(...sharedInstanceWarnings(new Map([...byInstance].map(([i, cs]) => [i, cs.filter((c) => participants.has(connectionKey(c)))]))));
    // Connections are read in the order of the winner rule (later school year, then lower district), so a record
    // whose key a connection read earlier already wants is known to lose it and needs no body.
    const byRank = connections.filter((c) => participants.has(connectionKey(c))).sort((a, b) => b.endYear - a.endYear || a.districtID - b.districtID);
    // A profile whose resync rules say Resource Preferences changes wait for a resync plans each connection with the
    // preferences in effect (its last resync's), chosen before the source query is prepared: it reads them too.
    const rule = profile.def.resync?.preferenceChanges;
    const preferences = rule ? new PreferencesInEffect(snapshot, cache, resource, rule) : undefined;
    try {
      const resynced = (key: string): boolean => opts.reevaluate === true || (opts.reevaluate instanceof Set && opts.reevaluate.has(key));
      if (preferences) warnings.push(...preferences.apply(byRank, resynced));
      const reader = new SourceReader(snapshot, profile);
      for (const conn of byRank) {
        const key = connectionKey(conn);
        const s = summaryOf.get(key)!;
        const scope = cache.scope(key, resource);
        await passConnection({
          profile, state, conn, key, instance: s.instance, reader, cache, identity, tables, options: opts, summary: s, planSummary: summary, excluded,
          decide: new DecideStage(profile, decider, cache, new RecordStateLookup(state, scope, key, resource), reader, conn),
          map: new MapStage(profile, evaluator.mapper, reader, conn, evaluator.mappingContext(snapshot, conn)),
          scope,
        });
        summary.candidates += s.candidates;
        summary.evaluated += s.evaluated;
      }
      // Callers that send everything a plan says keep today's preferences as they plan; the others (sync) once the
      // mass-delete guard let the connection's sends go ahead.
      if (preferences && opts.recordPreferences && !opts.preview) recordPreferences(cache, preferences.toRecord);
    } finally {
      preferences?.close();
    }
    const preferencesToRecord = opts.preview ? [] : preferences?.toRecord ?? [];

    tables.index();
    const inScope = (sourceKey: string): boolean => !opts.onlySourceKeys || opts.onlySourceKeys.has(sourceKey);
    const shared = new Map<string, number>();
    const heldBack = new Map<string, number>();
    const count = { unchanged: 0, shared, heldBack };
    state.prepare('BEGIN').run();
    try {
      for (const r of tables.dropRepeatedKeys()) {
        if (!inScope(r.sourceKey)) continue;
        tables.issue(planIssue(profile, r, { method: 'POST', status: 409, kind: NATURAL_KEY_CONFLICT, message: `the source query returned ${r.sourceKey} twice; only the first is used` }));
      }
      // Connections a whole run would plan (the snapshot's, resource on): a job of one connection takes a key from
      // one of them that the winner rule puts after it, and leaves it to one the rule puts first.
      const ranks = new Map(opts.connections ? [] : connections.filter((c) => c.resourceEnabled).map((c) => [connectionKey(c), { endYear: c.endYear, districtID: c.districtID }]));
      const claimStage = new ClaimStage(tables, identity, owed, resource, participants, ranks);
      for (const [instance, conns] of byInstance) {
        const mine = conns.map(connectionKey).filter((k) => participants.has(k));
        if (mine.length === 0) continue;
        const ctx: DiffContext = { profile, identity, cache, tables, instance, inScope, onDesired: opts.onDesired, count };
        // New records nobody else wants are POSTed in one statement; a retry (only some records) and a caller that
        // wants every record's body (resync) see each claim.
        if (!opts.onDesired && !opts.onlySourceKeys && !opts.everyClaimInDiff) {
          tables.postNewRecords(instance, resource, (id) => sentRules(cache, profile, id));
        }
        claimStage.inStepClaimed = 0;
        for (const claim of claimStage.claims(instance, Boolean(opts.onDesired))) diffClaim(claim, ctx);
        // In-step records outside any claim are unchanged; those inside one were counted by the diff stage.
        count.unchanged += (tables.inStep.get(instance) ?? 0) - claimStage.inStepClaimed;
        planDeletes({ profile, identity, owed, cache, tables, instance, connections: mine, inScope });
      }
      planForget(tables, resource, [...participants], inScope);
      state.prepare('COMMIT').run();
    } catch (err) {
      if (state.inTransaction) state.prepare('ROLLBACK').run();
      throw err;
    }

    // The mass-delete guard, per connection: a refused connection sends nothing, the others still run.
    const deletes = tables.deletesByConnection();
    const refused = opts.deleteGuard
      ? violationsOf(new Map(summaries.filter((s) => participants.has(s.connection)).map((s) => [s.connection, { deletes: deletes.get(s.connection) ?? 0, mapped: s.identityRows }])), opts.deleteGuard.limits)
      : [];
    if (refused.length > 0 && !opts.deleteGuard?.allow) tables.dropOperations(refused.map((v) => v.connection));
    const counts = tables.operationCounts();
    summary.operations = counts.byMethod;
    summary.keyChanges = counts.keyChanges;
    summary.unchanged = count.unchanged;
    for (const s of summaries) {
      s.deletes = deletes.get(s.connection) ?? 0;
      s.shared = shared.get(s.connection) ?? 0;
      s.heldBack += heldBack.get(s.connection) ?? 0;
      summary.shared += s.shared;
    }
    summary.issues = tables.issueCounts();
    const blocked = opts.deleteGuard?.allow ? [] : refused;
    return {
      profile: profile.def.name,
      resource,
      warnings,
      connections: summaries,
      summary,
      refused: blocked,
      preferencesToRecord,
      operations: () => tables.operations(),
      operationCount: () => tables.operationCount(),
      issues: () => tables.issues(),
      forget: () => tables.forgotten(),
      *excluded(limit?: number) {
        const all = opts.keepExcluded ? tables.excluded(limit) : excluded.sample.slice(0, limit ?? Infinity);
        for (const x of all) yield { connection: x.connection, sourceKey: x.sourceKey, student: x.student, decision: cache.decision(x.decisionId) };
      },
      excludedCounts: () => {
        const byReasons = new Map<string, number>();
        for (const [decisionId, n] of excluded.byDecision) {
          const reasons = cache.decision(decisionId).reasons.join('; ');
          byReasons.set(reasons, (byReasons.get(reasons) ?? 0) + n);
        }
        return [...byReasons].map(([reasons, n]) => ({ reasons, n }));
      },
      close: () => tables.close(),
    };
  } catch (err) {
    tables.close();
    throw err;
  }
}

/** A whole plan in memory, for small callers (fixtures, explain, tests): the streamed plan read to the end. */
export async function collectPlan(opts: PlanOptions): Promise<Plan> {
  const s = await planRun({ ...opts, keepExcluded: true });
  try {
    // Warnings about one record (a body check of severity warn) are spooled with the issues; in memory they are warnings.
    const all = [...s.issues()];
    const recordWarnings = all.filter((i) => i.level === 'warning')
      .map((i) => ({ id: i.catalogueId, message: i.message, connection: i.connection, sourceKey: i.sourceKey, student: i.student }));
    return {
      profile: s.profile,
      resource: s.resource,
      operations: [...s.operations()],
      issues: all.filter((i) => i.level !== 'warning'),
      excluded: [...s.excluded()],
      forget: [...s.forget()],
      warnings: [...s.warnings, ...recordWarnings],
      connections: s.connections,
      summary: s.summary,
      refused: s.refused,
      preferencesToRecord: s.preferencesToRecord,
    };
  } finally {
    s.close();
  }
}

/** The materialized plan (the name most callers know). */
export const buildPlan = collectPlan;
