import type { Command } from 'commander';
import { emitPlan, emptyEmitSummary, type EmitSummary } from '../../emit/emitter.js';
import { addEmit } from '../connection-outcomes.js';
import { createRunLog } from '../../log/run-log.js';
import { massDeleteLimits, massDeleteMessage, violationsOf } from '../../plan/mass-delete.js';
import { emptyPlan } from '../../plan/plan-types.js';
import { reconcile, type Reconciliation } from '../../resync/reconcile.js';
import { connectionKey, readConnections } from '../../snapshot/connections.js';
import { IdentityMap } from '../../state/identity-map.js';
import { acquireLocks, connectionLock } from '../../state/lock.js';
import { finishRun, startRun } from '../../state/runs.js';
import { connectionRef } from '../../targets/types.js';
import { usageError } from '../cli-error.js';
import { connectedApis, type ConnectionApis } from '../connection-apis.js';
import { discoveredInstances } from '../discovered-instances.js';
import { checkConnectionKeys, runConnections, selectConnections, singleStateFile, targetsOf } from '../connection-select.js';
import { openContext } from '../context.js';
import { EXIT, EXIT_CODES_HELP } from '../exit-codes.js';
import { deleteGuardOptions, runOptions } from '../options.js';
import { reportRun } from '../run-report.js';
import { newRunId, startSummary } from '../run-summary.js';
import { runSync, type SyncOptions } from './sync.js';

export function reconciliationText(r: Reconciliation, limit = 50): string {
  const lines = [`Resync: ${r.odsRecords} record(s) read from the ODS${r.complete ? '' : ' (looked up by id: the API could not list them)'}`];
  for (const note of r.notes) lines.push(`  note: ${note}`);
  for (const [action, n] of Object.entries(r.counts)) lines.push(`  ${action.padEnd(16)} ${n}`);
  const shown = r.rows.filter((x) => x.action !== 'in-step');
  if (shown.length > 0) {
    lines.push('', 'action            connection  source key                      Ed-Fi id                          why');
    for (const x of shown.slice(0, limit)) {
      lines.push(`${x.action.padEnd(17)} ${x.connection.padEnd(11)} ${(x.sourceKey ?? '-').padEnd(31)} ${(x.edfiId ?? '-').padEnd(33)} ${x.detail}`);
    }
    if (shown.length > limit) lines.push(`... and ${shown.length - limit} more (use --format json for all)`);
  }
  return lines.join('\n');
}

/** What resync's DELETEs of records nobody wants came to, counted from what the ODS answered. */
export function deletesText(planned: number, s: EmitSummary): string {
  return `resync deletes: ${s.deleted} deleted, ${s.alreadyGone} already gone, ${s.keptForOther} kept (another record maps it), ${s.failed} failed` +
    ` of ${planned} planned${s.failed ? ' (see `edfi-sync errors`)' : ''}`;
}

/**
 * Reconciles ODS, identity mapping and snapshot, then syncs. With --connection only those connections change;
 * the other connections of the same ODS are read so that a record one of them wants is never "nobody's".
 */
