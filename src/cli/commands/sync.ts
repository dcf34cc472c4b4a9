import type { Database } from 'better-sqlite3';
import type { Command } from 'commander';
import type { EmitSummary } from '../../emit/emitter.js';
import { createRunLog, type LogFormat, type RunLog } from '../../log/run-log.js';
import { massDeleteLimits, massDeleteMessage, massDeleteViolations, type MassDeleteViolation } from '../../plan/mass-delete.js';
import type { Plan } from '../../plan/plan-types.js';
import { buildPlan } from '../../plan/planner.js';
import type { LoadedProfile } from '../../profile/load-profile.js';
import { connectionKey, readConnections } from '../../snapshot/connections.js';
import type { Connection } from '../../types.js';
import { ErrorLog } from '../../state/error-log.js';
import { acquireLocks, connectionLock } from '../../state/lock.js';
import { finishRun, recordExcluded, startRun } from '../../state/runs.js';
import { instanceOf, targetsFromCommandLine, targetsFromFile, type ConnectionTargets } from '../../targets/targets.js';
import { connectionRef, type ConnectionRef } from '../../targets/types.js';
import { usageError } from '../cli-error.js';
import { ConnectionApis } from '../connection-apis.js';
import { checkConnectionKeys, inShard, parseShard, selectConnections } from '../connection-select.js';
import { openContext } from '../context.js';
import { EXIT, EXIT_CODES_HELP, exitName, mostSevere } from '../exit-codes.js';
import { deleteGuardOptions, runOptions } from '../options.js';
import { connectionPlanCounts, planEvents, planSummaryText, writeOperations } from '../output.js';
import { planningProgress } from '../progress.js';
import { reportRun } from '../run-report.js';
import { finishSummary, startSummary, type ConnectionOutcome, type RunSummary } from '../run-summary.js';
import { sendByConnection, type ConnectionSend } from '../send-connections.js';

export interface SyncOptions {
  profile: string;
  snapshot: string;
  state: string;
  apiBase?: string;
  targets?: string;
  connection?: string[];
  dataPath: string;
  concurrency: number;
  dryRun?: boolean;
  allowMassDelete?: boolean;
  maxDeleteShare?: number;
  maxDeleteCount?: number;
  credentialsFile?: string;
  out?: string;
  quiet?: boolean;
  checkReferences?: boolean;
  workers?: number;
  heldBackOk?: boolean;
  /** INDEX/COUNT: only the connections of this shard. */
  shard?: string;
  summaryJson?: string;
  logFormat?: LogFormat;
  /** The run's id in logs and the summary; a new one when not given. */
  runId?: string;
}

export function emitSummaryText(s: EmitSummary, plan: Plan): string {
  const lines = [
    'Sync summary:',
    `  sent (new)        ${s.created}`,
    `  updated           ${s.updated}`,
    `  deleted           ${s.deleted}${s.alreadyGone ? ` (+${s.alreadyGone} already gone)` : ''}`,
    `  unchanged         ${plan.summary.unchanged}`,
    `  not sent (rules)  ${plan.excluded.length}`,
    `  held back         ${s.heldBack}`,
    `  failed            ${s.failed}`,
  ];
  for (const [status, n] of Object.entries(s.failedByStatus)) lines.push(`    HTTP ${status === '0' ? 'no answer' : status}: ${n}`);
  for (const [id, n] of Object.entries(s.failedByError)) lines.push(`    ${id}: ${n}`);
  if (s.aborted) lines.push(`  stopped early: ${s.aborted}`);
  if (s.failed + s.heldBack > 0) lines.push("  See `edfi-sync errors --state <file>` for each error with its cause and fix.");
  return lines.join('\n');
}

/** The targets of a run: a targets file, or --api-base with one key for every connection. */
export function targetsOf(o: { targets?: string; apiBase?: string; dataPath?: string; credentialsFile?: string }): ConnectionTargets | undefined {
  if (o.targets && o.apiBase) throw usageError('give --targets or --api-base, not both');
  if (o.targets) return targetsFromFile(o.targets);
  if (o.apiBase) return targetsFromCommandLine({ apiBase: o.apiBase, dataPath: o.dataPath, credentialsFile: o.credentialsFile });
  return undefined;
}

