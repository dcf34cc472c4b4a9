// The files an analyst writes for one profile, each with the JSON Schema that describes it: what `validate`
// checks beyond loading the profile (editor headers, TODO markers, descriptor lists, fixture bases, fixtures).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readYamlFile } from '../util/yaml-file.js';
import { displayPath } from '../util/display-path.js';

export type AnalystFileKind = 'profile' | 'rules' | 'mapping' | 'errors' | 'descriptors' | 'fixture-base' | 'fixture';

export interface AnalystFile {
  /** Absolute path. */
  file: string;
  /** As messages show it (relative to the working folder). */
  shown: string;
  kind: AnalystFileKind;
}

interface RawProfile {
  rules?: unknown;
  mapping?: unknown;
  errors?: unknown;
  descriptors?: unknown;
  fixtures?: unknown;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** The YAML files of a profile; a profile.yaml that cannot be read yields only itself. */
export function analystFiles(profileFile: string, root: string, cwd = process.cwd()): AnalystFile[] {
  const show = (p: string): string => displayPath(p, cwd);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(root, p));
  const out: AnalystFile[] = [{ file: profileFile, shown: show(profileFile), kind: 'profile' }];
  let raw: RawProfile = {};
  try {
    const data = readYamlFile(profileFile).data;
    if (data && typeof data === 'object') raw = data as RawProfile;
  } catch {
    return out;
  }
  const add = (p: string, kind: AnalystFileKind): void => {
    const file = abs(p);
    if (existsSync(file) && !out.some((f) => f.file === file)) out.push({ file, shown: show(file), kind });
  };
  for (const p of strings(raw.rules)) add(p, 'rules');
  for (const p of strings(raw.mapping)) add(p, 'mapping');
  for (const p of strings(raw.errors)) add(p, 'errors');
  for (const p of strings(raw.descriptors)) add(p, 'descriptors');
  add(join(dirname(profileFile), 'fixture-base.yaml'), 'fixture-base');
  const fixtures = typeof raw.fixtures === 'string' ? abs(raw.fixtures) : join(dirname(profileFile), 'fixtures');
  if (existsSync(fixtures)) {
    for (const f of readdirSync(fixtures).filter((n) => /\.ya?ml$/.test(n)).sort()) add(join(fixtures, f), 'fixture');
  }
  return out;
}
