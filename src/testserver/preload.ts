// Creates the LEAs, students and programs that studentCTEProgramAssociation bodies reference, so a
// demo can send those bodies to a fresh test server. The invented fields are placeholders.
import type { JsonObject } from '../types.js';
import { listDescriptorValues } from '../edfi/schemas.js';
import { isJsonObject, valueAt } from './body-paths.js';
import type { EdFiStore } from './store.js';

export interface PreloadOptions {
  /** Also make every descriptor value the bodies use resolvable (a state's own namespaces, say). */
  registerDescriptors?: boolean;
}

export interface PreloadSummary {
  localEducationAgencies: number;
  students: number;
  programs: number;
  /** References that could not be created, with the store's answer. */
  skipped: string[];
}

const LEA_CATEGORY = 'uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency';
const LEA_KIND = 'uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Regular public school district';

export function preloadReferences(server: { store: EdFiStore }, bodies: object[], options: PreloadOptions = {}): PreloadSummary {
  const { store } = server;
  const summary: PreloadSummary = { localEducationAgencies: 0, students: 0, programs: 0, skipped: [] };

  const create = (resource: 'localEducationAgencies' | 'students' | 'programs', body: JsonObject): void => {
    if (store.findId(resource, body)) return;
    const outcome = store.post(resource, body, { skipAuthorization: true });
    if (outcome.ok) summary[resource] += 1;
    else summary.skipped.push(`${resource} ${JSON.stringify(body)}: ${outcome.status} ${outcome.body.message}`);
  };

  for (const body of bodies) {
    if (!isJsonObject(body)) continue;
    if (options.registerDescriptors) {
      for (const found of listDescriptorValues('studentCTEProgramAssociations', body)) store.addDescriptors(found.descriptor, [found.value]);
    }
    for (const path of ['educationOrganizationReference.educationOrganizationId', 'programReference.educationOrganizationId']) {
      const leaId = valueAt(body, path);
      if (typeof leaId !== 'number') continue;
      create('localEducationAgencies', {
        localEducationAgencyId: leaId,
        nameOfInstitution: `Local Education Agency ${leaId}`,
        categories: [{ educationOrganizationCategoryDescriptor: LEA_CATEGORY }],
        localEducationAgencyCategoryDescriptor: LEA_KIND,
      });
    }

    const studentUniqueId = valueAt(body, 'studentReference.studentUniqueId');
    if (typeof studentUniqueId === 'string') {
      create('students', { studentUniqueId, firstName: 'Student', lastSurname: studentUniqueId, birthDate: '2008-09-01' });
    }

    const program = body['programReference'];
    if (isJsonObject(program)) {
      const { educationOrganizationId, programName, programTypeDescriptor } = program;
      if (typeof educationOrganizationId === 'number' && typeof programName === 'string' && typeof programTypeDescriptor === 'string') {
        // The program cannot exist without its type, so a type the lists do not know is added.
        store.addDescriptors('ProgramTypeDescriptor', [programTypeDescriptor]);
        create('programs', { educationOrganizationReference: { educationOrganizationId }, programName, programTypeDescriptor });
      }
    }
  }
  return summary;
}
