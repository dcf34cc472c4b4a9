import type { Command } from 'commander';
import { formatProblem, type LocatedProblem } from '../../util/errors.js';
import { listProfiles } from '../../validate/discover-profiles.js';
import { validateProfile } from '../../validate/validate-profile.js';
import { EXIT } from '../exit-codes.js';

export { listProfiles } from '../../validate/discover-profiles.js';

/** Errors, warnings and notes of each profile, in the order given. */
export function validateProfiles(names: string[], cwd = process.cwd()): { problems: LocatedProblem[]; warnings: LocatedProblem[]; notes: LocatedProblem[]; checked: string[] } {
  const problems: LocatedProblem[] = [];
  const warnings: LocatedProblem[] = [];
  const notes: LocatedProblem[] = [];
  for (const name of names) {
    const r = validateProfile(name, cwd);
    problems.push(...r.errors);
    warnings.push(...r.warnings);
    notes.push(...r.notes);
  }
  return { problems, warnings, notes, checked: names };
}

export function formatWarning(p: LocatedProblem): string {
  return formatProblem({ ...p, message: `warning: ${p.message}` });
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Check profile, rule, mapping, error-catalogue, descriptor, fixture-base and fixture files: schema, SQL, JSONata, facts, operators, ids; warn about TODO markers and missing editor schema lines')
    .option('--profile <name|path>', 'one profile (default: every profile under profiles/)')
    .action((o: { profile?: string }) => {
      const names = o.profile ? [o.profile] : listProfiles();
      const { problems, warnings, notes } = validateProfiles(names);
      // Notes are not problems: e.g. a mapping field JSONata evaluates because it does not compile to plain functions.
      for (const n of notes) process.stdout.write(`note: ${formatProblem(n)}\n`);
      const out: string[] = [...problems.map(formatProblem), ...warnings.map(formatWarning)];
      const tail = warnings.length > 0 ? ` (${warnings.length} warning(s))` : '';
      if (problems.length === 0) out.push(`OK: ${names.length} profile(s) valid: ${names.join(', ')}${tail}`);
      else out.push(`${problems.length} problem(s) found${tail}`);
      process.stdout.write(out.join('\n') + '\n');
      if (problems.length > 0) process.exitCode = EXIT.config;
    });
}
