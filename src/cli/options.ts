import { InvalidArgumentError, type Command } from 'commander';
import { API_FLAVORS, parseApiFlavor } from '../api/flavor.js';
import { isLogFormat, type LogFormat } from '../log/run-log.js';

// The options every sending command shares, declared once so their names and help read the same everywhere.

function positiveInt(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1.`);
    return Number(v);
  };
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number of 0 or more.`);
    return Number(v);
  };
}

function share(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x <= 0 || x > 1) throw new InvalidArgumentError('a share above 0 and at most 1, e.g. 0.1 for 10%.');
  return x;
}

function logFormat(v: string): LogFormat {
  if (!isLogFormat(v)) throw new InvalidArgumentError("text (for people) or json (one JSON object per line, for log collectors).");
  return v;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export const CONNECTION_HELP = "only this connection 'districtID:endYear' (repeatable), as `edfi-sync connections` lists them";
export const TARGETS_HELP = 'targets file (YAML): each connection\'s API root, flavor and where its key and secret come from (instead of --api-base)';

/** --connection (repeatable). */
export function connectionOption(cmd: Command, help = CONNECTION_HELP): Command {
  return cmd.option('--connection <key>', help, collect);
}

/** How a run reports to a scheduler: --log-format, --summary-json. */
export function reportingOptions(cmd: Command): Command {
  return cmd
    .option('--log-format <format>', 'text (for people) or json (one JSON object per line on stderr: time, level, runId, connection, event, counts)', logFormat, 'text')
    .option('--summary-json <file>', "write the run's counts per connection, exit code and reason, and run id to this file (also when the run fails)");
}

export function runOptions(cmd: Command, apiRequired: boolean): Command {
  cmd
    .requiredOption('--profile <name|path>', "state profile: a name under profiles/ (e.g. 'core') or a path to a profile.yaml")
    .requiredOption('--snapshot <file>', 'Campus snapshot (SQLite)')
    .requiredOption('--state <file>', "state file: identity mapping, error log, run history (created if missing); '/state/{connection}.sqlite': one file per connection")
    .option('--api-base <url>', `${API_BASE_HELP}${apiRequired ? ' (or --targets)' : ''}`)
    .option('--targets <file>', TARGETS_HELP);
  connectionOption(cmd);
  cmd.option('--shard <index/count>', 'only the connections of this shard (e.g. $(JOB_COMPLETION_INDEX)/8 in a Kubernetes Indexed Job); connections of one ODS instance are always in the same shard');
  apiOptions(cmd)
    .option('--concurrency <n>', 'requests in flight', positiveInt('--concurrency'), 8)
    .option('--credentials-file <file>', 'with --api-base: file with EDFI_CLIENT_ID= and EDFI_CLIENT_SECRET= lines (keep it outside the profiles)')
    .option('--held-back-ok', 'exit 0 instead of 7 when the only problems are records held back by known data problems');
  return reportingOptions(cmd);
}


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
    .option('--max-delete-share <x>', "safety limit: share of a connection's mapped records one run may delete (default 0.10)", share)
    .option('--max-delete-count <n>', 'safety limit: deletes always allowed per connection (default 5)', nonNegativeInt('--max-delete-count'));
}
