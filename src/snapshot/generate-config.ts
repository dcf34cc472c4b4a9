// The Ed-Fi connections and their Resource Preferences, set up the way a district admin would: most
// programs mapped, one or two forgotten, which is exactly what the trigger rules must cope with.
// What differs by state (how a state words its certification statuses, say) is read from the profile's
// profiles/<name>/fixture-base.yaml, so a new state needs no change here.
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { repoPath } from '../util/repo-root.js';
import { OTHER_PROGRAMS } from './generate-catalog.js';
import type { Org } from './generate-org.js';
import type { Prng } from './prng.js';
import type { Row } from './rows.js';

/** Profile names, one per district in turn ('core,otherstate' alternates); 'both' or 'all': every profile with a fixture base. */
export type GenerateProfile = string;

export interface ConfigRows {
  EdFiConfiguration: Row[];
  EdFiResourceToggle: Row[];
  EdFiResourcePreference: Row[];
}

const RESOURCE = 'studentCTEProgramAssociations';
/** Preferences made per program by the generator; the profile's other preferences are copied as they are. */
const PER_PROGRAM = new Set(['programTypeDescriptor', 'careerPathwayDescriptor']);

interface ProfileSetup {
  apiBase: string | null;
  preferences: Array<{ resource: string; element: string; campusValue: string; edfiCode: string }>;
  /**
   * Per-program elements whose descriptor the profile sends in a namespace of its own: the code values to use
   * (its published list, else the values its fixture base maps to), since Ed-Fi's would not resolve there.
   */
  ownCodes: Map<string, { namespace: string; codes: string[] }>;
}

const EDFI_NAMESPACE = 'uri://ed-fi.org';

/** profiles/ of the project in the working folder when it has one, else the one shipped with this package. */
function profilesDir(): string {
  const local = join(process.cwd(), 'profiles');
  return existsSync(local) ? local : repoPath('profiles');
}

function profilesWithBase(): string[] {
  const dir = profilesDir();
  return readdirSync(dir).filter((n) => existsSync(join(dir, n, 'fixture-base.yaml'))).sort();
}

/**
 * The profile whose connections a profile serves: its `connectionProfile` (a profile written for another Data
 * Standard sends the same connections, e.g. a DS 5.x variant of a state's profile), else itself.
 */
export function connectionProfileOf(name: string): string {
  const file = join(profilesDir(), name, 'profile.yaml');
  if (!existsSync(file)) return name;
  const def = parse(readFileSync(file, 'utf8')) as { connectionProfile?: string } | null;
  return def?.connectionProfile ?? name;
}

/**
 * 'both' / 'all' / 'core,otherstate' -> the profiles whose connections are generated (EdFiConfiguration.profile),
 * checked against the profiles folder. A profile that serves another profile's connections stands for that one.
 */
export function profileList(value: string): string[] {
  const known = profilesWithBase();
  const asked = value === 'both' || value === 'all' ? known : value.split(',').map((s) => s.trim()).filter(Boolean);
  const names = asked.map((n) => (known.includes(n) ? n : connectionProfileOf(n)));
  names.forEach((n, i) => {
    if (!known.includes(n)) throw new Error(`profile '${asked[i]}' has no profiles/${n}/fixture-base.yaml (known: ${known.join(', ')})`);
  });
  if (names.length === 0) throw new Error('no profile to generate connections for');
  return names;
}

type Preference = ProfileSetup['preferences'][number];

function setupOf(profile: string): ProfileSetup {
  const dir = join(profilesDir(), profile);
  const data = parse(readFileSync(join(dir, 'fixture-base.yaml'), 'utf8')) as {
    tables?: { EdFiConfiguration?: Array<{ apiBase?: string }>; EdFiResourcePreference?: Preference[] };
  };
  const all = data.tables?.EdFiResourcePreference ?? [];
  const def = (existsSync(join(dir, 'profile.yaml')) ? parse(readFileSync(join(dir, 'profile.yaml'), 'utf8')) : {}) as {
    descriptorNamespaces?: Record<string, string>;
    descriptors?: string[];
  };
  const root = dirname(dirname(dir));
  const published = new Map<string, string[]>();
  for (const rel of def.descriptors ?? []) {
    const file = join(root, rel);
    if (!existsSync(file)) continue;
    const lists = (parse(readFileSync(file, 'utf8')) as { descriptors?: Array<{ namespace: string; values: Array<{ codeValue: string }> }> }).descriptors ?? [];
    for (const l of lists) published.set(l.namespace.replace(/\/+$/, ''), l.values.map((v) => String(v.codeValue)));
  }
  const ownCodes = new Map<string, { namespace: string; codes: string[] }>();
  for (const element of PER_PROGRAM) {
    const descriptor = element[0]!.toUpperCase() + element.slice(1);
    const ns = (def.descriptorNamespaces?.[descriptor] ?? def.descriptorNamespaces?.default ?? EDFI_NAMESPACE).replace(/\/+$/, '');
    if (ns === EDFI_NAMESPACE) continue;
    const namespace = `${ns}/${descriptor}`;
    const codes = published.get(namespace) ?? [...new Set(all.filter((p) => p.element === element).map((p) => String(p.edfiCode)))];
    if (codes.length > 0) ownCodes.set(element, { namespace, codes });
  }
  return {
    apiBase: data.tables?.EdFiConfiguration?.[0]?.apiBase ?? null,
    preferences: all.filter((p) => !PER_PROGRAM.has(p.element)),
    ownCodes,
  };
}

