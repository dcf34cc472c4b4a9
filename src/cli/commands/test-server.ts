import type { Command } from 'commander';
import { API_FLAVORS, parseApiFlavor, type ApiFlavor } from '../../api/flavor.js';
import { buildPlan } from '../../plan/planner.js';
import type { Connection } from '../../types.js';
import { profileDescriptors } from '../../profile/descriptor-lists.js';
import { loadProfile } from '../../profile/load-profile.js';
import { openSnapshot } from '../../snapshot/open.js';
import { emptyState } from '../../state/state-db.js';
import { preloadReferences, startTestServer, type TestServer } from '../../testserver/server.js';
import { errorText, exitCodeOf, usageError } from '../cli-error.js';
import { listProfiles } from './validate.js';

/**
 * Gives a fresh test server what an ODS would already hold before this resource is sent: the LEAs, students
 * and programs the snapshot's records reference, and each profile's own descriptor lists. Each connection's
 * records go to the instance its school year routes to (or to `dataPath`, with {endYear}, when given). Records
 * already there are kept, so a later snapshot adds only the students and programs that first appear in it.
 */
export async function preloadFromSnapshot(
  server: TestServer,
  snapshotFile: string,
  profiles: string[],
  dataPath?: string,
): Promise<{ references: number; skipped: string[] }> {
  const snapshot = openSnapshot(snapshotFile);
  let references = 0;
  const skipped: string[] = [];
  try {
    for (const name of profiles) {
      const profile = loadProfile(name);
      const descriptors = profileDescriptors(profile);
      const state = emptyState();
      try {
        // Planned with the instances the records go to, so a record two school years share is preloaded in each.
        const instanceOf = (c: Connection): string => (dataPath !== undefined ? dataPath.replace(/\{(endYear|schoolYear)\}/g, String(c.endYear)) : server.instancePrefix(c.endYear));
        const plan = await buildPlan({ profile, snapshot, state, instanceOf });
        // Each connection's records go to its own ODS instance when the data path names the school year.
        const byPrefix = new Map<string, object[]>();
        for (const op of plan.operations) {
          if (!op.body) continue;
          const year = op.connection.split(':')[1] ?? '';
          const prefix = dataPath !== undefined ? dataPath.replace(/\{(endYear|schoolYear)\}/g, year) : server.instancePrefix(Number(year));
          byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), op.body]);
        }
        for (const [prefix, bodies] of byPrefix) {
          const store = server.instance(prefix);
          for (const [descriptor, uris] of descriptors) store.addDescriptors(descriptor, uris);
          const s = preloadReferences({ store }, bodies);
          references += s.localEducationAgencies + s.students + s.programs;
          skipped.push(...s.skipped);
        }
      } finally {
        state.close();
      }
    }
  } finally {
    snapshot.close();
  }
  return { references, skipped };
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** --port: a whole number from 0 (a free port) to 65535; anything else is a usage error, not a crash. */
function parsePort(v: string): number {
  const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n > 65535) throw usageError(`--port must be a whole number from 0 (a free port) to 65535 (got '${v}')`);
  return n;
}

/** --unresolved-reference-status: the two answers Ed-Fi APIs give. */
function parseUnresolvedStatus(v: string): number {
  if (v.trim() !== '400' && v.trim() !== '409') throw usageError(`--unresolved-reference-status must be 400 or 409 (got '${v}')`);
  return Number(v);
}

interface TestServerOptions {
  flavor: ApiFlavor;
  yearSpecific?: boolean;
  port: number;
  host: string;
  preload?: string[];
  dataPath?: string;
  profile?: string;
  unresolvedReferenceStatus: number;
}

export function registerTestServer(program: Command): void {
  program
    .command('test-server')
    .description('Run the local Ed-Fi API test server (a double of an ODS/API 6.x, an ODS/API 7.x or the Ed-Fi API v8 / DMS, for tests and demos; never a place to keep data)')
    .option('--flavor <flavor>', `API generation to play: ${API_FLAVORS.join(', ')} (ODS/API 5.x/6.x with Data Standard 4.0, ODS/API 7.x, Ed-Fi API v8 / DMS with Data Standard 5.2)`, parseApiFlavor, 'ods-6' as ApiFlavor)
    .option('--year-specific', 'ods-6: answer the root document as a Year Specific ODS/API (data URL of the current year)')
    .option('--port <n>', 'port (0 picks a free one)', parsePort, 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--preload <snapshot>', "create the LEAs, students and programs the snapshot's records reference (repeatable: later snapshots add what first appears in them)", collect)
    .option('--data-path <path>', "with --preload: where the records will be sent ('/data/v3/{endYear}' preloads one instance per school year); default: where the root document routes each school year")
    .option('--profile <name>', 'profile(s) used to read the snapshot for --preload (default: all)')
    .option('--unresolved-reference-status <code>', '400 or 409 (ODS/API 6.x answers 409)', parseUnresolvedStatus, 409)
    .action(async (o: TestServerOptions) => {
      // The double's own demo credentials, or the ones in EDFI_CLIENT_ID / EDFI_CLIENT_SECRET. A test double's
      // key is printed so that a person can point a sync at it; it guards no data.
      const clientId = process.env.EDFI_CLIENT_ID ?? 'demo-key';
      const clientSecret = process.env.EDFI_CLIENT_SECRET ?? 'demo-secret';
      let server: TestServer;
      try {
        server = await startTestServer({
          flavor: o.flavor,
          yearSpecific: o.yearSpecific,
          port: o.port,
          host: o.host,
          clientId,
          clientSecret,
          unresolvedReferenceStatus: o.unresolvedReferenceStatus === 400 ? 400 : 409,
        });
      } catch (err) {
        // The address is the operator's choice: taken or not ours to listen on is a usage problem, not a bug.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw usageError(`port ${o.port} on ${o.host} is in use: give another --port, or --port 0 for a free one`);
        if (code === 'EADDRNOTAVAIL' || code === 'EACCES' || code === 'ENOTFOUND') throw usageError(`cannot listen on ${o.host}:${o.port} (${code}): give another --host or --port`);
        throw err;
      }
      try {
        for (const snapshot of o.preload ?? []) {
          const r = await preloadFromSnapshot(server, snapshot, o.profile ? [o.profile] : listProfiles(), o.dataPath);
          process.stderr.write(`preloaded ${r.references} LEA/student/program record(s) from ${snapshot}${r.skipped.length ? `; ${r.skipped.length} skipped` : ''}\n`);
        }
      } catch (err) {
        // Without its preload the server is not what the caller asked for: stop instead of serving an empty ODS.
        await server.close();
        process.stderr.write(`test-server: --preload failed, not started.\n${errorText(err)}\n`);
        process.exitCode = exitCodeOf(err);
        return;
      }
      process.stdout.write(`Ed-Fi test server (${o.flavor}) listening on ${server.url}\n`);
      // The built-in demo secret is printed; one taken from the environment is named, not shown (logs keep no secret).
      const secretText = process.env.EDFI_CLIENT_SECRET === undefined ? `secret ${clientSecret}` : 'the secret in EDFI_CLIENT_SECRET';
      process.stdout.write(`accepts key ${clientId} and ${secretText} (a test double: never give it real credentials)\n`);
      const stop = (): void => {
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
