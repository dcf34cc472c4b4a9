import { readdirSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadProfile, resolveProfilePath } from '../../profile/load-profile.js';
import { ConfigError, formatProblem, type LocatedProblem } from '../../util/errors.js';
import { repoPath } from '../../util/repo-root.js';
import { EXIT } from '../exit-codes.js';

/** Every profile folder of the project (profiles/<name>/profile.yaml). */
export function listProfiles(root = process.cwd()): string[] {
  for (const dir of [repoPath('profiles'), `${root}/profiles`]) {
    if (existsSync(`${root}/profiles`) && dir !== `${root}/profiles`) continue;
    if (!existsSync(dir)) continue;
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(`${dir}/${d.name}/profile.yaml`))
      .map((d) => d.name)
      .sort();
  }
  return [];
}

export function validateProfiles(names: string[]): { problems: LocatedProblem[]; checked: string[]; notes: LocatedProblem[] } {
  const problems: LocatedProblem[] = [];
  const notes: LocatedProblem[] = [];
  for (const name of names) {
    try {
      notes.push(...loadProfile(name).notes);
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else problems.push({ file: resolveProfilePath(name), message: (err as Error).message });
    }
  }
  return { problems, checked: names, notes };
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Check profile, rule, mapping and error-catalogue files: schema, JSONata syntax, facts, operators, ids')
    .option('--profile <name|path>', 'one profile (default: every profile under profiles/)')
    .action((o: { profile?: string }) => {
      const names = o.profile ? [o.profile] : listProfiles();
      const { problems, notes } = validateProfiles(names);
      // Notes are not problems: e.g. a mapping field JSONata evaluates because it does not compile to plain functions.
      for (const n of notes) process.stdout.write(`note: ${formatProblem(n)}\n`);
      if (problems.length === 0) {
        process.stdout.write(`OK: ${names.length} profile(s) valid: ${names.join(', ')}\n`);
        return;
      }
      process.stdout.write(problems.map(formatProblem).join('\n') + `\n${problems.length} problem(s) found\n`);
      process.exitCode = EXIT.config;
    });
}
