import type { Command } from 'commander';
import { fixtureReport } from '../../fixtures/report.js';
import { runFixtures } from '../../fixtures/run-fixtures.js';
import { loadProfile } from '../../profile/load-profile.js';
import { EXIT } from '../exit-codes.js';
import { listProfiles } from './validate.js';

export function registerTest(program: Command): void {
  program
    .command('test')
    .description("Run each profile's fixture snapshots, compare the plans with the expected operations, and report coverage of rules, fields and checks")
    .option('--profile <name|path>', 'one profile (default: every profile under profiles/)')
    .option('--only <text>', 'only fixtures whose file name contains this (coverage then shows what they exercised)')
    .action(async (o: { profile?: string; only?: string }) => {
      const names = o.profile ? [o.profile] : listProfiles();
      let ok = true;
      for (const name of names) {
        const profile = loadProfile(name);
        const report = fixtureReport(profile.def.name, await runFixtures(profile, { only: o.only }));
        process.stdout.write(report.text + '\n');
        ok &&= report.ok;
      }
      process.exitCode = ok ? EXIT.ok : EXIT.apiFailed;
    });
}
