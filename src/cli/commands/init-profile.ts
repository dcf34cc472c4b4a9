import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadProfile } from '../../profile/load-profile.js';
import { markTodos } from '../../validate/todo-markers.js';
import { EXIT } from '../exit-codes.js';

function rewriteTree(dir: string, edit: (text: string, file: string) => string): void {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) rewriteTree(p, edit);
    else if (/\.(ya?ml|sql)$/.test(entry)) writeFileSync(p, edit(readFileSync(p, 'utf8'), p));
  }
}

/**
 * Copies a profile (its folder, rules and mappings) as the start of a new state's profile: paths, the name and
 * the rule ids' prefix are renamed, so the copy validates and passes its fixtures before any edit. Its title and
 * spec lines become TODO markers (keeping the copied text) that `validate` reports until the state's own are written.
 */
export function initProfile(name: string, from: string, root = process.cwd()): string[] {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw Object.assign(new Error(`profile name '${name}' must be lower-case letters, digits and dashes`), { exitCode: EXIT.usage });
  const source = loadProfile(from, root);
  const src = source.def.name;
  const created: string[] = [];
  const pairs: Array<[string, string]> = [
    [resolve(source.root, 'profiles', src), resolve(root, 'profiles', name)],
    [resolve(source.root, 'rules', src), resolve(root, 'rules', name)],
    [resolve(source.root, 'mappings', src), resolve(root, 'mappings', name)],
  ];
  for (const [, to] of pairs) if (existsSync(to)) throw Object.assign(new Error(`${relative(root, to)} already exists`), { exitCode: EXIT.usage });
  for (const [from_, to] of pairs) {
    if (!existsSync(from_)) continue;
    cpSync(from_, to, { recursive: true });
    created.push(relative(root, to) || to);
  }
  // Id prefixes (<old>.trigger... -> <new>.trigger...) and paths (rules/<old>/ -> rules/<new>/) follow the new name.
  // The id prefix the source profile uses (the part of its rule ids before the first dot), read from its first rule id.
  const prefix = source.rules[0]?.id.split('.')[0] ?? src;
  const edit = (text: string): string =>
    text
      .replace(new RegExp(`\\b(profiles|rules|mappings)/${src}/`, 'g'), `$1/${name}/`)
      .replace(new RegExp(`(^|[\\s\\[,{:'"])${prefix}\\.`, 'g'), `$1${name}.`)
      .replace(/^name: .*$/m, `name: ${name}`)
      // Fixtures and the fixture base name the profile whose connection they set up.
      .replace(new RegExp(`\\bprofile: ${src}\\b`, 'g'), `profile: ${name}`);
  for (const [, to] of pairs) if (existsSync(to)) rewriteTree(to, edit);
  // Connections labelled with the new name in EdFiConfiguration.profile are served by the copy.
  const profileFile = resolve(root, 'profiles', name, 'profile.yaml');
  let text = readFileSync(profileFile, 'utf8').replace(/^connectionProfile: .*\n/m, '');
  // Files the profile borrows from another profile (one state may use Core's error catalogue) are copied too, so the
  // new profile stands on its own.
  text = text.replace(/\b(profiles|rules|mappings)\/([a-z0-9-]+)\/([A-Za-z0-9_./-]+)/g, (whole, kind: string, owner: string, rest: string) => {
    if (owner === name) return whole;
    const from_ = resolve(source.root, kind, owner, rest);
    if (!existsSync(from_)) return whole;
    const target = `${kind}/${name}/${owner}-${rest.replace(/\//g, '-')}`;
    cpSync(from_, resolve(root, target));
    return target;
  });
  writeFileSync(profileFile, text);
  // The copied titles and spec lines quote the other state's specification: mark them for rewriting.
  for (const [, to] of pairs) {
    if (!existsSync(to)) continue;
    rewriteTree(to, (t, file) => (/[/\\]fixtures[/\\]/.test(file) || file.endsWith('.sql') ? t : markTodos(t, name, src)));
  }
  return created;
}

export function registerInitProfile(program: Command): void {
  program
    .command('init-profile <name>')
    .description('Start a new state profile by copying an existing one (profile folder, rules, mappings, fixtures)')
    .requiredOption('--from <profile>', 'the profile to copy (one under profiles/)')
    .action((name: string, o: { from: string }) => {
      const created = initProfile(name, o.from);
      process.stdout.write(
        `Created ${created.join(', ')}\n` +
          `The title and spec lines are TODO markers quoting the copied profile: write ${name}'s own (validate lists them).\n` +
          `Next: edit profiles/${name}/profile.yaml, then run\n  npx edfi-sync validate --profile ${name}\n  npx edfi-sync test --profile ${name}\n`,
      );
    });
}
