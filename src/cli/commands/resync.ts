import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Command } from 'commander';
import type { ResourceApi } from '../../emit/api.js';
import { emitPlan, emptyEmitSummary, type EmitSummary } from '../../emit/emitter.js';
import { addEmit } from '../connection-outcomes.js';
import { createRunLog } from '../../log/run-log.js';
import { massDeleteLimits, massDeleteMessage, massDeleteViolations, violationsOf, type MassDeleteLimits, type MassDeleteViolation } from '../../plan/mass-delete.js';
import { buildPlan } from '../../plan/planner.js';
import type { LoadedProfile } from '../../profile/load-profile.js';
import { emptyPlan } from '../../plan/plan-types.js';
import { reconcile, type Reconciliation } from '../../resync/reconcile.js';
import { connectionKey, readConnections } from '../../snapshot/connections.js';
import { IdentityMap } from '../../state/identity-map.js';
import { openState } from '../../state/state-db.js';
import type { Connection } from '../../types.js';
import { finishRun, startRun } from '../../state/runs.js';
import { connectionRef } from '../../targets/types.js';
import { usageError } from '../cli-error.js';
import { connectedApis, type ConnectionApis } from '../connection-apis.js';
import { discoveredInstances } from '../discovered-instances.js';
import { checkConnectionKeys, runConnections, selectConnections, singleStateFile, targetsOf } from '../connection-select.js';
import { openContext } from '../context.js';
import { planSummaryText, writeOperations } from '../output.js';
import { EXIT, EXIT_CODES_HELP } from '../exit-codes.js';
import { deleteGuardOptions, runOptions } from '../options.js';
import { reportRun } from '../run-report.js';
import { newRunId, startSummary } from '../run-summary.js';
import { runSync, type SyncOptions } from './sync.js';
import { lockConnections } from '../run-locks.js';

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
export async function runResync(o: SyncOptions & { format?: string; out?: string }): Promise<number> {
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
    const stateFile = singleStateFile(o.state, o.connection);
    // A dry run writes nothing: a state file that does not exist (lost, or a mistyped path) is not created for it.
    const ctx = openContext({ ...o, state: o.dryRun && !existsSync(stateFile) ? undefined : stateFile });
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
      const release = lockConnections(ctx.state, keys, log);
      const stateRunId = startRun(ctx.state, summary.command, ctx.profile.def.name, o.snapshot, runId, keys);
      let status = 'failed';
      try {
        if (only.size === 0) {
          status = 'aborted';
          return EXIT.ok;
        }
        const instanceOf = (c: Connection): string | undefined => instanceOrNone(apis!, connectionKey(c));
        if (o.dryRun) {
          // The whole resync, the sync after it included, on a scratch copy of the state file: the report says what
          // the real one would change and send, and nothing is written or sent.
          status = 'dry-run';
          return await dryRun({ o, ctx, api, only, instanceOf, limits: massDeleteLimits(o, ctx.profile) });
        }
        const preview = await reconcile({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, api, apply: false, onlyConnections: only, instanceOf });
        printReconciliation(preview, o.format);
        const violations = deleteViolations(preview, ctx.state, ctx.profile.def.resource.name, massDeleteLimits(o, ctx.profile));
        if (violations.length > 0 && !o.allowMassDelete) {
          log.event('error', 'mass-delete-refused', { connections: violations.map((v) => v.connection) }, massDeleteMessage(violations));
          status = 'refused';
          return EXIT.refused;
        }
        const applied = await reconcile({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, api, apply: true, onlyConnections: only, instanceOf });
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
    .option('--dry-run', 'show the reconciliation and what the sync after it would send, and change nothing')
    .option('--out <file>', 'with --dry-run: write the operations the sync would send here (JSON lines) instead of stdout')
    .option('--format <format>', 'text or json', 'text')
    .option('--quiet', 'no plan summary')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .action(async (o: SyncOptions & { format?: string }) => {
      process.exitCode = await runResync(o);
    });
}

/** The reconciliation as the operator reads it; an API that cannot list its records is said so beside JSON too. */
function printReconciliation(r: Reconciliation, format: string | undefined): void {
  if (!r.complete && format === 'json') for (const note of r.notes) process.stderr.write(`note: ${note}\n`);
  process.stdout.write((format === 'json' ? JSON.stringify(r, null, 2) : reconciliationText(r)) + '\n');
}

/** Connections whose resync DELETEs the mass-delete guard refuses. */
function deleteViolations(r: Reconciliation, state: Database, resource: string, limits: MassDeleteLimits): MassDeleteViolation[] {
  const identity = new IdentityMap(state);
  const counts = new Map<string, { deletes: number; mapped: number }>();
  for (const d of r.deletes) {
    const c = counts.get(d.connection) ?? { deletes: 0, mapped: identity.countMapped(d.connection, resource) };
    c.deletes++;
    counts.set(d.connection, c);
  }
  return violationsOf(counts, limits);
}

/**
 * resync --dry-run: the reconciliation applied to a scratch copy of the state file (made with VACUUM INTO, a
 * consistent copy while other jobs write), then the sync after it planned there with today's Resource
 * Preferences, as the real resync plans it. Its operations are printed as `sync --dry-run` prints them. The API
 * is only read; the scratch copy is removed.
 */
async function dryRun(a: {
  o: SyncOptions & { format?: string; out?: string };
  ctx: { profile: LoadedProfile; snapshot: Database; state: Database };
  api: (connection: string) => ResourceApi;
  only: Set<string>;
  instanceOf: (c: Connection) => string | undefined;
  limits: MassDeleteLimits;
}): Promise<number> {
  const { o, ctx } = a;
  // Beside the state file, not in the system's temporary folder (often a small tmpfs): the copy is as large as it.
  const dir = mkdtempSync(ctx.state.name ? join(dirname(resolve(ctx.state.name)), '.resync-dry-run-') : join(tmpdir(), 'edfi-resync-dry-run-'));
  const file = join(dir, 'state.sqlite');
  // A reader that goes away (`| head`) ends the process at once: the scratch copy goes with it all the same.
  const removeScratch = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeScratch);
  // With the operations on stdout (JSON lines, for a pipe), the report for a person goes to stderr.
  const say = (text: string): void => {
    (o.out ? process.stdout : process.stderr).write(text);
  };
  try {
    ctx.state.prepare('VACUUM INTO ?').run(file);
    const scratch = openState(file);
    try {
      const r = await reconcile({ profile: ctx.profile, snapshot: ctx.snapshot, state: scratch, api: a.api, apply: true, onlyConnections: a.only, instanceOf: a.instanceOf });
      const refused = o.allowMassDelete ? [] : deleteViolations(r, ctx.state, ctx.profile.def.resource.name, a.limits);
      if (!r.complete && o.format === 'json') for (const note of r.notes) process.stderr.write(`note: ${note}\n`);
      if (refused.length > 0) {
        // The real resync stops before anything is deleted or sent: so does its preview.
        const stop = `${massDeleteMessage(refused)} (the real resync stops here: nothing would be deleted or sent)`;
        if (o.format === 'json') process.stdout.write(JSON.stringify({ ...r, refused: stop, sync: null }, null, 2) + '\n');
        else say(`${reconciliationText(r)}\n\n${stop}\n`);
        return EXIT.refused;
      }
      const plan = await buildPlan({ profile: ctx.profile, snapshot: ctx.snapshot, state: scratch, onlyConnections: a.only, instanceOf: a.instanceOf, reevaluate: a.only, preview: true });
      // As the sync refuses a connection whose plan deletes too much: its operations are not shown as sent.
      const syncRefused = o.allowMassDelete ? [] : massDeleteViolations(plan, a.limits).filter((v) => a.only.has(v.connection));
      const held = new Set(syncRefused.map((v) => v.connection));
      const operations = plan.operations.filter((op) => a.only.has(op.connection) && !held.has(op.connection));
      const guard = syncRefused.length > 0 ? `${massDeleteMessage(syncRefused)} (the sync after the resync would send nothing for ${syncRefused.length === 1 ? 'that connection' : 'those connections'})` : undefined;
      if (o.format === 'json') {
        if (o.out) await writeOperations(operations, o.out);
        process.stdout.write(JSON.stringify({ ...r, refused: guard ?? null, sync: { summary: plan.summary, ...(o.out ? { operationsFile: o.out, operationCount: operations.length } : { operations }) } }, null, 2) + '\n');
      } else {
        say(reconciliationText(r) + '\n');
        if (guard) say(`\n${guard}\n`);
        say(`\nThen the sync (with today's Resource Preferences) would send ${operations.length} operation(s)${o.out ? `, written to ${o.out}` : ' (JSON lines on stdout)'}:\n${planSummaryText(plan)}\n`);
        await writeOperations(operations, o.out);
      }
      return guard ? EXIT.refused : EXIT.ok;
    } finally {
      scratch.close();
    }
  } finally {
    process.removeListener('exit', removeScratch);
    removeScratch();
  }
}

/** The instance of a connection from its API, or none (the planner then takes the one its records were sent to). */
function instanceOrNone(apis: { instanceOf(key: string): string }, key: string): string | undefined {
  try {
    return apis.instanceOf(key);
  } catch {
    return undefined;
  }
}
