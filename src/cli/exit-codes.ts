/** Exit codes of every command, documented in the README and in `--help`: a scheduler acts on them. */
export const EXIT = {
  /** Everything the snapshot wants is in the ODS (or the dry run / plan completed). */
  ok: 0,
  /** Completed, but some operations failed at the API (details in the error log); `test`: fixtures failed. */
  apiFailed: 1,
  /** Bad command line or option value. */
  usage: 2,
  /** An analyst file (profile, rule, mapping, fixture, targets) is invalid, or the profile does not fit the API. */
  config: 3,
  /** The snapshot or the state file cannot be read or fails the schema and value checks. */
  input: 4,
  /** A safety rail refused: the mass-delete guard, or another run holds the lock. */
  refused: 5,
  /** The Ed-Fi API could not be reached or refused the credentials. */
  unreachable: 6,
  /** Completed: nothing failed at the API, but records were held back by data problems (in the error log). */
  heldBack: 7,
  /** Stopped by SIGINT (Ctrl-C): requests in flight finished and written down; run again. */
  interrupted: 130,
  /** Stopped by SIGTERM (a scheduler's timeout or shutdown): requests in flight finished and written down; run again. */
  stopped: 143,
  internal: 70,
} as const;

export type ExitName = keyof typeof EXIT;
export type ExitCode = (typeof EXIT)[ExitName];

const NAMES = new Map<number, ExitName>(Object.entries(EXIT).map(([k, v]) => [v, k as ExitName]));

/** The name of an exit code ("heldBack"), as --summary-json and the JSON log give it. */
export function exitName(code: number): ExitName {
  return NAMES.get(code) ?? 'internal';
}

// Which code a run of several connections ends with: the one a scheduler must act on first.
const SEVERITY: ExitName[] = ['ok', 'heldBack', 'apiFailed', 'refused', 'unreachable', 'input', 'config', 'usage', 'interrupted', 'stopped', 'internal'];

export function mostSevere(codes: Iterable<number>): number {
  let worst: number = EXIT.ok;
  for (const c of codes) if (SEVERITY.indexOf(exitName(c)) > SEVERITY.indexOf(exitName(worst))) worst = c;
  return worst;
}

/** The table printed by `--help`. */
export const EXIT_CODES_HELP = `Exit codes:
  0   ok           everything the snapshot wants is in the ODS (or the plan / dry run completed)
  1   apiFailed    completed; some operations failed at the API (see \`edfi-sync errors\`); \`test\`: fixtures failed
  2   usage        bad command line or option value
  3   config       invalid profile, rule, mapping or targets file, or missing credentials for a connection
  4   input        snapshot or state file unreadable, corrupt, or failing the schema and value checks
  5   refused      a safety rail refused: mass-delete guard, or another run holds a connection's lock
  6   unreachable  the Ed-Fi API could not be reached, or it refused the key and secret
  7   heldBack     completed; nothing failed at the API, but records were held back by known data problems
                   (in the error log); --held-back-ok makes such a run exit 0
  70  internal     a bug
  130 interrupted  stopped by SIGINT (Ctrl-C); 143 stopped: by SIGTERM (a scheduler's timeout). No new request
                   was started, the ones in flight were written down, the lock released: run again
A run of several connections exits with the most urgent code among them (internal, stopped, interrupted, usage,
config, input, unreachable, refused, apiFailed, heldBack, ok); --summary-json gives each connection's own.`;
