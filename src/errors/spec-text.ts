// The specifications' Error Log texts carry placeholders ("Validation of ' RESOURCE ' failed. FIELD is required.").
// A district user reading the error log needs them filled with the resource and field of the record at hand,
// taken from the resource the engine sent and from the API's (or the engine's own) message.

/** `studentCTEProgramAssociations` -> `StudentCTEProgramAssociation`, the entity name an ODS/API uses in its messages. */
export function entityName(resource: string): string {
  const last = resource.split('/').filter(Boolean).pop() ?? resource;
  const singular = last.endsWith('ies') ? `${last.slice(0, -3)}y` : last.endsWith('s') ? last.slice(0, -1) : last;
  return singular.charAt(0).toUpperCase() + singular.slice(1);
}

const FIELD_PATTERNS: RegExp[] = [
  // Ed-Fi schema checks and ODS/API 5.x/6.x texts: "programReference.programName is required"
  /(?:^|[\s'"(])([A-Za-z_$][\w.$[\]]*) is required/g,
  // "The field programReference.programName must be a string with a maximum length of 60"
  /\bThe field ([A-Za-z_$][\w.$[\]]*)/g,
  // ODS/API 5.x/6.x model validation: "The BeginDate field is required."
  /\bThe ([A-Za-z_$][\w.$[\]]*) field is required/g,
  // The engine's descriptor check: "not on the state's published descriptor list: cteProgramServices[0].x: '...'"
  /descriptor list: ([A-Za-z_$][\w.$[\]]*):\s/g,
  // modelState / validationErrors keys and the engine's "path: problem" lines
  /(?:^|;\s|\.\s)((?:request\.|\$\.)?[A-Za-z_][\w$]*(?:(?:\.|\[\d+\]\.?)[A-Za-z_$][\w$]*|\[\d+\])*):\s/g,
];

/** The fields a message names, in order of appearance, without request./$. prefixes. */
export function fieldsNamed(message: string): string[] {
  const found: Array<{ at: number; field: string }> = [];
  for (const re of FIELD_PATTERNS) {
    for (const m of message.matchAll(re)) found.push({ at: m.index ?? 0, field: m[1]!.replace(/^(request\.|\$\.)/, '') });
  }
  const out: string[] = [];
  for (const { field } of found.sort((a, b) => a.at - b.at)) {
    // ODS/API texts name a field twice, as a model path and in its message ("request.x: X is required").
    // Words of a sentence are no field ("The BeginDate field is required" names BeginDate, not "field").
    if (!out.some((f) => f.toLowerCase() === field.toLowerCase()) && !/^(Validation|Authorization|message|detail|field|value|it|this|property|element)$/i.test(field)) out.push(field);
  }
  return out;
}

/** The resource a reference error points at: "existing 'CareerPathwayDescriptor' resource", "related 'Student' resource". */
export function referencedResource(message: string): string | undefined {
  const patterns = [
    /existing '([^']+)' resource/i,
    /related '([^']+)' resource/i,
    /\b([A-Z]\w+) reference could not be resolved/,
    /referenced (\w+) \{/,
    // ODS/API 7.x problem+json detail: "The referenced 'Student' item does not exist."
    /referenced '([^']+)' item/i,
    // ODS/API 7.2+ and the DMS on a descriptor: "CareerPathwayDescriptor value 'uri://...' does not exist."
    /\b(\w+Descriptor) value '/,
    // The engine's own check of a state's published list: "... is not a published CTEProgramServiceDescriptor value".
    /is not a published (\w+) value/,
    // The reference property itself, as problem+json validationErrors and other implementations name it:
    // "$.programReference: Program is not resolved", "studentReference could not be resolved".
    /(?:^|[\s.$'"])([a-z]\w*)Reference\b/,
  ];
  for (const re of patterns) {
    const m = re.exec(message);
    if (m) return entityName(m[1]!);
  }
  return undefined;
}

/**
 * The entity that still references a record the API refused to delete: "dependency of the 'X' entity" (ODS/API
 * 5.x/6.x), "referenced by an existing 'X' item" (7.x), "referenced by existing X item(s)" (the DMS).
 */
function dependentEntity(message: string): string | undefined {
  for (const re of [/dependency of the '([^']+)' entity/i, /referenced by an existing '([^']+)' item/i, /referenced by existing '?(\w+)'? item/i]) {
    const m = re.exec(message);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * The spec's error text with RESOURCE and FIELD filled in. The resource is the one the record belongs to, except
 * where the text speaks of another one: the referenced resource ("RESOURCE reference could not be resolved") and the
 * entity that depends on the record ("dependency of the 'RESOURCE' entity").
 */
export function fillSpecText(specMessage: string, resource: string | null, message: string): string {
  const own = resource ? entityName(resource) : 'RESOURCE';
  const fields = fieldsNamed(message);
  let text = specMessage;
  const referenced = referencedResource(message);
  if (referenced) text = text.replace(/\bRESOURCE reference\b/, `${referenced} reference`);
  // The dependent entity is never the record's own resource: when the API does not name it (ODS/API 7.x's default
  // "this item is referenced by another item"), the text says so rather than pointing the fix at the record itself.
  const dependent = dependentEntity(message);
  text = text.replace(/dependency of the '\s*RESOURCE\s*' entity/, dependent ? `dependency of the '${dependent}' entity` : 'dependency of an entity the API did not name');
  text = text.replace(/'\s*RESOURCE\s*'/g, `'${own}'`).replace(/\bRESOURCE\b/g, own);
  const field = fields.length > 0 ? fields.join(', ') : '(a field the message does not name)';
  return text.replace(/\bFIELD\b/g, field);
}
