import { mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { flavorForDataStandard } from '../../api/data-standard.js';
import type { ApiFlavor } from '../../api/flavor.js';
import { loadProfile } from '../../profile/load-profile.js';
import { startTestServer, type TestServer } from '../../testserver/server.js';
import { repoPath } from '../../util/repo-root.js';
import { EXIT } from '../exit-codes.js';
import { runSync } from './sync.js';
import { preloadFromSnapshot } from './test-server.js';
import { listProfiles } from './validate.js';

/**
 * The embedded default: the bundled demo snapshot sent to a local Ed-Fi test server, twice (the second run
 * shows that an unchanged snapshot sends nothing). Each profile goes to a server of the generation its Data
 * Standard fits: an ODS/API 6.x in Year Specific mode for Data Standard 4.0, an ODS/API 7.x (school year in the
 * route) for 5.x; both keep one database per school year, as most districts run them. Nothing outside --out-dir
 * is written.
 */

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the sync on the bundled demo snapshot against a local Ed-Fi test server (no set-up needed)')
    .option('--snapshot <file>', 'snapshot to use', repoPath('demo', 'demo-snapshot.sqlite'))
    .option('--profile <name>', 'one profile (default: every profile)')
    .option('--out-dir <dir>', 'where the state files go', 'demo-output')
    .action(async (o: { snapshot: string; profile?: string; outDir: string }) => {
      const profiles = o.profile ? [o.profile] : listProfiles();
      rmSync(o.outDir, { recursive: true, force: true });
      mkdirSync(o.outDir, { recursive: true });
      process.env.EDFI_CLIENT_ID = 'demo-key';
      process.env.EDFI_CLIENT_SECRET = 'demo-secret';
      const servers = new Map<ApiFlavor, TestServer>();
      let code: number = EXIT.ok;
      try {
        for (const profile of profiles) {
          const flavor: ApiFlavor = flavorForDataStandard(loadProfile(profile).def.dataStandard);
          let server = servers.get(flavor);
          if (!server) {
            server = await startTestServer({ flavor, yearSpecific: true, clientId: 'demo-key', clientSecret: 'demo-secret' });
            servers.set(flavor, server);
            process.stderr.write(`Local Ed-Fi test server (${flavor}) on ${server.url} (a test double, not an ODS)\n`);
          }
          const pre = await preloadFromSnapshot(server, o.snapshot, [profile]);
          process.stderr.write(`Preloaded ${pre.references} LEA/student/program record(s) the ${profile} records reference\n`);
          const state = join(o.outDir, `${profile}.state.sqlite`);
          for (const night of [1, 2]) {
            process.stderr.write(`\n=== ${profile}: run ${night} ${night === 2 ? '(same snapshot again: nothing should change)' : ''}\n`);
            const c = await runSync({ profile, snapshot: o.snapshot, state, apiBase: server.url, concurrency: 8 });
            if (c === EXIT.unreachable || c === EXIT.refused) code = c;
          }
          process.stderr.write(`State file: ${relative(process.cwd(), state)}  (try: npx edfi-sync errors --state ${relative(process.cwd(), state)})\n`);
        }
        for (const [flavor, server] of servers) {
          for (const year of [2025, 2026]) {
            const store = server.instanceFor(year);
            const counts = ['localEducationAgencies', 'students', 'programs', 'studentCTEProgramAssociations'].map((r) => `${r} ${store.count(r as Parameters<typeof store.count>[0])}`);
            process.stderr.write(`\nThe ${flavor} test server's ${year} instance now holds: ${counts.join(', ')}`);
          }
        }
        process.stderr.write('\n');
      } finally {
        for (const server of servers.values()) await server.close();
      }
      process.exitCode = code;
    });
}
