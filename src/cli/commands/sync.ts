import type { Command } from 'commander';
import { emptyEmitSummary, type EmitSummary } from '../../emit/emitter.js';
import { createRunLog, type LogFormat, type RunLog } from '../../log/run-log.js';
import { massDeleteLimits, massDeleteMessage, massDeleteViolations, type MassDeleteViolation } from '../../plan/mass-delete.js';
import { emptyPlan, type Plan } from '../../plan/plan-types.js';
import { buildPlan } from '../../plan/planner.js';
import { recordPreferences } from '../../plan/preferences-in-effect.js';
import { EvalCache } from '../../state/eval-cache.js';
import { connectionKey, readConnections } from '../../snapshot/connections.js';
import { ErrorLog } from '../../state/error-log.js';
import { finishRun, recordExcluded, startRun } from '../../state/runs.js';
import type { ConnectionTargets } from '../../targets/targets.js';
import type { Connection } from '../../types.js';
import { connectionRef, type ConnectionRef } from '../../targets/types.js';
import { usageError } from '../cli-error.js';
import type { ApiFlavor } from '../../api/flavor.js';
import { connectedApis, type ConnectionApis } from '../connection-apis.js';
import { discoveredInstances } from '../discovered-instances.js';
import { checkConnectionKeys, PER_CONNECTION_STATE, refuseSharedInstances, runConnections, stateFileOf, targetsOf } from '../connection-select.js';
import { addEmit, connectionOutcomes, reportOutcomes, withEarlier } from '../connection-outcomes.js';
import { openContext } from '../context.js';
import { EXIT, EXIT_CODES_HELP, exitName, mostSevere } from '../exit-codes.js';
import { deleteGuardOptions, runOptions } from '../options.js';
import { planEvents, planSummaryText, planWarnings, writeOperations } from '../output.js';
import { planningProgress } from '../progress.js';
import { reportRun } from '../run-report.js';
import { finishSummary, startSummary, zeroCounts, type RunSummary } from '../run-summary.js';
import { sendByConnection, type ConnectionSend } from '../send-connections.js';
import { lockConnections } from '../run-locks.js';
import { exitCodeOfSignal, listenForStop, StoppedError, type StopSignal } from '../stop-signal.js';

export interface SyncOptions {
  profile: string;
  snapshot: string;
  state: string;
  apiBase?: string;
  targets?: string;
  connection?: string[];
  /** Overrides the data path the API's root document gives. */
  dataPath?: string;
  /** --api-flavor: the API generation, when its root document does not tell. */
  apiFlavor?: ApiFlavor;
  /** --route-context: values for placeholders of the API's URLs. */
  routeContext?: Record<string, string>;
  /** With checkReferences: send records whose reference lookup failed (default: hold them back). */
  sendUncheckedReferences?: boolean;
  concurrency: number;
  dryRun?: boolean;
  allowMassDelete?: boolean;
  maxDeleteShare?: number;
  maxDeleteCount?: number;
  credentialsFile?: string;
  out?: string;
  quiet?: boolean;
  checkReferences?: boolean;
  heldBackOk?: boolean;
  /** INDEX/COUNT: only the connections of this shard. */
  shard?: string;
  summaryJson?: string;
  logFormat?: LogFormat;
  /** The run's id in logs and the summary; a new one when not given. */
  runId?: string;
}

/** What an enclosing command (resync) gives the sync that ends it. */
export interface SyncShared {
  /** The APIs it already read, so each API's root document is read once per run. */
  apis?: ConnectionApis;
  /** The command the summary names ('resync'). */
  command?: string;
  /** What it sent before the sync, per connection (resync's DELETEs of records nobody wants): counted in the outcome. */
  earlier?: Map<string, EmitSummary>;
}

/** plan + emit: the scheduled job. Returns the exit code. */
export async function runSync(o: SyncOptions, shared: SyncShared = {}): Promise<number> {
  const summary = startSummary(shared.command ?? (o.dryRun ? 'sync --dry-run' : 'sync'), o.runId);
  const log = createRunLog({ runId: summary.runId, format: o.logFormat, quiet: o.quiet });
  // One listener for the whole run, from before its locks are taken until they are released (a run of one state file
  // per connection runs its connections one after the other under it).
  const stop = listenForStop(log);
  try {
    return await reportRun(o, summary, log, () => sync(o, summary, log, shared, stop));
  } finally {
    stop.dispose();
  }
}

