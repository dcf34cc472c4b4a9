import type { Command } from 'commander';
import { emitPlan } from '../../emit/emitter.js';
import { massDeleteLimits, massDeleteMessage, violationsOf } from '../../plan/mass-delete.js';
import { emptyPlan } from '../../plan/plan-types.js';
import { reconcile, type Reconciliation } from '../../resync/reconcile.js';
import { IdentityMap } from '../../state/identity-map.js';
import { acquireLock } from '../../state/lock.js';
import { finishRun, startRun } from '../../state/runs.js';
import { connectRun, type ApiConnection } from '../api-factory.js';
import { openContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { runSync, type SyncOptions } from './sync.js';
import { deleteGuardOptions, runOptions } from '../options.js';

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

export async function runResync(o: SyncOptions & { format?: string }): Promise<number> {
  if (!o.apiBase) throw Object.assign(new Error('--api-base is required'), { exitCode: EXIT.usage });
  const ctx = openContext(o);
  let release: () => void;
  try {
    release = acquireLock(ctx.state);
  } catch (err) {
    ctx.close();
    throw err;
  }
  const runId = startRun(ctx.state, o.dryRun ? 'resync --dry-run' : 'resync', ctx.profile.def.name, o.snapshot);
  let status = 'failed';
  let connection: ApiConnection | undefined;
  let proceed = false;
  try {
    connection = await connectRun({ ...o, apiBase: o.apiBase }, ctx);
    const api = connection.api;
    const preview = await reconcile({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, api, apply: false });
    if (!preview.complete && o.format === 'json') for (const note of preview.notes) process.stderr.write(`note: ${note}\n`);
    process.stdout.write((o.format === 'json' ? JSON.stringify(preview, null, 2) : reconciliationText(preview)) + '\n');
    if (o.dryRun) {
      status = 'dry-run';
      return EXIT.ok;
    }
    const identity = new IdentityMap(ctx.state);
    const counts = new Map<string, { deletes: number; mapped: number }>();
    for (const d of preview.deletes) {
      const c = counts.get(d.connection) ?? { deletes: 0, mapped: identity.summaries(d.connection, ctx.profile.def.resource.name).size };
      c.deletes++;
      counts.set(d.connection, c);
    }
    const violations = violationsOf(counts, massDeleteLimits(o, ctx.profile));
    if (violations.length > 0 && !o.allowMassDelete) {
      process.stderr.write(massDeleteMessage(violations) + '\n');
      status = 'refused';
      return EXIT.refused;
    }
    const applied = await reconcile({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, api, apply: true });
    const plan = emptyPlan(ctx.profile.def.name, ctx.profile.def.resource.name, applied.deletes);
    const result = await emitPlan({ api, profile: ctx.profile, plan, state: ctx.state, runId, concurrency: o.concurrency });
    process.stderr.write(`resync: deleted ${result.deleted} ODS record(s) nobody wants${result.failed ? `, ${result.failed} failed` : ''}\n`);
    status = 'ok';
    proceed = true;
  } finally {
    if (!proceed) await connection?.close();
    finishRun(ctx.state, runId, status, null);
    release();
    ctx.close();
  }
  // Every wanted record is evaluated with today's mappings and sent where the ODS differs, on the same connection.
  try {
    return await runSync({ ...o, allowMassDelete: o.allowMassDelete }, { api: connection });
  } finally {
    await connection?.close();
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
    .action(async (o: SyncOptions & { format?: string }) => {
      process.exitCode = await runResync(o);
    });
}
