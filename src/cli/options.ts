import type { Command } from 'commander';
import { API_FLAVORS, parseApiFlavor } from '../api/flavor.js';

// The options every sending command shares, declared once so their names and help read the same everywhere.

export function runOptions(cmd: Command, apiRequired: boolean): Command {
  cmd
    .requiredOption('--profile <name|path>', "state profile: a name under profiles/ (e.g. 'core') or a path to a profile.yaml")
    .requiredOption('--snapshot <file>', 'Campus snapshot (SQLite)')
    .requiredOption('--state <file>', 'state file: identity mapping, error log, run history (created if missing)');
  if (apiRequired) cmd.requiredOption('--api-base <url>', API_BASE_HELP);
  else cmd.option('--api-base <url>', API_BASE_HELP);
  return apiOptions(cmd)
    .option('--concurrency <n>', 'requests in flight', (v) => parseInt(v, 10), 8)
    .option('--credentials-file <file>', 'file with EDFI_CLIENT_ID= and EDFI_CLIENT_SECRET= lines (keep it outside the profiles)')
    .option('--workers <n>', WORKERS_HELP, (v) => parseInt(v, 10), 0);
}

/**
 * Measured on the 2-core reference machine (100,000 students, full plan): 0 workers 14.1 s, 1 worker 18.7 s,
 * 2 workers 14.6 s; copying facts and bodies to the threads costs about what the second core saves. So the
 * default is none; machines with more cores can try --workers.
 */
export const WORKERS_HELP = 'worker threads that evaluate large batches of changed records (default 0: all on the main thread)';

const API_BASE_HELP = "the Ed-Fi API's root URL (its root document names the token and data URLs), e.g. https://ods.example.org/api";

/** Where the API's data and token are, when its root document does not say it all. */
export function apiOptions(cmd: Command): Command {
  return cmd
    .option('--api-flavor <flavor>', `${API_FLAVORS.join(', ')}: the API generation, when its root document does not tell`, parseApiFlavor)
    .option('--data-path <path>', "override the data path the root document gives, e.g. '/data/v3/{endYear}' (year-specific instances)")
    .option('--route-context <name=value...>', "a value for a placeholder of the API's URLs, e.g. tenantIdentifier=north or districtId={districtNumber} (a connection fact)", collectRouteContext);
}

function collectRouteContext(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(value.trim());
  if (!m) throw Object.assign(new Error(`--route-context takes name=value (got '${value}')`), { exitCode: 2 });
  return { ...previous, [m[1] as string]: m[2] as string };
}

export function deleteGuardOptions(cmd: Command): Command {
  return cmd
    .option('--allow-mass-delete', 'allow more deletes than the safety limit')
    .option('--max-delete-share <x>', "safety limit: share of a connection's mapped records one run may delete (default 0.10)", parseFloat)
    .option('--max-delete-count <n>', 'safety limit: deletes always allowed (default 500)', (v) => parseInt(v, 10));
}