async function sync(o: SyncOptions, summary: RunSummary, log: RunLog, shared: SyncShared, stop: StopSignal): Promise<number> {
  const targets = targetsOf(o);
  if (!targets && !o.dryRun) throw usageError('--api-base or --targets is required (or use --dry-run)');
  if (!o.state.includes(PER_CONNECTION_STATE)) return syncState(o, summary, log, targets, stop, shared);
  // One state file per connection (jobs on several machines): each connection is a run of its own file.
  const ctx = openContext({ profile: o.profile, snapshot: o.snapshot });
  let keys: string[];
  try {
    // Which connections share an ODS instance is what each API's root document says (an ODS/API 7.x or a DMS routes
    // every school year to its own data URL), not only what the targets file says.
    const all = readConnections(ctx.snapshot, ctx.profile);
    const instances = targets ? await discoveredInstances(targets, all, o) : undefined;
    keys = runConnections(ctx.snapshot, ctx.profile, o, targets, instances).map(connectionKey);
    if (instances) refuseSharedInstances(all, keys, instances);
  } finally {
    ctx.close();
  }
  const notRun = (rest: string[]): void => {
    if (rest.length === 0 || !stop.by) return;
    log.event('warn', 'not-run', { connections: rest }, `not run, the run was stopped by ${stop.by}: ${rest.join(', ')} (run again)`);
    // In the summary, so that the run's exit code says it was stopped (the connections run before may all be ok).
    const code = exitCodeOfSignal(stop.by);
    for (const key of rest) {
      summary.connections.push({
        connection: key, districtNumber: null, schoolYear: Number(key.split(':')[1]), exitCode: code, exitReason: exitName(code),
        message: `not run: the run was stopped by ${stop.by}`, fix: 'Run the connection again.', counts: zeroCounts(),
      });
    }
  };
  for (const [i, key] of keys.entries()) {
    if (stop.by) {
      notRun(keys.slice(i));
      break;
    }
    try {
      await syncState({ ...o, state: stateFileOf(o.state, key), connection: [key], shard: undefined }, summary, log, targets, stop);
    } catch (err) {
      if (err instanceof StoppedError) notRun(keys.slice(i + 1));
      throw err;
    }
  }
  finishSummary(summary);
  return summary.exitCode;
}

