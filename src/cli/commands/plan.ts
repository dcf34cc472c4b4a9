import type { Command } from 'commander';
import { buildPlan } from '../../plan/planner.js';
import { openContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { WORKERS_HELP } from '../options.js';
import { planningProgress } from '../progress.js';
import { planSummaryText, writeOperations } from '../output.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('Evaluate the rules on a snapshot and write the Ed-Fi operations (JSON Lines) without sending anything')
    .requiredOption('--profile <name|path>', "state profile: a name under profiles/ (e.g. 'core') or a path to a profile.yaml")
    .requiredOption('--snapshot <file>', 'Campus snapshot (SQLite)')
    .option('--state <file>', 'state file (identity mapping of what was sent); without it the plan is a first-time send')
    .option('--out <file>', 'write the operations here instead of stdout')
    .option('--quiet', 'no summary on stderr')
    .option('--workers <n>', WORKERS_HELP, (v) => parseInt(v, 10), 0)
    .action(async (o: { profile: string; snapshot: string; state?: string; out?: string; quiet?: boolean; workers?: number }) => {
      const ctx = openContext(o);
      try {
        const plan = await buildPlan({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, workers: o.workers ?? 0, onProgress: o.quiet ? undefined : planningProgress() });
        await writeOperations(plan.operations, o.out);
        if (!o.quiet) process.stderr.write(planSummaryText(plan) + '\n');
        process.exitCode = EXIT.ok;
      } finally {
        ctx.close();
      }
    });
}
