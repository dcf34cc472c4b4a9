import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { repoPath } from '../util/repo-root.js';
import { errorText, exitCodeOf } from './cli-error.js';
import { EXIT, EXIT_CODES_HELP, exitName } from './exit-codes.js';

type Register = (program: Command) => void;

/** A command as the top-level help lists it; its module (and everything that module imports) loads only when it runs. */
export interface CommandEntry {
  name: string;
  /** The arguments after the name, for the listing. */
  args?: string;
  description: string;
  load: () => Promise<Register>;
}

// Loading every command eagerly imported the planner, the rule engine, JSONata, ajv and the HTTP client before
// `--help` could answer (about 400 ms). The descriptions are repeated here; a test keeps them equal to the modules'.
export const COMMANDS: CommandEntry[] = [
  { name: 'generate', description: 'Write a synthetic Campus snapshot (seeded: the same seed gives the same data)', load: async () => (await import('./commands/generate.js')).registerGenerate },
  { name: 'plan', description: 'Evaluate the rules on a snapshot and write the Ed-Fi operations (JSON Lines) without sending anything', load: async () => (await import('./commands/plan.js')).registerPlan },
  { name: 'sync', description: 'Plan and send: bring the Ed-Fi ODS in step with the snapshot (the scheduled job). Key and secret from EDFI_CLIENT_ID / EDFI_CLIENT_SECRET, or per connection from --targets.', load: async () => (await import('./commands/sync.js')).registerSync },
  { name: 'connections', description: 'List the connections (district and school year) of a snapshot that a scheduler maps over, one job each with --connection KEY', load: async () => (await import('./commands/connections.js')).registerConnections },
  { name: 'errors', description: "Print the error log's open problems: one entry per record and problem with first and last seen, count, the API's message and the spec's cause and fix", load: async () => (await import('./commands/errors.js')).registerErrors },
  { name: 'validate', description: 'Check profile, rule, mapping, error-catalogue, descriptor, fixture-base and fixture files: schema, SQL, JSONata, facts, operators, ids; warn about TODO markers and missing editor schema lines', load: async () => (await import('./commands/validate.js')).registerValidate },
  { name: 'test', description: "Run each profile's fixture snapshots, compare the plans with the expected operations, and report coverage of rules, fields and checks", load: async () => (await import('./commands/test.js')).registerTest },
  { name: 'explain', description: 'For one student (or every record of a fixture): every candidate record, every rule with the values it compared, the body field by field, and the operation', load: async () => (await import('./commands/explain.js')).registerExplain },
  { name: 'identity', description: 'The Ed-Fi Identity Mapping Report: every record sent, its Ed-Fi id and last outcome', load: async () => (await import('./commands/identity.js')).registerIdentity },
  { name: 'resync', description: 'Reconcile the ODS, the identity mapping and the snapshot (after mapping changes, a lost state file, or ODS edits)', load: async () => (await import('./commands/resync.js')).registerResync },
  { name: 'retry', description: 'Re-send the records whose last send failed', load: async () => (await import('./commands/retry.js')).registerRetry },
  { name: 'delete', description: 'Delete records from the ODS (and the identity mapping) by Ed-Fi id, source key or student', load: async () => (await import('./commands/delete.js')).registerDelete },
  { name: 'unlock', description: 'End the locks a run left when it stopped without finishing (its container removed, its pod evicted on another host)', load: async () => (await import('./commands/unlock.js')).registerUnlock },
  { name: 'init-profile', args: '<name>', description: 'Start a new state profile by copying an existing one (profile folder, rules, mappings, fixtures)', load: async () => (await import('./commands/init-profile.js')).registerInitProfile },
  { name: 'docs', description: 'Write the side-by-side table of the profiles (rule ids, spec text, decisions) as Markdown', load: async () => (await import('./commands/docs.js')).registerDocs },
  { name: 'report', description: 'Write one self-contained HTML page for a run: counts, chart, error log with fixes, excluded records', load: async () => (await import('./commands/report.js')).registerReport },
  { name: 'test-server', description: 'Run the local Ed-Fi API test server (a double of an ODS/API 6.x, an ODS/API 7.x or the Ed-Fi API v8 / DMS, for tests and demos; never a place to keep data)', load: async () => (await import('./commands/test-server.js')).registerTestServer },
  { name: 'demo', description: 'Run the sync on the bundled demo snapshot against a local Ed-Fi test server (no set-up needed)', load: async () => (await import('./commands/demo.js')).registerDemo },
];

/** The command a command line runs: its first word that names one. */
function invoked(argv: string[]): CommandEntry | undefined {
  const words = argv.slice(2);
  const first = words.find((w) => !w.startsWith('-'));
  // `edfi-sync help sync` shows the help of sync.
  const name = first === 'help' ? words[words.indexOf('help') + 1] : first;
  return COMMANDS.find((c) => c.name === name);
}

/**
 * The program with the invoked command fully declared and every other one only named (enough for the listing).
 * `all` declares every command (tests of the options of every command).
 */
export async function buildProgram(argv: string[] = process.argv, all = false): Promise<Command> {
  const program = new Command();
  const run = invoked(argv);
  program
    .name('edfi-sync')
    .description('Keeps an Ed-Fi ODS/API in step with a Campus snapshot, driven by rule files (profiles/, rules/, mappings/).')
    .version(packageVersion(), '--version', 'the version of edfi-sync (for a job log)')
    // The error and where the options are, not eighty lines of help after every mistyped option.
    .showHelpAfterError(`(see: edfi-sync ${run ? `${run.name} ` : ''}--help)`)
    .exitOverride()
    .addHelpText('after', `\n${EXIT_CODES_HELP}`);
  for (const c of COMMANDS) {
    if (all || c === run) (await c.load())(program);
    else program.command(c.args ? `${c.name} ${c.args}` : c.name).description(c.description);
  }
  return program;
}

/** A value given on the command line, read before commander parses it (for failures commander itself reports). */
function optionValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i]!.startsWith(`${name}=`)) return argv[i]!.slice(name.length + 1);
  }
  return undefined;
}

/** `plan | head`: the reader went away. That is the reader's choice, not an error of ours. */
function endQuietlyOnBrokenPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
}

/** Runs the command line; every known failure becomes a clear message and a documented exit code. */
export async function main(argv: string[]): Promise<void> {
  endQuietlyOnBrokenPipe();
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
  } catch (err) {
    const code = exitCodeOf(err);
    const { reportedErrors } = await import('./run-report.js');
    const alreadyReported = err !== null && typeof err === 'object' && reportedErrors.has(err);
    if (err instanceof CommanderError) {
      // Commander printed the problem (or the help); a usage failure still owes the scheduler its summary file.
      const file = optionValue(argv, '--summary-json');
      if (code !== EXIT.ok && file) {
        const { finishSummary, startSummary, writeSummaryJson } = await import('./run-summary.js');
        writeSummaryJson(file, finishSummary(startSummary(invoked(argv)?.name ?? 'edfi-sync'), code, (err as Error).message));
      }
    } else if (!alreadyReported) {
      if (optionValue(argv, '--log-format') === 'json') {
        process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'run-end', exitCode: code, exitReason: exitName(code), msg: errorText(err) }) + '\n');
      } else {
        process.stderr.write(`${errorText(err)}\n`);
      }
    }
    if (code === EXIT.internal && process.env.EDFI_SYNC_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = code;
  }
}

/** The version in package.json (a small file read at start). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
