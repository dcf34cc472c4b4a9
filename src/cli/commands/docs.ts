import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { profileDocs } from '../../docs/profile-docs.js';
import { loadProfile } from '../../profile/load-profile.js';
import { EXIT } from '../exit-codes.js';
import { listProfiles } from './validate.js';

export function registerDocs(program: Command): void {
  program
    .command('docs')
    .description('Write the side-by-side table of the profiles (rule ids, spec text, decisions) as Markdown')
    .option('--out <file>', 'file to write (default: stdout)')
    .option('--check', 'with --out: write nothing, fail (exit 1) when the file is not what the profiles make (for CI)')
    .option('--profile <names...>', 'profiles to compare (default: all)')
    .action((o: { out?: string; check?: boolean; profile?: string[] }) => {
      const text = profileDocs((o.profile ?? listProfiles()).map((n) => loadProfile(n)));
      if (o.check) {
        if (!o.out) throw Object.assign(new Error('--check needs --out FILE (the file to compare)'), { exitCode: EXIT.usage });
        if (existsSync(o.out) && readFileSync(o.out, 'utf8') === text) {
          process.stdout.write(`${o.out} is up to date\n`);
          return;
        }
        process.stdout.write(`${o.out} is out of date: run npx edfi-sync docs --out ${o.out} and commit it\n`);
        process.exitCode = EXIT.apiFailed;
        return;
      }
      if (o.out) writeFileSync(o.out, text);
      else process.stdout.write(text);
    });
}
