import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { profileDocs } from '../../docs/profile-docs.js';
import { loadProfile } from '../../profile/load-profile.js';
import { listProfiles } from './validate.js';

export function registerDocs(program: Command): void {
  program
    .command('docs')
    .description('Write the side-by-side table of the profiles (rule ids, spec text, decisions) as Markdown')
    .option('--out <file>', 'file to write (default: stdout)')
    .option('--profile <names...>', 'profiles to compare (default: all)')
    .action((o: { out?: string; profile?: string[] }) => {
      const text = profileDocs((o.profile ?? listProfiles()).map((n) => loadProfile(n)));
      if (o.out) writeFileSync(o.out, text);
      else process.stdout.write(text);
    });
}