async function syncState(o: SyncOptions, summary: RunSummary, log: RunLog, targets: ConnectionTargets | undefined, stop: StopSignal, shared: SyncShared = {}): Promise<number> {
  const only = checkConnectionKeys(o.connection);
  const ctx = openContext(o);
  try {
    summary.profile = ctx.profile.def.name;
    // A bad limit is a usage error, found before any API is asked or anything planned.
    const limits = massDeleteLimits(o, ctx.profile);
    // A shard holds every connection of an ODS instance, as the APIs' root documents give the instances.
    const instances = o.shard && targets ? await discoveredInstances(targets, readConnections(ctx.snapshot, ctx.profile), o) : undefined;
    const conns = runConnections(ctx.snapshot, ctx.profile, o, targets, instances);
    const keys = conns.map(connectionKey);
    const refs = new Map<string, ConnectionRef>(conns.map((c) => [connectionKey(c), connectionRef(c, connectionKey(c))]));
    const release = lockConnections(ctx.state, keys, log);
    const firstRun = !o.dryRun && Boolean(o.state) && (ctx.state.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n === 0;
    const runId = startRun(ctx.state, summary.command, ctx.profile.def.name, o.snapshot, summary.runId, keys);
    summary.stateRunId = runId;
    let status = 'failed';
    let plan: Plan | undefined;
    const total: EmitSummary = emptyEmitSummary();
    let apis: ConnectionApis | undefined;
    try {
      log.event('info', 'run-start', { command: summary.command, profile: ctx.profile.def.name, connections: keys });
      if (firstRun) {
        log.event('warn', 'new-state-file', { state: o.state }, `state file ${o.state} has no run yet: a first run (every wanted record is POSTed; the ODS upserts those it has). ` +
          'If records were sent before with another state file (lost, or a mistyped --state), run `edfi-sync resync`: it adopts what the ODS holds and removes what Campus no longer wants.');
      }
      if (!o.dryRun) {
        // Each API's root document is read before planning: a wrong URL or a profile written for another Data Standard
        // is known before anything is sent, and stops only the connections that send there.
        apis = shared.apis ?? (await connectedApis(targets!, refs, { ...o, profile: ctx.profile, connections: conns }, (line) => log.event('info', 'api', {}, line)));
      }
      // The ODS instance of each connection (one owner per natural key and instance): the data URL its API gives.
      // Without one (a dry run, a connection outside the run whose target is unknown) the planner takes the
      // instance the connection's records were sent to.
      const instanceOf = (c: Connection): string | undefined => {
        try {
          return apis?.instanceOf(connectionKey(c));
        } catch {
          return undefined;
        }
      };
      // A connection whose API could not be read (unreachable, another Data Standard, no usable key) cannot be sent:
      // it is not planned either (a plan of a million records for nothing, with instances no API gave).
      // A toggled-off connection sends nothing: an API of its that cannot be read does not stop it.
      const toggledOff = new Set(conns.filter((c) => !c.resourceEnabled).map(connectionKey));
      const stopped = new Set(keys.filter((k) => apis?.failure(k) && !toggledOff.has(k)));
      const planned = keys.filter((k) => !stopped.has(k));
      const limited = Boolean(only || o.shard) || stopped.size > 0;
      plan = planned.length === 0
        ? emptyPlan(ctx.profile.def.name, ctx.profile.def.resource.name)
        : await buildPlan({
          profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, onlyConnections: limited ? new Set(planned) : undefined, instanceOf,
          // A resync's sync plans with today's Resource Preferences.
          reevaluate: shared.command === 'resync',
          onProgress: progressOrStop(stop, !o.quiet && log.format === 'text' ? planningProgress() : undefined),
        });
      if (planned.length > 0) {
        // Warnings go out at their own level, so --quiet (info off) still shows them.
        if (log.format === 'text') {
          log.event('info', 'plan', {}, planSummaryText(plan));
          planWarnings(plan, log);
        } else planEvents(plan, log);
      }
      recordExcluded(ctx.state, runId, plan);

      const violations = massDeleteViolations(plan, limits);
      const refused = new Map<string, MassDeleteViolation>(o.allowMassDelete ? [] : violations.map((v) => [v.connection, v]));
      if (refused.size > 0) {
        log.event('error', 'mass-delete-refused', { connections: [...refused.keys()], counts: { refused: refused.size } }, massDeleteMessage([...refused.values()]));
      }
      // Today's Resource Preferences become the ones in effect (a first run, or a resync) only where the sends go
      // ahead: a resync the guard refused leaves the preferences of the last one in effect, and the change waiting.
      // A dry run keeps nothing.
      if (!o.dryRun && !stop.by) recordPreferences(new EvalCache(ctx.state), plan.preferencesToRecord ?? [], planned.filter((k) => !refused.has(k)));

      let sent = new Map<string, ConnectionSend>();
      if (o.dryRun) {
        await writeOperations(plan.operations.filter((op) => !refused.has(op.connection)), o.out);
        status = 'dry-run';
      } else {
        const errors = new ErrorLog(ctx.state);
        for (const k of refused.keys()) errors.addHeldBack(plan.issues.filter((i) => i.connection === k), ctx.profile.catalogue, runId);
        sent = await sendByConnection({
          plan, connections: keys.filter((k) => !refused.has(k)), apis: apis!, profile: ctx.profile,
          state: ctx.state, runId, log, concurrency: o.concurrency, checkReferences: o.checkReferences, sendUncheckedReferences: o.sendUncheckedReferences, stop,
        });
        for (const s of sent.values()) addEmit(total, s.emit);
        // Problems the engine found before and did not find again are over; a toggled-off connection was not looked at.
        const resource = ctx.profile.def.resource.name;
        for (const c of plan.connections) {
          // Not sent (stopped, or refused by the mass-delete guard: a broken snapshot must not end what it lacks).
          if (sent.get(c.connection)?.stopped || refused.has(c.connection)) continue;
          // A toggled-off connection's records were not looked at, but a run that reached its API ends its own stop.
          if (c.resourceEnabled) errors.resolveNotSeen(c.connection, resource, runId);
          else errors.resolveConnectionNotSeen(c.connection, resource, runId);
        }
        if (!limited) errors.resolveNotSeen(null, resource, runId);
      }

      // What the enclosing command sent before (resync's DELETEs) is part of each connection's outcome and exit code.
      const outcomes = connectionOutcomes(plan, keys, refs, withEarlier(sent, shared.earlier), refused, Boolean(o.heldBackOk));
      summary.connections.push(...outcomes);
      finishSummary(summary);
      // A run of one connection among several of a per-connection-state run reports its own part only.
      const own = { ...summary, connections: summary.connections.filter((c) => keys.includes(c.connection)) };
      reportOutcomes(own, total, plan, log, !o.dryRun);
      const code = mostSevere(own.connections.map((c) => c.exitCode));
      if (status !== 'dry-run') status = stop.by ? 'stopped' : code === EXIT.ok ? 'ok' : code === EXIT.heldBack ? 'held-back' : code === EXIT.refused ? 'refused' : code === EXIT.unreachable ? 'aborted' : 'partial';
      return summary.exitCode;
    } finally {
      if (stop.by && status !== 'dry-run') status = 'stopped';
      if (apis !== shared.apis) await apis?.close();
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
    .option('--check-references', 'before sending, look up each referenced LEA, student and program once and hold back records whose reference is missing (or could not be looked up)')
    .option('--send-unchecked-references', 'with --check-references: send the records whose reference lookup failed instead of holding them back')
    .option('--quiet', 'no summary or progress')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .action(async (o: SyncOptions) => {
      process.exitCode = await runSync(o);
    });
}

/** The planner's progress, which is also where a stop asked while planning (SIGTERM) ends the plan. */
function progressOrStop(stop: StopSignal, show: ((done: number, connection: string) => void) | undefined): (done: number, connection: string) => void {
  return (done, connection) => {
    stop.throwIfStopped();
    show?.(done, connection);
  };
}
