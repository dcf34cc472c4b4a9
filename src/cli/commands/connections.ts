import type { Command } from 'commander';
import { loadProfile } from '../../profile/load-profile.js';
import { connectionKey } from '../../snapshot/connections.js';
import { openSnapshot } from '../../snapshot/open.js';
import { describeSource, connectionRef } from '../../targets/types.js';
import { instanceOf } from '../../targets/targets.js';
import { checkConnectionKeys, selectConnections, targetsOf } from '../connection-select.js';
import { EXIT_CODES_HELP } from '../exit-codes.js';
import { TARGETS_HELP } from '../options.js';


/** One connection as a scheduler maps over it: what to pass as --connection, and where it sends (no secrets). */
export interface ConnectionListing {
  key: string;
  districtID: number;
  districtNumber: number | null;
  schoolYear: number;
  configID: number;
  profile: string;
  /** The profile's resource is toggled on for this connection (a toggled-off connection sends nothing). */
  enabled: boolean;
  /**
   * `instance`: the ODS instance when the target names its data path; without one the API's root document gives the
   * data URL (an ODS/API 7.x or a DMS routes each school year to its own), which listing does not read.
   */
  target?: { apiRoot: string; dataPath?: string; flavor?: string; routeContext?: Record<string, string>; instance?: string; credentialsFrom: string; definedAt: string };
  /** Why the connection has no target (a targets file that does not cover it). */
  targetProblem?: string;
}

export function listConnections(o: { profile: string; snapshot: string; targets?: string; apiBase?: string; dataPath?: string; credentialsFile?: string; connection?: string[] }): ConnectionListing[] {
  const profile = loadProfile(o.profile);
  const targets = targetsOf(o);
  const snapshot = openSnapshot(o.snapshot);
  try {
    return selectConnections(snapshot, profile, checkConnectionKeys(o.connection)).map((c) => {
      const key = connectionKey(c);
      const ref = connectionRef(c, key);
      const out: ConnectionListing = {
        key, districtID: c.districtID, districtNumber: ref.districtNumber, schoolYear: c.endYear, configID: c.configID, profile: c.profile, enabled: c.resourceEnabled,
      };
      if (targets) {
        try {
          const t = targets.specFor(ref);
          out.target = {
            apiRoot: t.apiRoot, ...(t.dataPath ? { dataPath: t.dataPath } : {}), ...(t.flavor ? { flavor: t.flavor } : {}),
            ...(t.routeContext ? { routeContext: t.routeContext } : {}),
            ...(t.dataPath ? { instance: instanceOf(t) } : {}), credentialsFrom: describeSource(t.credentials), definedAt: t.definedAt,
          };
        } catch (err) {
          out.targetProblem = (err as Error).message;
        }
      }
      return out;
    });
  } finally {
    snapshot.close();
  }
}

function asText(rows: ConnectionListing[]): string {
  if (rows.length === 0) return 'No Ed-Fi connection in the snapshot uses this profile (a disabled Ed-Fi configuration is not a connection: enable it in Campus to send it).';
  const lines = rows.map((r) => {
    const t = r.target;
    const api = t ? `${t.instance ?? `${t.apiRoot} (data URL from its root document)`}${t.flavor ? ` [${t.flavor}]` : ''}` : '';
    const where = t ? `${api}  key and secret from ${t.credentialsFrom}` : r.targetProblem ? `NO TARGET: ${r.targetProblem}` : '';
    return `${r.key.padEnd(12)} district ${String(r.districtNumber ?? '?').padEnd(9)} school year ${r.schoolYear}  ${r.enabled ? 'on ' : 'off'}  ${where}`.trimEnd();
  });
  return `${lines.join('\n')}\n${rows.length} connection(s)`;
}

export function registerConnections(program: Command): void {
  program
    .command('connections')
    .description('List the connections (district and school year) of a snapshot that a scheduler maps over, one job each with --connection KEY')
    .requiredOption('--profile <name|path>', "state profile: a name under profiles/ (e.g. 'core') or a path to a profile.yaml")
    .requiredOption('--snapshot <file>', 'Campus snapshot (SQLite)')
    .option('--targets <file>', TARGETS_HELP)
    .option('--api-base <url>', 'Ed-Fi ODS/API root, when every connection sends to one API')
    .option('--data-path <path>', "with --api-base: data API path ('/data/v3/{endYear}' for year-specific instances); without it the API's root document gives it")
    .option('--format <format>', 'text, or json (an array, for a scheduler to map over)', 'text')
    .option('--enabled-only', 'only connections whose resource is toggled on')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .action((o: { profile: string; snapshot: string; targets?: string; apiBase?: string; dataPath?: string; format: string; enabledOnly?: boolean }) => {
      const rows = listConnections(o).filter((r) => !o.enabledOnly || r.enabled);
      process.stdout.write(o.format === 'json' ? JSON.stringify(rows, null, 2) + '\n' : asText(rows) + '\n');
    });
}
