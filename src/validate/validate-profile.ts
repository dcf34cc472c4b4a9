// `edfi-sync validate` for one profile: everything loading the profile checks (schemas, SQL, facts, operators,
// JSONata, ids, sanity rules), plus the files the engine reads only later (descriptor lists, fixture base,
// fixtures), editor schema lines, and the TODO markers init-profile left. Errors stop a run; warnings do not.
import { readFileSync } from 'node:fs';
import { loadCase } from '../fixtures/case-file.js';
import { loadProfile, projectRootOf, resolveProfilePath, type LoadedProfile } from '../profile/load-profile.js';
import { FixtureError } from '../snapshot/fixture-error.js';
import { parseTables } from '../snapshot/fixture-yaml.js';
import { ConfigError, type LocatedProblem } from '../util/errors.js';
import { checkAgainstSchema } from '../util/file-schema.js';
import { parseYaml, type YamlFile } from '../util/yaml-file.js';
import { analystFiles, type AnalystFile } from './analyst-files.js';
import { checkEditorHeader } from './editor-headers.js';
import { KnownDescriptors, descriptorOfElement } from './known-descriptors.js';
import { findTodos } from './todo-markers.js';

export interface ValidationReport {
  profile: string;
  errors: LocatedProblem[];
  warnings: LocatedProblem[];
  /** Not problems: e.g. a mapping field JSONata evaluates because it does not compile to plain functions. */
  notes: LocatedProblem[];
}

function problemsOf(err: unknown, file: string): LocatedProblem[] {
  if (err instanceof ConfigError) return err.problems;
  if (err instanceof FixtureError) {
    const text = err.message.slice(`Fixture ${err.fixture}`.length);
    const m = /^ line (\d+), ([\s\S]*)$/.exec(text);
    return [m ? { file, line: Number(m[1]), message: m[2]! } : { file, message: text.replace(/^: /, '') }];
  }
  return [{ file, message: (err as Error).message }];
}

/** A state's descriptor list must be in the namespace the profile sends that descriptor in, or it checks nothing. */
function descriptorListProblems(yaml: YamlFile, profile: LoadedProfile): LocatedProblem[] {
  const out: LocatedProblem[] = [];
  const lists = (yaml.data as { descriptors?: Array<{ descriptor?: string; namespace?: string }> }).descriptors ?? [];
  const namespaces = profile.def.descriptorNamespaces ?? {};
  lists.forEach((l, i) => {
    if (!l.descriptor || !l.namespace) return;
    const sent = `${(namespaces[l.descriptor] ?? namespaces.default ?? 'uri://ed-fi.org').replace(/\/+$/, '')}/${l.descriptor}`;
    if (l.namespace.replace(/\/+$/, '') !== sent) {
      out.push({
        file: yaml.file, ...yaml.locate(['descriptors', i, 'namespace']),
        message: `namespace ${l.namespace} is not where the profile sends ${l.descriptor} (${sent}): set descriptorNamespaces.${l.descriptor} in the profile, or correct the list, or its values are never checked`,
      });
    }
  });
  return out;
}

/** Every descriptor a fixture base maps to must be on the list of its namespace (Ed-Fi's or the state's). */
function fixtureBaseProblems(yaml: YamlFile, known: KnownDescriptors): LocatedProblem[] {
  const out: LocatedProblem[] = [];
  const prefs = (yaml.data as { tables?: { EdFiResourcePreference?: Array<{ element?: string; edfiCode?: unknown }> } }).tables?.EdFiResourcePreference ?? [];
  prefs.forEach((p, i) => {
    const descriptor = p.element ? descriptorOfElement(p.element) : undefined;
    if (!descriptor || p.edfiCode === undefined || p.edfiCode === null) return;
    const uri = known.uri(descriptor, String(p.edfiCode));
    if (!uri || known.known(descriptor, uri) !== false) return;
    const listed = known.listed(descriptor, uri);
    out.push({
      file: yaml.file, ...yaml.locate(['tables', 'EdFiResourcePreference', i, 'edfiCode']),
      message: `${p.element} '${String(p.edfiCode)}' is sent as ${uri}, which is not a published ${descriptor} value (the ODS would refuse it); values: ${listed.slice(0, 12).join(', ')}${listed.length > 12 ? ', ...' : ''}`,
    });
  });
  return out;
}

function fixtureProblems(text: string, f: AnalystFile): LocatedProblem[] {
  try {
    const c = loadCase(f.file, f.shown);
    for (const step of c.steps) parseTables(c.source, step.tables);
    return [];
  } catch (err) {
    return problemsOf(err, f.shown);
  }
}

export function validateProfile(nameOrPath: string, cwd = process.cwd()): ValidationReport {
  const file = resolveProfilePath(nameOrPath, cwd);
  const root = projectRootOf(file);
  const errors: LocatedProblem[] = [];
  const warnings: LocatedProblem[] = [];
  let profile: LoadedProfile | undefined;
  try {
    profile = loadProfile(nameOrPath, cwd);
  } catch (err) {
    errors.push(...problemsOf(err, nameOrPath));
  }
  let known: KnownDescriptors | undefined;
  for (const f of analystFiles(file, root, cwd)) {
    let text: string;
    try {
      text = readFileSync(f.file, 'utf8');
    } catch {
      continue; // loading the profile reported the missing file
    }
    const header = checkEditorHeader(text, f, root);
    if (header) warnings.push(header);
    if (f.kind !== 'fixture') warnings.push(...findTodos(text, f.shown));
    if (f.kind === 'fixture') {
      errors.push(...fixtureProblems(text, f));
      continue;
    }
    if (f.kind !== 'descriptors' && f.kind !== 'fixture-base') continue;
    let yaml: YamlFile;
    try {
      yaml = parseYaml(text, f.shown);
    } catch (err) {
      errors.push(...problemsOf(err, f.shown));
      continue;
    }
    const schema = checkAgainstSchema(yaml, f.kind);
    errors.push(...schema);
    if (schema.length > 0 || !profile) continue;
    if (f.kind === 'descriptors') errors.push(...descriptorListProblems(yaml, profile));
    else {
      try {
        known ??= new KnownDescriptors(profile);
        errors.push(...fixtureBaseProblems(yaml, known));
      } catch (err) {
        errors.push(...problemsOf(err, f.shown));
      }
    }
  }
  return { profile: profile?.def.name ?? nameOrPath, errors, warnings, notes: profile?.notes ?? [] };
}
