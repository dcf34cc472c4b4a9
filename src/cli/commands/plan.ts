import type { Command } from 'commander';
import { createRunLog, type LogFormat } from '../../log/run-log.js';
import { buildPlan } from '../../plan/planner.js';
import { connectionKey } from '../../snapshot/connections.js';
import { connectionRef } from '../../targets/types.js';
import { checkConnectionKeys, selectConnections } from '../connection-select.js';
import { openContext } from '../context.js';
import { EXIT, EXIT_CODES_HELP } from '../exit-codes.js';
import { connectionOption, reportingOptions } from '../options.js';
import { planningProgress } from '../progress.js';
import { connectionPlanCounts, planEvents, planSummaryText, planWarnings, writeOperations } from '../output.js';
import { reportRun } from '../run-report.js';
import { startSummary } from '../run-summary.js';

export interface PlanCommandOptions {
  profile: string;
  snapshot: string;
  state?: string;
  out?: string;
  quiet?: boolean;
  connection?: string[];
  logFormat?: LogFormat;
  summaryJson?: string;
}

export async function runPlan(o: PlanCommandOptions): Promise<number> {
  const summary = startSummary('plan');
  const log = createRunLog({ runId: summary.runId, format: o.logFormat, quiet: o.quiet });
  return reportRun(o, summary, log, async () => {
    const only = checkConnectionKeys(o.connection);
    const ctx = openContext(o);
    try {
      summary.profile = ctx.profile.def.name;
      const refs = new Map(selectConnections(ctx.snapshot, ctx.profile, only).map((c) => [connectionKey(c), connectionRef(c, connectionKey(c))]));
      const plan = await buildPlan({
        profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, onlyConnections: only,
        onProgress: o.quiet || log.format === 'json' ? undefined : planningProgress(),
      });
      await writeOperations(plan.operations, o.out);
      if (log.format === 'text') {
        log.event('info', 'plan', {}, planSummaryText(plan));
        planWarnings(plan, log);
      } else planEvents(plan, log);
      for (const c of plan.connections) {
        summary.connections.push({
          connection: c.connection, districtNumber: refs.get(c.connection)?.districtNumber ?? null, schoolYear: c.endYear, exitCode: EXIT.ok, exitReason: 'ok', counts: connectionPlanCounts(plan, c.connection),
        });
      }
      return EXIT.ok;
    } finally {
      ctx.close();
    }
  });
}

export function registerPlan(program: Command): void {
  const cmd = program
    .command('plan')
    .description('Evaluate the rules on a snapshot and write the Ed-Fi operations (JSON Lines) without sending anything')
    .requiredOption('--profile <name|path>', "state profile: a name under profiles/ (e.g. 'core') or a path to a profile.yaml")
    .requiredOption('--snapshot <file>', 'Campus snapshot (SQLite)')
    .option('--state <file>', 'state file (identity mapping of what was sent); without it the plan is a first-time send')
    .option('--out <file>', 'write the operations here instead of stdout')
    .option('--quiet', 'no summary on stderr');
  connectionOption(cmd);
  reportingOptions(cmd)
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .action(async (o: PlanCommandOptions) => {
      process.exitCode = await runPlan(o);
    });
}