export function addEmit(total: EmitSummary, s: EmitSummary): void {
  for (const k of ['created', 'updated', 'deleted', 'alreadyGone', 'failed', 'heldBack'] as const) total[k] += s[k];
  for (const [k, n] of Object.entries(s.failedByStatus)) total.failedByStatus[k] = (total.failedByStatus[k] ?? 0) + n;
  for (const [k, n] of Object.entries(s.failedByError)) total.failedByError[k] = (total.failedByError[k] ?? 0) + n;
  if (s.aborted && !total.aborted) total.aborted = s.aborted;
}

/**
 * A connection's exit code. Everything sent: ok. Data problems only: heldBack (ok with --held-back-ok). Failures at
 * the API: apiFailed, or unreachable when no request got any answer at all.
 */
export function connectionExit(send: ConnectionSend | undefined, refused: boolean, heldBack: number, heldBackOk: boolean): number {
  if (refused) return EXIT.refused;
  // A dry run sends nothing: the plan is done.
  if (!send) return EXIT.ok;
  if (send.stopped) return send.stopped.code;
  const e = send?.emit;
  if (e && e.failed > 0) {
    const answered = e.created + e.updated + e.deleted + e.alreadyGone + (e.failed - (e.failedByStatus['0'] ?? 0));
    return answered === 0 ? EXIT.unreachable : EXIT.apiFailed;
  }
  if (heldBack > 0) return heldBackOk ? EXIT.ok : EXIT.heldBack;
  return EXIT.ok;
}

/** Each connection's counts and exit code after a run (sent, refused by the guard, or stopped). */
export function connectionOutcomes(
  plan: Plan, keys: string[], refs: Map<string, ConnectionRef>, sent: Map<string, ConnectionSend>,
  refused: Map<string, MassDeleteViolation>, heldBackOk: boolean,
): ConnectionOutcome[] {
  return keys.map((key) => {
    const ref = refs.get(key)!;
    const s = sent.get(key);
    const counts = connectionPlanCounts(plan, key);
    if (s) {
      const e = s.emit;
      Object.assign(counts, { heldBack: e.heldBack, created: e.created, updated: e.updated, deleted: e.deleted, alreadyGone: e.alreadyGone, failed: e.failed });
    }
    const exitCode = connectionExit(s, refused.has(key), counts.heldBack, heldBackOk);
    const outcome: ConnectionOutcome = { connection: key, districtNumber: ref.districtNumber, schoolYear: ref.schoolYear, exitCode, exitReason: exitName(exitCode), counts };
    const v = refused.get(key);
    if (v) {
      outcome.message = `refused: ${v.deletes} delete(s) of ${v.mapped} mapped record(s); the limit is ${v.limit}`;
      outcome.fix = 'Check the snapshot. If the deletes are intended, run again with --allow-mass-delete.';
    }
    if (s?.stopped) {
      outcome.message = s.stopped.message;
      if (s.stopped.fix) outcome.fix = s.stopped.fix;
    }
    return outcome;
  });
}

/** The end of a run: the counts, each connection that did not end ok, the exit code. */
export function reportOutcomes(summary: RunSummary, total: EmitSummary, plan: Plan, log: RunLog, sent: boolean): void {
  if (sent && log.format === 'text') log.event('info', 'summary', {}, emitSummaryText(total, plan));
  for (const c of summary.connections) {
    const show = log.format === 'json' || c.exitCode !== EXIT.ok || summary.connections.length > 1;
    if (!show) continue;
    log.event(c.exitCode === EXIT.ok || c.exitCode === EXIT.heldBack ? 'info' : 'error', 'connection-end', {
      connection: c.connection, counts: { ...c.counts }, exitCode: c.exitCode, exitReason: c.exitReason,
      ...(c.message ? { reason: c.message } : {}), ...(c.fix ? { fix: c.fix } : {}),
    }, outcomeText(c));
  }
  if (sent && total.failed + total.heldBack > 0 && log.format === 'text') {
    log.event('warn', 'not-sent', {}, `${total.failed} record(s) failed, ${total.heldBack} held back (see \`edfi-sync errors\`)`);
  }
}

function outcomeText(c: ConnectionOutcome): string {
  const n = c.counts;
  const head = `connection ${c.connection} (district ${c.districtNumber ?? '?'}, school year ${c.schoolYear}): ${c.exitReason} — ` +
    `${n.created} new, ${n.updated} updated, ${n.deleted} deleted, ${n.unchanged} unchanged, ${n.heldBack} held back, ${n.failed} failed`;
  return [head, c.message && `  ${c.message}`, c.fix && `  fix: ${c.fix}`].filter(Boolean).join('\n');
}

