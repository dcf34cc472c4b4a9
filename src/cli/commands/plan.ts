import type { Command } from 'commander';
import { instanceFromDataPath } from '../../plan/plan-options.js';
import { planRun } from '../../plan/planner.js';
import { openContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
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
    .option('--data-path <path>', "data API path the records go to; '/data/v3/{endYear}' when each school year has its own ODS", '/data/v3')
    .action(async (o: { profile: string; snapshot: string; state?: string; out?: string; quiet?: boolean; dataPath: string }) => {
      const ctx = openContext(o);
      try {
        // Operations are written as JSON Lines straight from disk, in emit order: a plan of any size fits.
        const plan = await planRun({ profile: ctx.profile, snapshot: ctx.snapshot, state: ctx.state, instanceOf: instanceFromDataPath(o.dataPath), onProgress: o.quiet ? undefined : planningProgress() });
        try {
          await writeOperations(plan.operations(), o.out);
          if (!o.quiet) process.stderr.write(planSummaryText(plan) + '\n');
        } finally {
          plan.close();
        }
        process.exitCode = EXIT.ok;
      } finally {
        ctx.close();
      }
    });
}
