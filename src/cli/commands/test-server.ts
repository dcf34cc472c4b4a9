import type { Command } from 'commander';
import { API_FLAVORS, parseApiFlavor, type ApiFlavor } from '../../api/flavor.js';
import { buildPlan } from '../../plan/planner.js';
import { profileDescriptors } from '../../profile/descriptor-lists.js';
import { loadProfile } from '../../profile/load-profile.js';
import { openSnapshot } from '../../snapshot/open.js';
import { emptyState } from '../../state/state-db.js';
import { preloadReferences, startTestServer, type TestServer } from '../../testserver/server.js';
import { listProfiles } from './validate.js';

/**
 * Gives a fresh test server what an ODS would already hold before this resource is sent: the LEAs, students
 * and programs the snapshot's records reference, and each profile's own descriptor lists. Each connection's
 * records go to the instance its school year routes to (or to `dataPath`, with {endYear}, when given).
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
        const plan = await buildPlan({ profile, snapshot, state });
        // Each connection's records go to its own ODS instance when the data path names the school year.
        const byPrefix = new Map<string, object[]>();
        for (const op of plan.operations) {
          if (!op.body) continue;
          const year = op.connection.split(':')[1] ?? '';
          const prefix = dataPath !== undefined ? dataPath.replace('{endYear}', year) : server.instancePrefix(Number(year));
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

export function registerTestServer(program: Command): void {
  program
    .command('test-server')
    .description('Run the local Ed-Fi API test server (a double of an ODS/API 6.x, an ODS/API 7.x or the Ed-Fi API v8 / DMS, for tests and demos; never a place to keep data)')
    .option('--flavor <flavor>', `API generation to play: ${API_FLAVORS.join(', ')} (ODS/API 5.x/6.x with Data Standard 4.0, ODS/API 7.x, Ed-Fi API v8 / DMS with Data Standard 5.2)`, parseApiFlavor, 'ods-6' as ApiFlavor)
    .option('--year-specific', 'ods-6: answer the root document as a Year Specific ODS/API (data URL of the current year)')
    .option('--port <n>', 'port (0 picks a free one)', (v) => parseInt(v, 10), 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--preload <snapshot>', "create the LEAs, students and programs the snapshot's records reference")
    .option('--data-path <path>', "with --preload: where the records will be sent ('/data/v3/{endYear}' preloads one instance per school year); default: where the root document routes each school year")
    .option('--profile <name>', 'profile(s) used to read the snapshot for --preload (default: all)')
    .option('--unresolved-reference-status <code>', '400 or 409 (ODS/API 6.x answers 409)', (v) => parseInt(v, 10), 409)
    .action(async (o: { flavor: ApiFlavor; yearSpecific?: boolean; port: number; host: string; preload?: string; dataPath?: string; profile?: string; unresolvedReferenceStatus: number }) => {
      // The double's own demo credentials; overridable so a test can use others. Never printed.
      const server = await startTestServer({
        flavor: o.flavor,
        yearSpecific: o.yearSpecific,
        port: o.port,
        host: o.host,
        clientId: process.env.EDFI_CLIENT_ID ?? 'demo-key',
        clientSecret: process.env.EDFI_CLIENT_SECRET ?? 'demo-secret',
        unresolvedReferenceStatus: o.unresolvedReferenceStatus === 400 ? 400 : 409,
      });
      if (o.preload) {
        const r = await preloadFromSnapshot(server, o.preload, o.profile ? [o.profile] : listProfiles(), o.dataPath);
        process.stderr.write(`preloaded ${r.references} LEA/student/program record(s) from ${o.preload}${r.skipped.length ? `; ${r.skipped.length} skipped` : ''}\n`);
      }
      process.stdout.write(`Ed-Fi test server (${o.flavor}) listening on ${server.url}\n`);
      const stop = (): void => {
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