export async function runResync(o: SyncOptions & { format?: string }): Promise<number> {
  const runId = o.runId ?? newRunId();
  const summary = startSummary(o.dryRun ? 'resync --dry-run' : 'resync', runId);
  const log = createRunLog({ runId, format: o.logFormat, quiet: o.quiet });
  let apis: ConnectionApis | undefined;
  const earlier = new Map<string, EmitSummary>();
  // When the reconciliation goes through, the sync that follows writes the summary of the whole command.
  const code = await reportRun(o, summary, log, async () => {
    checkConnectionKeys(o.connection);
    const targets = targetsOf(o);
    if (!targets) throw usageError('--api-base or --targets is required');
    const ctx = openContext({ ...o, state: singleStateFile(o.state, o.connection) });
    try {
      // A shard holds every connection of an ODS instance, as the APIs' root documents give the instances.
      const instances = o.shard ? await discoveredInstances(targets, readConnections(ctx.snapshot, ctx.profile), o) : undefined;
      const conns = runConnections(ctx.snapshot, ctx.profile, o, targets, instances);
      const keys = conns.map(connectionKey);
      const refs = new Map(conns.map((c) => [connectionKey(c), connectionRef(c, connectionKey(c))]));
      // Every connection of the snapshot may be read (shared ODS instances); only the selected ones are changed.
      const allRefs = new Map(selectConnections(ctx.snapshot, ctx.profile, undefined).map((c) => [connectionKey(c), connectionRef(c, connectionKey(c))]));
      const allConns = selectConnections(ctx.snapshot, ctx.profile, undefined);
      apis = await connectedApis(targets, new Map([...allRefs, ...refs]), { ...o, profile: ctx.profile, connections: allConns }, (line) => log.event('info', 'api', {}, line));
      const api = apis.forConnection;
      // A connection whose API could not be read (or that has no usable key) is not reconciled: the sync that follows
      // reports it as stopped, and the other connections go on.
      const only = new Set(keys.filter((k) => !apis!.failure(k)));
      const release = acquireLocks(ctx.state, keys.map(connectionLock));
      const stateRunId = startRun(ctx.state, summary.command, ctx.profile.def.name, o.snapshot, runId, keys);
      let status = 'failed';
      try {
        if (only.size === 0) {
          status = 'aborted';
          return EXIT.ok;
        }
        const preview = await reconcile({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, api, apply: false, onlyConnections: only, instanceOf: (c) => instanceOrNone(apis!, connectionKey(c)) });
        // An API that cannot list its records is read record by record: say so, also beside JSON output.
        if (!preview.complete && o.format === 'json') for (const note of preview.notes) process.stderr.write(`note: ${note}\n`);
        process.stdout.write((o.format === 'json' ? JSON.stringify(preview, null, 2) : reconciliationText(preview)) + '\n');
        if (o.dryRun) {
          status = 'dry-run';
          return EXIT.ok;
        }
        const identity = new IdentityMap(ctx.state);
        const counts = new Map<string, { deletes: number; mapped: number }>();
        for (const d of preview.deletes) {
          const c = counts.get(d.connection) ?? { deletes: 0, mapped: identity.countMapped(d.connection, ctx.profile.def.resource.name) };
          c.deletes++;
          counts.set(d.connection, c);
        }
        const violations = violationsOf(counts, massDeleteLimits(o, ctx.profile));
        if (violations.length > 0 && !o.allowMassDelete) {
          log.event('error', 'mass-delete-refused', { connections: violations.map((v) => v.connection) }, massDeleteMessage(violations));
          status = 'refused';
          return EXIT.refused;
        }
        const applied = await reconcile({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, api, apply: true, onlyConnections: only, instanceOf: (c) => instanceOrNone(apis!, connectionKey(c)) });
        // Sent per connection: each connection's outcome (and exit code) counts its own deletes and their failures.
        const total = emptyEmitSummary();
        for (const key of only) {
          const mine = applied.deletes.filter((d) => d.connection === key);
          if (mine.length === 0) continue;
          const result = await emitPlan({ api, profile: ctx.profile, plan: emptyPlan(ctx.profile.def.name, ctx.profile.def.resource.name, mine), state: ctx.state, runId: stateRunId, concurrency: o.concurrency });
          earlier.set(key, result);
          addEmit(total, result);
        }
        // The reconciliation above says what was to be done; this says what the DELETEs came to.
        const done = deletesText(applied.deletes.length, total);
        const toStdout = o.format !== 'json' && applied.deletes.length > 0;
        if (toStdout) process.stdout.write(`${done}\n`);
        // Once is enough at a terminal; a log collector gets the event whatever stdout carries.
        if (!toStdout || log.format === 'json') log.event('info', 'resync-deleted', { counts: { planned: applied.deletes.length, deleted: total.deleted, alreadyGone: total.alreadyGone, keptForOther: total.keptForOther, failed: total.failed } }, done);
        status = total.failed > 0 ? 'partial' : 'ok';
        return EXIT.ok;
      } finally {
        finishRun(ctx.state, stateRunId, status, null);
        release();
      }
    } finally {
      ctx.close();
    }
  });
  try {
    if (code !== EXIT.ok || o.dryRun) return code;
    // Every wanted record is evaluated with today's mappings and sent where the ODS differs, on the APIs already read.
    return await runSync({ ...o, runId }, { apis, command: 'resync', earlier });
  } finally {
    await apis?.close();
  }
}

export function registerResync(program: Command): void {
  const cmd = program
    .command('resync')
    .description('Reconcile the ODS, the identity mapping and the snapshot (after mapping changes, a lost state file, or ODS edits)');
  deleteGuardOptions(runOptions(cmd, true))
    .option('--dry-run', 'show the reconciliation and change nothing')
    .option('--format <format>', 'text or json', 'text')
    .option('--quiet', 'no plan summary')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .action(async (o: SyncOptions & { format?: string }) => {
      process.exitCode = await runResync(o);
    });
}

/** The instance of a connection from its API, or none (the planner then takes the one its records were sent to). */
function instanceOrNone(apis: { instanceOf(key: string): string }, key: string): string | undefined {
  try {
    return apis.instanceOf(key);
  } catch {
    return undefined;
  }
}
