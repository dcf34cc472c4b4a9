import { Command, CommanderError } from 'commander';
import { SnapshotSchemaError } from '../snapshot/open.js';
import { ConfigError } from '../util/errors.js';
import { registerPlan } from './commands/plan.js';
import { registerGenerate } from './commands/generate.js';
import { registerValidate } from './commands/validate.js';
import { registerSync } from './commands/sync.js';
import { registerErrors } from './commands/errors.js';
import { registerTest } from './commands/test.js';
import { registerExplain } from './commands/explain.js';
import { registerTestServer } from './commands/test-server.js';
import { registerDemo } from './commands/demo.js';
import { registerIdentity } from './commands/identity.js';
import { registerResync } from './commands/resync.js';
import { registerDelete } from './commands/delete.js';
import { registerRetry } from './commands/retry.js';
import { registerInitProfile } from './commands/init-profile.js';
import { registerDocs } from './commands/docs.js';
import { registerReport } from './commands/report.js';
import { EXIT } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('edfi-sync')
    .description('Keeps an Ed-Fi ODS/API in step with a Campus snapshot, driven by rule files (profiles/, rules/, mappings/).')
    .showHelpAfterError()
    .exitOverride();
  registerGenerate(program);
  registerPlan(program);
  registerSync(program);
  registerErrors(program);
  registerValidate(program);
  registerTest(program);
  registerExplain(program);
  registerIdentity(program);
  registerResync(program);
  registerRetry(program);
  registerDelete(program);
  registerInitProfile(program);
  registerDocs(program);
  registerReport(program);
  registerTestServer(program);
  registerDemo(program);
  return program;
}

/** Runs the command line; every known failure becomes a clear message and a documented exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (err instanceof ConfigError) {
      process.stderr.write(`Invalid configuration (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n${err.message}\n`);
      process.exitCode = EXIT.config;
    } else if (err instanceof SnapshotSchemaError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = EXIT.input;
    } else {
      const e = err as Error & { exitCode?: number };
      process.stderr.write(`edfi-sync: ${e.message}\n`);
      process.exitCode = e.exitCode ?? EXIT.internal;
    }
  }
}
