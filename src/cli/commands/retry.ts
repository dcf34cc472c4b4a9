import type { Command } from 'commander';
import { emitPlan } from '../../emit/emitter.js';
import { buildPlan } from '../../plan/planner.js';
import { ErrorLog } from '../../state/error-log.js';
import { IdentityMap } from '../../state/identity-map.js';
import { acquireLock } from '../../state/lock.js';
import { finishRun, startRun } from '../../state/runs.js';
import { connectRun, type ApiConnection } from '../api-factory.js';
import { openContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { emitSummaryText, type SyncOptions } from './sync.js';
import { runOptions } from '../options.js';

/** Re-sends only the records whose last outcome was an error (the spec's "retry the errored record"). */
export async function runRetry(o: SyncOptions): Promise<number> {
  if (!o.apiBase) throw Object.assign(new Error('--api-base is required'), { exitCode: EXIT.usage });
  const ctx = openContext(o);
  let release: () => void;
  try {
    release = acquireLock(ctx.state);
  } catch (err) {
    ctx.close();
    throw err;
  }
  const runId = startRun(ctx.state, 'retry', ctx.profile.def.name, o.snapshot);
  let status = 'failed';
  let api: ApiConnection | undefined;
  try {
    api = await connectRun({ ...o, apiBase: o.apiBase }, ctx);
    const resource = ctx.profile.def.resource.name;
    const keys = new Set(new ErrorLog(ctx.state).unresolvedKeys(resource).map((k) => k.sourceKey));
    for (const row of new IdentityMap(ctx.state).find({ resource })) {
      if (row.lastOutcome === 'error' || !row.edfiId) keys.add(row.sourceKey);
    }
    if (keys.size === 0) {
      process.stderr.write('Nothing to retry: no record has an unresolved error.\n');
      status = 'ok';
      return EXIT.ok;
    }
    const plan = await buildPlan({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, onlySourceKeys: keys });
    process.stderr.write(`Retrying ${keys.size} record(s) with errors: ${plan.operations.length} operation(s)\n`);
    const result = await emitPlan({ api: api.api, profile: ctx.profile, plan, state: ctx.state, runId, concurrency: o.concurrency });
    process.stderr.write(emitSummaryText(result, plan) + '\n');
    status = result.failed > 0 ? 'partial' : 'ok';
    return result.aborted ? EXIT.unreachable : result.failed > 0 ? EXIT.apiFailed : EXIT.ok;
  } finally {
    await api?.close();
    finishRun(ctx.state, runId, status, null);
    release();
    ctx.close();
  }
}

export function registerRetry(program: Command): void {
  const cmd = program.command('retry').description('Re-send the records whose last send failed');
  runOptions(cmd, true)
    .action(async (o: SyncOptions) => {
      process.exitCode = await runRetry(o);
    });
}
