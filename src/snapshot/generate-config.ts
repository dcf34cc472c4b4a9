// The Ed-Fi connections and their Resource Preferences, set up the way a district admin would: most
// programs mapped, one or two forgotten, which is exactly what the trigger rules must cope with.
import { OTHER_PROGRAMS } from './generate-catalog.js';
import type { Org } from './generate-org.js';
import type { Prng } from './prng.js';
import type { Row } from './rows.js';

export type GenerateProfile = 'core' | 'missouri' | 'both';

export interface ConfigRows {
  EdFiConfiguration: Row[];
  EdFiResourceToggle: Row[];
  EdFiResourcePreference: Row[];
}

const RESOURCE = 'studentCTEProgramAssociations';

/** Campus certification states -> TechnicalSkillsAssessmentDescriptor, as each state's preference screen words them. */
const SKILLS_MAPPING: Record<'core' | 'missouri', readonly (readonly [string, string])[]> = {
  core: [['Passed', 'Passed'], ['Attempted', 'Not Passed'], ['Not Attempted', 'Did Not Take']],
  missouri: [['Passing', 'Passed'], ['Attempted', 'Not Passed'], ['No Record', 'Did Not Take']],
};

const API_BASE: Record<'core' | 'missouri', string> = {
  core: 'https://edfi.example.org/v6.1/api',
  missouri: 'https://edfi-mo.example.org/api',
};

export function profileForDistrict(profile: GenerateProfile, districtIndex: number): 'core' | 'missouri' {
  if (profile !== 'both') return profile;
  return districtIndex % 2 === 0 ? 'core' : 'missouri';
}

export function buildConfig(rng: Prng, org: Org, endYears: readonly number[], profile: GenerateProfile): ConfigRows {
  const out: ConfigRows = { EdFiConfiguration: [], EdFiResourceToggle: [], EdFiResourcePreference: [] };
  let configID = 1;
  org.districts.forEach((district, index) => {
    const districtProfile = profileForDistrict(profile, index);
    const codes = district.ctePrograms.map((p) => p.seed.code);
    const noProgramType = new Set(rng.sample(codes, rng.int(1, 2)));
    const noPathway = new Set(rng.sample(codes.filter((c) => !noProgramType.has(c)), 1));
    const asUri = rng.pick(codes.filter((c) => !noPathway.has(c)));

    endYears.forEach((endYear) => {
      const id = configID++;
      out.EdFiConfiguration.push({ configID: id, districtID: district.districtID, endYear, profile: districtProfile, apiBase: API_BASE[districtProfile], enabled: 1 });
      const pref = (resource: string, element: string, campusValue: string, edfiCode: string): void => {
        out.EdFiResourcePreference.push({ configID: id, resource, element, campusValue, edfiCode });
      };
      for (const p of district.ctePrograms) {
        if (!noProgramType.has(p.seed.code)) pref('programs', 'programTypeDescriptor', p.seed.code, 'Career and Technical Education');
      }
      for (const p of OTHER_PROGRAMS) {
        if (p.edfiProgramType) pref('programs', 'programTypeDescriptor', p.code, p.edfiProgramType);
      }
      for (const p of district.ctePrograms) {
        if (noPathway.has(p.seed.code)) continue;
        // Preferences may hold a full descriptor URI instead of a code value; one mapping per district does.
        const code = p.seed.code === asUri ? `uri://ed-fi.org/CareerPathwayDescriptor#${p.seed.pathway}` : p.seed.pathway;
        pref(RESOURCE, 'careerPathwayDescriptor', p.seed.code, code);
      }
      pref(RESOURCE, 'cteProgramCompletionIndicator', 'Completer', 'true');
      for (const [campus, edfi] of SKILLS_MAPPING[districtProfile]) pref(RESOURCE, 'technicalSkillsAssessmentDescriptor', campus, edfi);
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