/** plan + emit: the scheduled job. Returns the exit code. */
export async function runSync(o: SyncOptions): Promise<number> {
  const summary = startSummary(o.dryRun ? 'sync --dry-run' : 'sync', o.runId);
  const log = createRunLog({ runId: summary.runId, format: o.logFormat, quiet: o.quiet });
  return reportRun(o, summary, log, () => sync(o, summary, log));
}

/** `--state` naming one file per connection: `/state/{connection}.sqlite`. */
export const PER_CONNECTION_STATE = '{connection}';

/** The state file of one connection: its key with ':' made file-name safe ("1:2026" -> "1-2026"). */
export function stateFileOf(template: string, connection: string): string {
  return template.split(PER_CONNECTION_STATE).join(connection.replace(/:/g, '-'));
}

/**
 * The state file of an operator command (retry, resync, delete) given a per-connection --state: it needs exactly
 * one --connection to know which file.
 */
export function singleStateFile(state: string, connection: string[] | undefined): string {
  if (!state.includes(PER_CONNECTION_STATE)) return state;
  if (connection?.length !== 1) throw usageError(`with --state ${state}, give exactly one --connection (it names the file)`);
  return stateFileOf(state, connection[0]!);
}

/** The connections of this run: --connection, then --shard (by ODS instance when the targets are known). */
export function runConnections(
  snapshot: Database, profile: LoadedProfile, o: { connection?: string[]; shard?: string }, targets: ConnectionTargets | undefined,
): Connection[] {
  const selected = selectConnections(snapshot, profile, checkConnectionKeys(o.connection));
  const shard = parseShard(o.shard);
  return inShard(selected, shard, (c) => (targets ? instanceOf(targets.specFor(connectionRef(c, connectionKey(c)))) : connectionKey(c)));
}

async function sync(o: SyncOptions, summary: RunSummary, log: RunLog): Promise<number> {
  const targets = targetsOf(o);
  if (!targets && !o.dryRun) throw usageError('--api-base or --targets is required (or use --dry-run)');
  if (!o.state.includes(PER_CONNECTION_STATE)) return syncState(o, summary, log, targets);
  // One state file per connection (jobs on several machines): each connection is a run of its own file.
  const ctx = openContext({ profile: o.profile, snapshot: o.snapshot });
  let keys: string[];
  try {
    keys = runConnections(ctx.snapshot, ctx.profile, o, targets).map(connectionKey);
    if (targets) refuseSharedInstances(readConnections(ctx.snapshot, ctx.profile), keys, targets);
  } finally {
    ctx.close();
  }
  for (const key of keys) await syncState({ ...o, state: stateFileOf(o.state, key), connection: [key], shard: undefined }, summary, log, targets);
  finishSummary(summary);
  return summary.exitCode;
}

/**
 * Records of connections that share an ODS instance have one owner among them, which only one state file can
 * know: per-connection state files are refused for them (they would each claim, and later delete, the other's records).
 */
function refuseSharedInstances(all: Connection[], keys: string[], targets: ConnectionTargets): void {
  const instanceOfKey = new Map(all.map((c) => [connectionKey(c), instanceOf(targets.specFor(connectionRef(c, connectionKey(c))))]));
  for (const key of keys) {
    const others = [...instanceOfKey].filter(([k, i]) => k !== key && i === instanceOfKey.get(key)).map(([k]) => k);
    if (others.length > 0) {
      throw usageError(`connection ${key} shares its ODS instance ${instanceOfKey.get(key)} with ${others.join(', ')}: connections of one instance must share one state file (give --state without ${PER_CONNECTION_STATE})`);
    }
  }
}

