import { mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { startTestServer } from '../../testserver/server.js';
import { repoPath } from '../../util/repo-root.js';
import { EXIT } from '../exit-codes.js';
import { runSync } from './sync.js';
import { preloadFromSnapshot } from './test-server.js';
import { listProfiles } from './validate.js';

/**
 * The embedded default: the bundled demo snapshot sent to a local Ed-Fi test server, twice (the second run
 * shows that an unchanged snapshot sends nothing). Nothing outside --out-dir is written.
 */
/** Year-specific ODS instances, as most districts run them: one database per school year. */
const DATA_PATH = '/data/v3/{endYear}';

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
      const server = await startTestServer({ clientId: 'demo-key', clientSecret: 'demo-secret' });
      let code: number = EXIT.ok;
      try {
        process.stderr.write(`Local Ed-Fi test server on ${server.url} (a test double, not an ODS)\n`);
        const pre = await preloadFromSnapshot(server, o.snapshot, profiles, DATA_PATH);
        process.stderr.write(`Preloaded ${pre.references} LEA/student/program record(s) the demo records reference\n`);
        for (const profile of profiles) {
          const state = join(o.outDir, `${profile}.state.sqlite`);
          for (const night of [1, 2]) {
            process.stderr.write(`\n=== ${profile}: run ${night} ${night === 2 ? '(same snapshot again: nothing should change)' : ''}\n`);
            const c = await runSync({ profile, snapshot: o.snapshot, state, apiBase: server.url, dataPath: DATA_PATH, concurrency: 8 });
            if (c === EXIT.unreachable || c === EXIT.refused) code = c;
          }
          process.stderr.write(`State file: ${relative(process.cwd(), state)}  (try: npx edfi-sync errors --state ${relative(process.cwd(), state)})\n`);
        }
        for (const year of ['2025', '2026']) {
          const store = server.instance(DATA_PATH.replace('{endYear}', year));
          const counts = ['localEducationAgencies', 'students', 'programs', 'studentCTEProgramAssociations'].map((r) => `${r} ${store.count(r as Parameters<typeof store.count>[0])}`);
          process.stderr.write(`\nThe test server's ${year} instance now holds: ${counts.join(', ')}`);
        }
        process.stderr.write('\n');
      } finally {
        await server.close();
      }
      process.exitCode = code;
    });
}
