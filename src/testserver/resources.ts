// What the test server knows about each Ed-Fi resource it serves: natural key (from the project's
// JSON Schemas), GET query parameters, references to other resources, and the authorization subject.
import { resourceEntityName, resourceNaturalKey } from '../edfi/schemas.js';

export type ResourceName = 'localEducationAgencies' | 'students' | 'programs' | 'studentCTEProgramAssociations';

export const RESOURCE_NAMES: readonly ResourceName[] = ['localEducationAgencies', 'students', 'programs', 'studentCTEProgramAssociations'];

export interface ReferenceRule {
  /** The body property holding the reference, e.g. `programReference`. */
  property: string;
  target: ResourceName;
  /** The table the ODS/API names in "The value supplied for the related '{table}' resource does not exist." */
  table: string;
  /** Reference field -> natural-key path of the target resource. */
  fields: Record<string, string>;
  /** `rel` of the link a GET answer puts in the reference. */
  rel: string;
}

export interface ResourceDefinition {
  name: ResourceName;
  /** Entity name as ODS/API validation messages spell it, e.g. `StudentCTEProgramAssociation`. */
  entity: string;
  /** Entity name as the dependent-delete message spells it, e.g. `studentCTEProgramAssociation`. */
  dependencyName: string;
  naturalKey: string[];
  /** GET query parameter -> body path. */
  queryParameters: Record<string, string>;
  references: ReferenceRule[];
  /** The education organization id that the LEA authorization checks, and the property the 403 names. */
  authorization?: { path: string; property: string };
}

// Education organizations other than LEAs are outside this double, so an educationOrganizationReference resolves to an LEA.
const EDUCATION_ORGANIZATION: Omit<ReferenceRule, 'property'> = {
  target: 'localEducationAgencies',
  table: 'educationOrganization',
  fields: { educationOrganizationId: 'localEducationAgencyId' },
  rel: 'LocalEducationAgency',
};

function define(
  name: ResourceName,
  queryParameters: Record<string, string>,
  references: ReferenceRule[],
  authorization?: ResourceDefinition['authorization'],
): ResourceDefinition {
  const entity = resourceEntityName(name);
  return {
    name,
    entity,
    dependencyName: entity.charAt(0).toLowerCase() + entity.slice(1),
    naturalKey: resourceNaturalKey(name),
    queryParameters,
    references,
    authorization,
  };
}

let definitions: Map<ResourceName, ResourceDefinition> | undefined;

function all(): Map<ResourceName, ResourceDefinition> {
  if (!definitions) {
    definitions = new Map(
      [
        define(
          'localEducationAgencies',
          {
            localEducationAgencyId: 'localEducationAgencyId',
            localEducationAgencyCategoryDescriptor: 'localEducationAgencyCategoryDescriptor',
            nameOfInstitution: 'nameOfInstitution',
          },
          [],
          { path: 'localEducationAgencyId', property: 'LocalEducationAgencyId' },
        ),
        define(
          'students',
          { studentUniqueId: 'studentUniqueId', firstName: 'firstName', lastSurname: 'lastSurname', birthDate: 'birthDate' },
          [],
        ),
        define(
          'programs',
          {
            educationOrganizationId: 'educationOrganizationReference.educationOrganizationId',
            programName: 'programName',
            programTypeDescriptor: 'programTypeDescriptor',
            programId: 'programId',
          },
          [{ property: 'educationOrganizationReference', ...EDUCATION_ORGANIZATION }],
          { path: 'educationOrganizationReference.educationOrganizationId', property: 'EducationOrganizationId' },
        ),
        define(
          'studentCTEProgramAssociations',
          {
            beginDate: 'beginDate',
            educationOrganizationId: 'educationOrganizationReference.educationOrganizationId',
            programEducationOrganizationId: 'programReference.educationOrganizationId',
            programName: 'programReference.programName',
            programTypeDescriptor: 'programReference.programTypeDescriptor',
            studentUniqueId: 'studentReference.studentUniqueId',
            endDate: 'endDate',
            reasonExitedDescriptor: 'reasonExitedDescriptor',
            technicalSkillsAssessmentDescriptor: 'technicalSkillsAssessmentDescriptor',
            nonTraditionalGenderStatus: 'nonTraditionalGenderStatus',
            privateCTEProgram: 'privateCTEProgram',
          },
          [
            { property: 'educationOrganizationReference', ...EDUCATION_ORGANIZATION },
            {
              property: 'programReference',
              target: 'programs',
              table: 'program',
              fields: {
                educationOrganizationId: 'educationOrganizationReference.educationOrganizationId',
                programName: 'programName',
                programTypeDescriptor: 'programTypeDescriptor',
              },
              rel: 'Program',
            },
            { property: 'studentReference', target: 'students', table: 'student', fields: { studentUniqueId: 'studentUniqueId' }, rel: 'Student' },
          ],
          { path: 'educationOrganizationReference.educationOrganizationId', property: 'EducationOrganizationId' },
        ),
      ].map((d) => [d.name, d]),
    );
  }
  return definitions;
}

export function isResourceName(name: string): name is ResourceName {
  return (RESOURCE_NAMES as readonly string[]).includes(name);
}

export function resourceDefinition(name: ResourceName): ResourceDefinition {
  const d = all().get(name);
  if (!d) throw new Error(`Unknown resource ${name}`);
  return d;
}

/** The resources whose references point at `name`, most dependent first (the one a dependent-delete 409 names). */
export function referencesTo(name: ResourceName): { resource: ResourceDefinition; rule: ReferenceRule }[] {
  const out: { resource: ResourceDefinition; rule: ReferenceRule }[] = [];
  for (const resource of [...all().values()].reverse()) {
    for (const rule of resource.references) if (rule.target === name) out.push({ resource, rule });
  }
  return out;
}

/**
 * The /metadata/data/v3/dependencies answer for these resources, with the orders an ODS/API 6.1 (DS 4.0)
 * gives them (../shared/edfi/odsapi-6.1/v6.1-Dependencies-Json.json).
 */
export const DEPENDENCIES: readonly { resource: string; order: number; operations: string[] }[] = [
  { resource: '/ed-fi/students', order: 3, operations: ['Create'] },
  { resource: '/ed-fi/localEducationAgencies', order: 4, operations: ['Create', 'Update'] },
  { resource: '/ed-fi/programs', order: 9, operations: ['Create', 'Update'] },
  { resource: '/ed-fi/students', order: 15, operations: ['Update'] },
  { resource: '/ed-fi/studentCTEProgramAssociations', order: 15, operations: ['Create', 'Update'] },
];