async function syncState(o: SyncOptions, summary: RunSummary, log: RunLog, targets: ConnectionTargets | undefined): Promise<number> {
  const only = checkConnectionKeys(o.connection);
  const ctx = openContext(o);
  try {
    summary.profile = ctx.profile.def.name;
    const conns = runConnections(ctx.snapshot, ctx.profile, o, targets);
    const keys = conns.map(connectionKey);
    const refs = new Map<string, ConnectionRef>(conns.map((c) => [connectionKey(c), connectionRef(c, connectionKey(c))]));
    const release = acquireLocks(ctx.state, keys.map(connectionLock));
    const runId = startRun(ctx.state, summary.command, ctx.profile.def.name, o.snapshot, summary.runId, keys);
    summary.stateRunId = runId;
    let status = 'failed';
    let plan: Plan | undefined;
    const total: EmitSummary = { created: 0, updated: 0, deleted: 0, alreadyGone: 0, failed: 0, heldBack: 0, failedByStatus: {}, failedByError: {} };
    try {
      log.event('info', 'run-start', { command: summary.command, profile: ctx.profile.def.name, connections: keys });
      plan = await buildPlan({
        profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, workers: o.workers ?? 0, onlyConnections: only || o.shard ? new Set(keys) : undefined,
        onProgress: !o.quiet && log.format === 'text' ? planningProgress() : undefined,
      });
      if (log.format === 'text') log.event('info', 'plan', {}, planSummaryText(plan));
      else planEvents(plan, log);
      recordExcluded(ctx.state, runId, plan);

      const violations = massDeleteViolations(plan, massDeleteLimits(o, ctx.profile));
      const refused = new Map<string, MassDeleteViolation>(o.allowMassDelete ? [] : violations.map((v) => [v.connection, v]));
      if (refused.size > 0) {
        log.event('error', 'mass-delete-refused', { connections: [...refused.keys()], counts: { refused: refused.size } }, massDeleteMessage([...refused.values()]));
      }

      let sent = new Map<string, ConnectionSend>();
      if (o.dryRun) {
        await writeOperations(plan.operations.filter((op) => !refused.has(op.connection)), o.out);
        status = 'dry-run';
      } else {
        const errors = new ErrorLog(ctx.state);
        for (const k of refused.keys()) errors.addHeldBack(plan.issues.filter((i) => i.connection === k), ctx.profile.catalogue, runId);
        sent = await sendByConnection({
          plan, connections: keys.filter((k) => !refused.has(k)), apis: new ConnectionApis(targets!, refs), profile: ctx.profile,
          state: ctx.state, runId, log, concurrency: o.concurrency, checkReferences: o.checkReferences,
        });
        for (const s of sent.values()) addEmit(total, s.emit);
        // Problems the engine found before and did not find again are over; a toggled-off connection was not looked at.
        const resource = ctx.profile.def.resource.name;
        for (const c of plan.connections) if (c.resourceEnabled && !sent.get(c.connection)?.stopped) errors.resolveNotSeen(c.connection, resource, runId);
        if (!only && !o.shard) errors.resolveNotSeen(null, resource, runId);
      }

      summary.connections.push(...connectionOutcomes(plan, keys, refs, sent, refused, Boolean(o.heldBackOk)));
      finishSummary(summary);
      // A run of one connection among several of a per-connection-state run reports its own part only.
      const own = { ...summary, connections: summary.connections.filter((c) => keys.includes(c.connection)) };
      reportOutcomes(own, total, plan, log, !o.dryRun);
      const code = mostSevere(own.connections.map((c) => c.exitCode));
      if (status !== 'dry-run') status = code === EXIT.ok ? 'ok' : code === EXIT.refused ? 'refused' : code === EXIT.unreachable ? 'aborted' : 'partial';
      return summary.exitCode;
    } finally {
      finishRun(ctx.state, runId, status, { plan: plan?.summary ?? null, emit: total, connections: summary.connections.filter((c) => keys.includes(c.connection)) });
      release();
    }
  } finally {
    ctx.close();
  }
}

export function registerSync(program: Command): void {
  const cmd = program
    .command('sync')
    .description('Plan and send: bring the Ed-Fi ODS in step with the snapshot (the scheduled job). Key and secret from EDFI_CLIENT_ID / EDFI_CLIENT_SECRET, or per connection from --targets.');
  deleteGuardOptions(runOptions(cmd, true))
    .option('--dry-run', 'print the plan (JSON Lines) and send nothing')
    .option('--out <file>', 'with --dry-run: write the operations here')
    .option('--check-references', 'before sending, look up each referenced LEA, student and program once and hold back records whose reference is missing')
    .option('--quiet', 'no summary or progress')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .action(async (o: SyncOptions) => {
      process.exitCode = await runSync(o);
    });
}