export function profileForDistrict(profiles: readonly string[], districtIndex: number): string {
  return profiles[districtIndex % profiles.length]!;
}

export function buildConfig(rng: Prng, org: Org, endYears: readonly number[], profile: GenerateProfile): ConfigRows {
  const profiles = profileList(profile);
  const setups = new Map(profiles.map((p) => [p, setupOf(p)]));
  const out: ConfigRows = { EdFiConfiguration: [], EdFiResourceToggle: [], EdFiResourcePreference: [] };
  let configID = 1;
  org.districts.forEach((district, index) => {
    const districtProfile = profileForDistrict(profiles, index);
    const setup = setups.get(districtProfile)!;
    const codes = district.ctePrograms.map((p) => p.seed.code);
    const noProgramType = new Set(rng.sample(codes, rng.int(1, 2)));
    const noPathway = new Set(rng.sample(codes.filter((c) => !noProgramType.has(c)), 1));
    const asUri = rng.pick(codes.filter((c) => !noPathway.has(c)));

    endYears.forEach((endYear) => {
      const id = configID++;
      out.EdFiConfiguration.push({ configID: id, districtID: district.districtID, endYear, profile: districtProfile, apiBase: setup.apiBase, enabled: 1 });
      const pref = (resource: string, element: string, campusValue: string, edfiCode: string): void => {
        out.EdFiResourcePreference.push({ configID: id, resource, element, campusValue, edfiCode });
      };
      // A state that sends a descriptor in its own namespace gets codes from its own list (taken in turn).
      const own = (element: string, n: number, edfi: string): string => {
        const o = setup.ownCodes.get(element);
        return o ? o.codes[n % o.codes.length]! : edfi;
      };
      district.ctePrograms.forEach((p, n) => {
        if (!noProgramType.has(p.seed.code)) pref('programs', 'programTypeDescriptor', p.seed.code, own('programTypeDescriptor', n, 'Career and Technical Education'));
      });
      OTHER_PROGRAMS.forEach((p, n) => {
        if (p.edfiProgramType) pref('programs', 'programTypeDescriptor', p.code, own('programTypeDescriptor', n + 1, p.edfiProgramType));
      });
      district.ctePrograms.forEach((p, n) => {
        if (noPathway.has(p.seed.code)) return;
        const code = own('careerPathwayDescriptor', n, p.seed.pathway);
        // Preferences may hold a full descriptor URI instead of a code value; one mapping per district does.
        const namespace = setup.ownCodes.get('careerPathwayDescriptor')?.namespace ?? `${EDFI_NAMESPACE}/CareerPathwayDescriptor`;
        pref(RESOURCE, 'careerPathwayDescriptor', p.seed.code, p.seed.code === asUri ? `${namespace}#${code}` : code);
      });
      for (const p of setup.preferences) pref(p.resource, p.element, p.campusValue, p.edfiCode);
    });
  });

  // One connection has the resource switched off; another says "on" explicitly, which must mean the same as no row.
  const configs = out.EdFiConfiguration;
  const lastDistrict = org.districts[org.districts.length - 1];
  const off = configs.find((c) => c['districtID'] === lastDistrict?.districtID);
  if (off) out.EdFiResourceToggle.push({ configID: off['configID'] as number, resource: RESOURCE, enabled: 0 });
  const on = configs[endYears.length - 1];
  if (on && on !== off) out.EdFiResourceToggle.push({ configID: on['configID'] as number, resource: RESOURCE, enabled: 1 });
  return out;
}
