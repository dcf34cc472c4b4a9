import type { Command } from 'commander';
import { emptyEmitSummary, type EmitSummary } from '../../emit/emitter.js';
import { createRunLog } from '../../log/run-log.js';
import { buildPlan } from '../../plan/planner.js';
import { connectionKey, readConnections } from '../../snapshot/connections.js';
import { ErrorLog } from '../../state/error-log.js';
import { IdentityMap } from '../../state/identity-map.js';
import { finishRun, startRun } from '../../state/runs.js';
import { connectionRef } from '../../targets/types.js';
import { usageError } from '../cli-error.js';
import { connectedApis, type ConnectionApis } from '../connection-apis.js';
import { discoveredInstances } from '../discovered-instances.js';
import { checkConnectionKeys, runConnections, singleStateFile, targetsOf } from '../connection-select.js';
import { openContext } from '../context.js';
import { EXIT, EXIT_CODES_HELP } from '../exit-codes.js';
import { runOptions } from '../options.js';
import { reportRun } from '../run-report.js';
import { finishSummary, startSummary } from '../run-summary.js';
import { sendByConnection } from '../send-connections.js';
import type { SyncOptions } from './sync.js';
import { addEmit, connectionOutcomes, reportOutcomes } from '../connection-outcomes.js';
import { lockConnections } from '../run-locks.js';

/** Re-sends only the records whose last send failed (the spec's "retry the errored record"). */
export async function runRetry(o: SyncOptions): Promise<number> {
  const summary = startSummary('retry', o.runId);
  const log = createRunLog({ runId: summary.runId, format: o.logFormat, quiet: o.quiet });
  return reportRun(o, summary, log, async () => {
    checkConnectionKeys(o.connection);
    const targets = targetsOf(o);
    if (!targets) throw usageError('--api-base or --targets is required');
    const ctx = openContext({ ...o, state: singleStateFile(o.state, o.connection) });
    try {
      summary.profile = ctx.profile.def.name;
      // A shard holds every connection of an ODS instance, as the APIs' root documents give the instances.
      const instances = o.shard ? await discoveredInstances(targets, readConnections(ctx.snapshot, ctx.profile), o) : undefined;
      const conns = runConnections(ctx.snapshot, ctx.profile, o, targets, instances);
      const connKeys = conns.map(connectionKey);
      const refs = new Map(conns.map((c) => [connectionKey(c), connectionRef(c, connectionKey(c))]));
      const release = lockConnections(ctx.state, connKeys, log);
      const runId = startRun(ctx.state, 'retry', ctx.profile.def.name, o.snapshot, summary.runId, connKeys);
      summary.stateRunId = runId;
      let status = 'failed';
      const total: EmitSummary = emptyEmitSummary();
      let apis: ConnectionApis | undefined;
      try {
        apis = await connectedApis(targets, refs, { ...o, profile: ctx.profile, connections: conns }, (line) => log.event('info', 'api', {}, line));
        const resource = ctx.profile.def.resource.name;
        const selected = new Set(connKeys);
        const keys = new Set(new ErrorLog(ctx.state).unresolvedKeys(resource, selected).map((k) => k.sourceKey));
        for (const key of new IdentityMap(ctx.state).unsettled(resource, selected)) keys.add(key);
        if (keys.size === 0) {
          log.event('info', 'nothing-to-retry', {}, 'Nothing to retry: no record has an unresolved error.');
          status = 'ok';
          return EXIT.ok;
        }
        const plan = await buildPlan({
          profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, onlySourceKeys: keys, onlyConnections: selected,
          instanceOf: (c) => instanceOrNone(apis!, connectionKey(c)),
        });
        log.event('info', 'retry', { counts: { records: keys.size, operations: plan.operations.length } }, `Retrying ${keys.size} record(s) with errors: ${plan.operations.length} operation(s)`);
        const sent = await sendByConnection({
          plan, connections: connKeys, apis, profile: ctx.profile, state: ctx.state, runId, log,
          concurrency: o.concurrency,
        });
        for (const s of sent.values()) addEmit(total, s.emit);
        summary.connections.push(...connectionOutcomes(plan, connKeys, refs, sent, new Map(), Boolean(o.heldBackOk)));
        finishSummary(summary);
        reportOutcomes(summary, total, plan, log, true);
        status = summary.exitCode === EXIT.ok ? 'ok' : summary.exitCode === EXIT.unreachable ? 'aborted' : 'partial';
        return summary.exitCode;
      } finally {
        await apis?.close();
        finishRun(ctx.state, runId, status, { emit: total, exitCode: summary.exitCode, connections: summary.connections });
        release();
      }
    } finally {
      ctx.close();
    }
  });
}

export function registerRetry(program: Command): void {
  const cmd = program.command('retry').description('Re-send the records whose last send failed');
  runOptions(cmd, true)
    .option('--quiet', 'no summary')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .action(async (o: SyncOptions) => {
      process.exitCode = await runRetry(o);
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
