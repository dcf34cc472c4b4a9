import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, type LocatedProblem } from '../util/errors.js';
import { checkAgainstSchema } from '../util/file-schema.js';
import { readYamlFile, type PathSegment, type YamlFile } from '../util/yaml-file.js';
import type { ConnectionRef, CredentialSource, TargetSpec } from './types.js';

interface RawTarget {
  district?: number;
  schoolYear?: number;
  apiRoot?: string;
  flavor?: string;
  dataPath?: string;
  routeContext?: Record<string, string>;
  credentials?: { keyEnv?: string; secretEnv?: string; file?: string };
}

interface Entry {
  raw: RawTarget;
  /** Line of the entry, for messages. */
  line?: number;
}

/** A targets file, checked: every connection is matched against it with `targetFor`. */
export interface TargetsFile {
  file: string;
  targetFor(c: ConnectionRef): TargetSpec;
}

// Property names that announce a credential written into the file itself.
const CREDENTIAL_NAME = /secret|password|passwd|token|^key$|^client_?id$|^clientSecret$|api_?key/i;
// A long run of letters and digits with no separator: how generated keys and secrets look.
const SECRET_LOOKING = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9+/=_-]{20,}$/;

/**
 * The file must never hold a key or secret: a property named like one, or a value that looks like one where a name
 * or path belongs, is refused. The messages never repeat the value.
 */
function secretProblems(y: YamlFile): LocatedProblem[] {
  const out: LocatedProblem[] = [];
  const walk = (node: unknown, path: PathSegment[]): void => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, [...path, i]));
    if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        const at = [...path, k];
        if (CREDENTIAL_NAME.test(k) && k !== 'keyEnv' && k !== 'secretEnv') {
          out.push({ file: y.file, ...y.locate(at), message: `${at.join('.')}: a key or secret written into the targets file is refused; name environment variables (credentials: { keyEnv, secretEnv }) or a file (credentials: { file })` });
          continue;
        }
        walk(v, at);
      }
      return;
    }
    if (typeof node !== 'string') return;
    const where = path.join('.');
    const last = path[path.length - 1];
    if (last === 'apiRoot' && /^[a-z]+:\/\/[^/]*@/i.test(node)) {
      out.push({ file: y.file, ...y.locate(path), message: `${where}: credentials in the URL (user:password@) are refused; give credentials: { keyEnv, secretEnv } or { file }` });
    } else if ((last === 'keyEnv' || last === 'secretEnv') && SECRET_LOOKING.test(node) && !node.includes('_') && /[a-z]/.test(node.replace(/\{\w+\}/g, ''))) {
      out.push({ file: y.file, ...y.locate(path), message: `${where}: this looks like a key or secret, not the name of an environment variable; write the variable's name (e.g. EDFI_SECRET_{district})` });
    }
  };
  walk(y.data, []);
  return out;
}

function fill(text: string, c: ConnectionRef): string {
  return text
    .replace(/\{district\}/g, c.districtNumber === null ? '{district}' : String(c.districtNumber))
    .replace(/\{(schoolYear|endYear)\}/g, String(c.schoolYear));
}

function sourceOf(raw: NonNullable<RawTarget['credentials']>, c: ConnectionRef, baseDir: string): CredentialSource {
  if (raw.file !== undefined) {
    const f = fill(raw.file, c);
    return { kind: 'file', file: isAbsolute(f) ? f : resolve(baseDir, f) };
  }
  return { kind: 'env', keyEnv: fill(raw.keyEnv!, c), secretEnv: fill(raw.secretEnv!, c) };
}

/** Reads and checks a targets file (schema, no credentials in it, no two entries for the same connections). */
export function loadTargetsFile(path: string): TargetsFile {
  const y = readYamlFile(path);
  const problems = [...checkAgainstSchema(y, 'targets'), ...secretProblems(y)];
  const data = (y.data ?? {}) as { defaults?: RawTarget; targets?: RawTarget[] };
  if (problems.length === 0) {
    if (data.defaults?.district !== undefined || data.defaults?.schoolYear !== undefined) {
      problems.push({ file: y.file, ...y.locate(['defaults']), message: 'defaults: district and schoolYear belong in the entries of targets, not in defaults' });
    }
    const seen = new Map<string, number>();
    (data.targets ?? []).forEach((t, i) => {
      const k = `${t.district ?? '*'}/${t.schoolYear ?? '*'}`;
      const before = seen.get(k);
      if (before !== undefined) {
        problems.push({ file: y.file, ...y.locate(['targets', i]), message: `targets[${i}] is for the same district and school year as targets[${before}]; keep one` });
      }
      seen.set(k, i);
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const baseDir = dirname(resolve(path));
  const entries: Entry[] = (data.targets ?? []).map((raw, i) => ({ raw, line: y.locate(['targets', i]).line }));
  const defaults = data.defaults ?? {};
  return {
    file: y.file,
    targetFor(c: ConnectionRef): TargetSpec {
      // The most specific entry wins: district and year, then district, then year; fields it lacks come from defaults.
      const rank = (t: RawTarget): number => (t.district !== undefined ? 2 : 0) + (t.schoolYear !== undefined ? 1 : 0);
      const match = entries
        .filter(({ raw }) => (raw.district === undefined || raw.district === c.districtNumber) && (raw.schoolYear === undefined || raw.schoolYear === c.schoolYear))
        .sort((a, b) => rank(b.raw) - rank(a.raw))[0];
      const t: RawTarget = { ...defaults, ...(match?.raw ?? {}) };
      const definedAt = match ? `${y.file}:${match.line ?? '?'}` : `${y.file} (defaults)`;
      const who = `connection ${c.key} (district ${c.districtNumber ?? 'unknown'}, school year ${c.schoolYear})`;
      const missing = [!t.apiRoot && 'apiRoot', !t.credentials && 'credentials'].filter(Boolean);
      if (missing.length > 0) {
        throw new ConfigError([{ file: y.file, message: `${who}: no ${missing.join(' and ')} (add an entry for it under targets, or defaults)` }]);
      }
      const spec: TargetSpec = { apiRoot: fill(t.apiRoot!, c), credentials: sourceOf(t.credentials!, c, baseDir), definedAt };
      if (t.flavor) spec.flavor = t.flavor;
      if (t.dataPath) spec.dataPath = fill(t.dataPath, c);
      if (t.routeContext) spec.routeContext = Object.fromEntries(Object.entries(t.routeContext).map(([k, v]) => [k, fill(v, c)]));
      if (/\{district\}/.test(JSON.stringify(spec))) {
        throw new ConfigError([{ file: y.file, message: `${who}: {district} is used but the profile's connections give no district number` }]);
      }
      return spec;
    },
  };
}
