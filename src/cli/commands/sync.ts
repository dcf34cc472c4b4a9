import type { Command } from 'commander';
import { emitPlan, type EmitSummary } from '../../emit/emitter.js';
import { massDeleteLimits, massDeleteMessage, type MassDeleteLimits } from '../../plan/mass-delete.js';
import { instanceFromDataPath } from '../../plan/plan-options.js';
import { planRun, type StreamedPlan } from '../../plan/planner.js';
import type { Plan, PlanSummary } from '../../plan/plan-types.js';
import { EXCLUDED_SAMPLE, recordExcluded } from '../../state/excluded-records.js';
import { acquireLock } from '../../state/lock.js';
import { finishRun, startRun } from '../../state/runs.js';
import { openContext } from '../context.js';
import { readCredentials } from '../credentials.js';
import { clientFactory } from '../api-factory.js';
import { checkReferences, missingReferencesText } from '../../emit/reference-check.js';
import { EXIT } from '../exit-codes.js';
import { planSummaryText, writeOperations } from '../output.js';
import { planningProgress, Progress } from '../progress.js';
import { deleteGuardOptions, runOptions } from '../options.js';

export interface SyncOptions {
  profile: string;
  snapshot: string;
  state: string;
  apiBase?: string;
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
}

/** The counts of a run, worded the same by sync, retry and resync. */
export function emitSummaryText(s: EmitSummary, plan: { summary: PlanSummary }, title = 'Sync summary:'): string {
  const lines = [
    title,
    `  sent (new)        ${s.created}`,
    `  updated           ${s.updated}`,
    `  deleted           ${s.deleted}${s.alreadyGone ? ` (+${s.alreadyGone} already gone)` : ''}`,
    `  unchanged         ${plan.summary.unchanged}`,
    `  shared            ${plan.summary.shared + s.keptForOther}${plan.summary.shared + s.keptForOther > 0 ? ' (sent as another connection\'s record of the same ODS instance)' : ''}`,
    `  not sent (rules)  ${plan.summary.excluded}`,
    `  held back         ${s.heldBack}`,
    `  failed            ${s.failed}`,
  ];
  if (s.restored) lines.push(`  restored          ${s.restored} (a key change was refused; the record was put back as it was)`);
  for (const [status, n] of Object.entries(s.failedByStatus)) lines.push(`    HTTP ${status === '0' ? 'no answer' : status}: ${n}`);
  for (const [id, n] of Object.entries(s.failedByError)) lines.push(`    ${id}: ${n}`);
  if (s.aborted) lines.push(`  stopped early: ${s.aborted}`);
  if (s.failed + s.heldBack > 0) lines.push("  See `edfi-sync errors --state <file>` for each error with its cause and fix.");
  return lines.join('\n');
}

/** plan + emit: the scheduled job. Returns the exit code. */
export async function runSync(o: SyncOptions): Promise<number> {
  const ctx = openContext(o);
  let release: () => void;
  let limits: MassDeleteLimits;
  try {
    // A bad limit is a usage error, found before anything is planned or locked.
    limits = massDeleteLimits(o, ctx.profile);
    release = acquireLock(ctx.state);
  } catch (err) {
    // Refused (another run holds the lock): close the snapshot and the state file before saying so.
    ctx.close();
    throw err;
  }
  const runId = startRun(ctx.state, o.dryRun ? 'sync --dry-run' : 'sync', ctx.profile.def.name, o.snapshot);
  let status = 'failed';
  let summary: unknown = null;
  let plan: StreamedPlan | undefined;
  try {
    plan = await planRun({
      profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, instanceOf: instanceFromDataPath(o.dataPath),
      deleteGuard: { limits, allow: Boolean(o.allowMassDelete) }, onProgress: o.quiet ? undefined : planningProgress(),
    });
    if (!o.quiet) process.stderr.write(planSummaryText(plan) + '\n');
    recordExcluded(ctx.state, runId, [...plan.excluded(EXCLUDED_SAMPLE)], plan.excludedCounts());
    // Refused connections send nothing; the others still run.
    const refused = plan.refused;
    if (refused.length > 0) process.stderr.write(massDeleteMessage(refused) + '\n');
    if (o.dryRun) {
      await writeOperations(plan.operations(), o.out);
      status = refused.length > 0 ? 'refused' : 'dry-run';
      summary = { plan: plan.summary, refused };
      return refused.length > 0 ? EXIT.refused : EXIT.ok;
    }
    if (!o.apiBase) throw Object.assign(new Error('--api-base is required (or use --dry-run)'), { exitCode: EXIT.usage });
    const creds = readCredentials(o.credentialsFile);
    const client = clientFactory(o.apiBase, o.dataPath, creds);
    let toSend: Plan | StreamedPlan = plan;
    if (o.checkReferences) {
      const whole: Plan = {
        profile: plan.profile, resource: plan.resource, operations: [...plan.operations()], issues: [...plan.issues()], excluded: [],
        forget: [...plan.forget()], warnings: plan.warnings, connections: plan.connections, summary: plan.summary, refused,
      };
      const checked = await checkReferences(whole, ctx.profile, client);
      if (checked.missing.length > 0) process.stderr.write(missingReferencesText(checked.missing) + '\n');
      toSend = checked.plan;
    }
    const progress = new Progress('sending');
    const result = await emitPlan({
      api: client, profile: ctx.profile, plan: toSend, state: ctx.state, runId, concurrency: o.concurrency,
      onProgress: o.quiet ? undefined : (d, t) => progress.update(d, t),
    });
    summary = { plan: plan.summary, emit: result, ...(refused.length > 0 ? { refused } : {}) };
    if (!o.quiet) process.stderr.write(emitSummaryText(result, plan) + '\n');
    if (result.aborted) {
      status = 'aborted';
      return EXIT.unreachable;
    }
    if (refused.length > 0) {
      status = 'refused';
      return EXIT.refused;
    }
    // "All sent" means every record the snapshot wants: a record held back (invalid data, missing reference) is not.
    const notSent = result.failed + result.heldBack;
    status = notSent > 0 ? 'partial' : 'ok';
    if (notSent > 0) process.stderr.write(`${result.failed} record(s) failed, ${result.heldBack} held back (see \`edfi-sync errors\`)\n`);
    return notSent > 0 ? EXIT.apiFailed : EXIT.ok;
  } finally {
    plan?.close();
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
    .option('--check-references', 'before sending, look up each referenced LEA, student and program once and hold back records whose reference is missing')
    .option('--quiet', 'no summary or progress')
    .action(async (o: SyncOptions) => {
      process.exitCode = await runSync(o);
    });
}
