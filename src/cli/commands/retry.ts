import type { Command } from 'commander';
import { emitPlan } from '../../emit/emitter.js';
import { instanceFromDataPath } from '../../plan/plan-options.js';
import { planRun } from '../../plan/planner.js';
import { ErrorLog } from '../../state/error-log.js';
import { IdentityMap } from '../../state/identity-map.js';
import { acquireLock } from '../../state/lock.js';
import { finishRun, startRun } from '../../state/runs.js';
import { clientFactory } from '../api-factory.js';
import { openContext } from '../context.js';
import { readCredentials } from '../credentials.js';
import { EXIT } from '../exit-codes.js';
import { emitSummaryText, type SyncOptions } from './sync.js';
import { runOptions } from '../options.js';

/** Re-sends only the records whose last outcome was an error (the spec's "retry the errored record"). */
export async function runRetry(o: SyncOptions): Promise<number> {
  if (!o.apiBase) throw Object.assign(new Error('--api-base is required'), { exitCode: EXIT.usage });
  const creds = readCredentials(o.credentialsFile);
  const ctx = openContext(o);
  const release = acquireLock(ctx.state);
  const runId = startRun(ctx.state, 'retry', ctx.profile.def.name, o.snapshot);
  let status = 'failed';
  try {
    const resource = ctx.profile.def.resource.name;
    const keys = new Set(new ErrorLog(ctx.state).unresolvedKeys(resource).map((k) => k.sourceKey));
    for (const key of new IdentityMap(ctx.state).unsettled(resource)) keys.add(key);
    if (keys.size === 0) {
      process.stderr.write('Nothing to retry: no record has an unresolved error.\n');
      status = 'ok';
      return EXIT.ok;
    }
    const plan = await planRun({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, onlySourceKeys: keys, instanceOf: instanceFromDataPath(o.dataPath) });
    try {
      process.stderr.write(`Retrying ${keys.size} record(s) with errors: ${plan.operationCount()} operation(s)\n`);
      const result = await emitPlan({ api: clientFactory(o.apiBase, o.dataPath, creds), profile: ctx.profile, plan, state: ctx.state, runId, concurrency: o.concurrency });
      process.stderr.write(emitSummaryText(result, plan, 'Retry summary:') + '\n');
      // The same rule as sync: a record failed at the API or held back is not in the ODS.
      const notSent = result.failed + result.heldBack;
      status = notSent > 0 ? 'partial' : 'ok';
      return result.aborted ? EXIT.unreachable : notSent > 0 ? EXIT.apiFailed : EXIT.ok;
    } finally {
      plan.close();
    }
  } finally {
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
