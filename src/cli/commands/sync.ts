import type { Command } from 'commander';
import { emitPlan, type EmitSummary } from '../../emit/emitter.js';
import { massDeleteLimits, massDeleteMessage, massDeleteViolations } from '../../plan/mass-delete.js';
import { buildPlan } from '../../plan/planner.js';
import type { Plan } from '../../plan/plan-types.js';
import { acquireLock } from '../../state/lock.js';
import { finishRun, recordExcluded, startRun } from '../../state/runs.js';
import type { ApiFlavor } from '../../api/flavor.js';
import { openContext } from '../context.js';
import { connectRun, type ApiConnection } from '../api-factory.js';
import { checkReferences, missingReferencesText, uncheckedReferencesText } from '../../emit/reference-check.js';
import { EXIT } from '../exit-codes.js';
import { planSummaryText, writeOperations } from '../output.js';
import { planningProgress, Progress } from '../progress.js';
import { deleteGuardOptions, runOptions } from '../options.js';

export interface SyncOptions {
  profile: string;
  snapshot: string;
  state: string;
  apiBase?: string;
  /** Overrides the data path the API's root document gives. */
  dataPath?: string;
  apiFlavor?: ApiFlavor;
  routeContext?: Record<string, string>;
  concurrency: number;
  dryRun?: boolean;
  allowMassDelete?: boolean;
  maxDeleteShare?: number;
  maxDeleteCount?: number;
  credentialsFile?: string;
  out?: string;
  quiet?: boolean;
  checkReferences?: boolean;
  /** With checkReferences: send records whose reference lookup failed (default: hold them back). */
  sendUncheckedReferences?: boolean;
  workers?: number;
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

/**
 * plan + emit: the scheduled job. Returns the exit code. `shared.api` is a connection an enclosing command (resync)
 * already made, so the API's root document is read once per run.
 */
export async function runSync(o: SyncOptions, shared: { api?: ApiConnection } = {}): Promise<number> {
  const ctx = openContext(o);
  let release: () => void;
  try {
    release = acquireLock(ctx.state);
  } catch (err) {
    // Refused (another run holds the lock): close the snapshot and the state file before saying so.
    ctx.close();
    throw err;
  }
  const runId = startRun(ctx.state, o.dryRun ? 'sync --dry-run' : 'sync', ctx.profile.def.name, o.snapshot);
  let status = 'failed';
  let summary: unknown = null;
  let api: ApiConnection | undefined;
  try {
    // The API is read before planning: a wrong URL or a profile for another Data Standard stops the run at once.
    if (!o.dryRun) {
      if (!o.apiBase) throw Object.assign(new Error('--api-base is required (or use --dry-run)'), { exitCode: EXIT.usage });
      api = shared.api ?? (await connectRun({ ...o, apiBase: o.apiBase }, ctx));
    }
    const plan = await buildPlan({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, workers: o.workers ?? 0, onProgress: o.quiet ? undefined : planningProgress() });
    if (!o.quiet) process.stderr.write(planSummaryText(plan) + '\n');
    recordExcluded(ctx.state, runId, plan);
    const violations = massDeleteViolations(plan, massDeleteLimits(o, ctx.profile));
    if (violations.length > 0 && !o.allowMassDelete) {
      process.stderr.write(massDeleteMessage(violations) + '\n');
      status = 'refused';
      summary = { violations };
      return EXIT.refused;
    }
    if (o.dryRun) {
      await writeOperations(plan.operations, o.out);
      status = 'dry-run';
      summary = plan.summary;
      return EXIT.ok;
    }
    if (!api) throw Object.assign(new Error('--api-base is required (or use --dry-run)'), { exitCode: EXIT.usage });
    const client = api.api;
    let toSend = plan;
    if (o.checkReferences) {
      const checked = await checkReferences(plan, ctx.profile, client, { sendUnchecked: o.sendUncheckedReferences });
      if (checked.missing.length > 0) process.stderr.write(missingReferencesText(checked.missing) + '\n');
      if (checked.unchecked.length > 0) process.stderr.write(uncheckedReferencesText(checked.unchecked, Boolean(o.sendUncheckedReferences)) + '\n');
      toSend = checked.plan;
    }
    const progress = new Progress('sending');
    const result = await emitPlan({
      api: client, profile: ctx.profile, plan: toSend, state: ctx.state, runId, concurrency: o.concurrency,
      onProgress: o.quiet ? undefined : (d, t) => progress.update(d, t),
    });
    summary = { plan: plan.summary, emit: result };
    if (!o.quiet) process.stderr.write(emitSummaryText(result, toSend) + '\n');
    if (result.aborted) {
      status = 'aborted';
      return EXIT.unreachable;
    }
    // "All sent" means every record the snapshot wants: a record held back (invalid data, missing reference) is not.
    const notSent = result.failed + result.heldBack;
    status = notSent > 0 ? 'partial' : 'ok';
    if (notSent > 0) process.stderr.write(`${result.failed} record(s) failed, ${result.heldBack} held back (see \`edfi-sync errors\`)\n`);
    return notSent > 0 ? EXIT.apiFailed : EXIT.ok;
  } finally {
    if (api !== shared.api) await api?.close();
    finishRun(ctx.state, runId, status, summary);
    release();
    ctx.close();
  }
}

export function registerSync(program: Command): void {
  const cmd = program
    .command('sync')
    .description('Plan and send: bring the Ed-Fi ODS in step with the snapshot (the scheduled job). Key and secret from EDFI_CLIENT_ID / EDFI_CLIENT_SECRET.');
  deleteGuardOptions(runOptions(cmd, false))
    .option('--dry-run', 'print the plan (JSON Lines) and send nothing')
    .option('--out <file>', 'with --dry-run: write the operations here')
    .option('--check-references', 'before sending, look up each referenced LEA, student and program once and hold back records whose reference is missing (or could not be looked up)')
    .option('--send-unchecked-references', 'with --check-references: send the records whose reference lookup failed instead of holding them back')
    .option('--quiet', 'no summary or progress')
    .action(async (o: SyncOptions) => {
      process.exitCode = await runSync(o);
    });
}
