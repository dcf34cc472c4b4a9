// The project's Ed-Fi JSON Schemas are hand-kept copies of what Ed-Fi-Core.xsd defines. These tests
// re-read the XSD (and the descriptor XML files) and fail when the copies drift from them.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { sharedDir, edfiSchemaDir } from '../src/edfi/repo-paths.js';
import {
  compileResourceValidator,
  listDescriptorValues,
  loadDescriptors,
  loadResourceSchema,
  resourceNaturalKey,
  schemaResources,
} from '../src/edfi/schemas.js';

type Schema = { [key: string]: unknown };

// ---------------------------------------------------------------------------------------------
// Reading the XSD. Plain text parsing is enough: every type is a named top-level definition.

interface XsdElement {
  name: string;
  type: string;
  required: boolean;
  many: boolean;
  descriptor?: string;
  /** The complexType that declares the element (a base type for inherited elements). */
  owner: string;
}

class Xsd {
  constructor(private readonly text: string) {}

  private block(kind: 'complexType' | 'simpleType', name: string): string | undefined {
    const open = new RegExp(`<xs:${kind} name="${name}"[^>]*?(/?)>`).exec(this.text);
    if (!open) return undefined;
    if (open[1] === '/') return '';
    const end = this.text.indexOf(`</xs:${kind}>`, open.index);
    return this.text.slice(open.index, end);
  }

  hasComplexType(name: string): boolean {
    return this.block('complexType', name) !== undefined;
  }

  /** Elements of a complexType, inherited ones first, as the ODS/API flattens a type hierarchy. */
  elements(typeName: string): XsdElement[] {
    const body = this.block('complexType', typeName);
    if (body === undefined) throw new Error(`XSD has no complexType ${typeName}`);
    const base = /<xs:extension base="(\w+)"/.exec(body)?.[1];
    const inherited = base && base !== 'ComplexObjectType' && base !== 'ReferenceType' ? this.elements(base) : [];
    const own: XsdElement[] = [];
    const re = /<xs:element name="(\w+)" type="([\w:]+)"([^>]*?)(\/?)>/g;
    for (let m = re.exec(body); m; m = re.exec(body)) {
      const [, name, type, attrs, selfClosing] = m as unknown as [string, string, string, string, string];
      const inner = selfClosing ? '' : body.slice(re.lastIndex, body.indexOf('</xs:element>', re.lastIndex));
      own.push({
        name,
        type,
        required: !/minOccurs="0"/.test(attrs),
        many: /maxOccurs="unbounded"/.test(attrs),
        descriptor: /<ann:Descriptor>(\w+)<\/ann:Descriptor>/.exec(inner)?.[1],
        owner: typeName,
      });
    }
    return [...inherited, ...own];
  }

  /** maxLength of a string simpleType, or undefined when the type has none. */
  simpleType(name: string): { base: string; maxLength?: number } | undefined {
    const body = this.block('simpleType', name);
    if (body === undefined) return undefined;
    const base = /<xs:restriction base="([\w:]+)"/.exec(body)?.[1] ?? 'xs:string';
    const max = /<xs:maxLength value="(\d+)"/.exec(body)?.[1];
    return { base, maxLength: max === undefined ? undefined : Number(max) };
  }
}

// ---------------------------------------------------------------------------------------------
// What the ODS/API JSON should look like for an XSD type.

interface Expected {
  xsd: string;
  required: boolean;
  /** `unsupported`: an XSD construct these tests do not map; a schema must then leave the property out. */
  kind: 'string' | 'date' | 'integer' | 'boolean' | 'object' | 'array' | 'unsupported';
  /** int32 (xs:int) or int64 (xs:long: educationOrganizationId from Data Standard 5.0 on). */
  format?: string;
  maxLength?: number;
  descriptor?: string;
  minItems?: number;
  /** Properties of an object, or of an array's items. */
  children?: Map<string, Expected>;
}

/** The ODS/API stores descriptor URIs: namespace (255) + '#' + code value (50). */
const DESCRIPTOR_MAX_LENGTH = 306;

/** Where the ODS/API names a collection differently from the plural of the element name. */
const COLLECTION_RENAMES: Record<string, string> = {
  // The collection drops the owning entity's name as a prefix.
  'EducationOrganization.EducationOrganizationCategory': 'categories',
};

/** Common types the ODS/API inlines into their parent instead of nesting an object. */
const INLINED_COMMON_TYPES = new Set(['Name', 'BirthData']);

/** `BeginDate` -> `beginDate`, `CTEProgram` -> `cteProgram`, `CIPCode` -> `cipCode`. */
function odsCamel(name: string): string {
  const run = /^[A-Z]+/.exec(name)?.[0] ?? '';
  if (run.length <= 1) return name.charAt(0).toLowerCase() + name.slice(1);
  if (run.length === name.length) return name.toLowerCase();
  return run.slice(0, -1).toLowerCase() + name.slice(run.length - 1);
}

function plural(name: string): string {
  if (/[^aeiou]y$/.test(name)) return name.slice(0, -1) + 'ies';
  if (/(s|x|ch|sh)$/.test(name)) return name + 'es';
  return name + 's';
}

function collectionName(element: XsdElement): string {
  return COLLECTION_RENAMES[`${element.owner}.${element.name}`] ?? plural(odsCamel(element.name));
}

function isDescriptorType(type: string): boolean {
  return type.endsWith('DescriptorReferenceType');
}

function isReferenceType(xsd: Xsd, type: string): boolean {
  return type.endsWith('ReferenceType') && !isDescriptorType(type) && xsd.hasComplexType(type);
}

/** The identity fields a reference carries, nested references flattened into their own identity fields. */
function referenceIdentity(xsd: Xsd, referenceType: string, where: string): Map<string, Expected> {
  const identity = xsd.elements(referenceType).find((e) => e.type.endsWith('IdentityType'));
  if (!identity) throw new Error(`${referenceType} has no identity`);
  const out = new Map<string, Expected>();
  for (const e of xsd.elements(identity.type)) {
    if (isReferenceType(xsd, e.type)) {
      for (const [k, v] of referenceIdentity(xsd, e.type, `${where}/${e.name}`)) out.set(k, v);
    } else {
      out.set(...scalar(xsd, e, `${where}/${e.name}`));
    }
  }
  return out;
}

function scalar(xsd: Xsd, e: XsdElement, where: string): [string, Expected] {
  if (isDescriptorType(e.type)) {
    return [
      `${odsCamel(e.name)}Descriptor`,
      { xsd: where, required: e.required, kind: 'string', maxLength: DESCRIPTOR_MAX_LENGTH, descriptor: e.descriptor },
    ];
  }
  const name = odsCamel(e.name);
  switch (e.type) {
    case 'xs:date':
      return [name, { xsd: where, required: e.required, kind: 'date' }];
    case 'xs:boolean':
      return [name, { xsd: where, required: e.required, kind: 'boolean' }];
    case 'xs:int':
      return [name, { xsd: where, required: e.required, kind: 'integer', format: 'int32' }];
    case 'xs:long':
      return [name, { xsd: where, required: e.required, kind: 'integer', format: 'int64' }];
    case 'xs:string':
      return [name, { xsd: where, required: e.required, kind: 'string' }];
  }
  const simple = xsd.simpleType(e.type);
  if (!simple) throw new Error(`${where}: ${e.type} is not a simple type`);
  if (simple.base !== 'xs:string') throw new Error(`base ${simple.base} is not mapped`);
  return [name, { xsd: where, required: e.required, kind: 'string', maxLength: simple.maxLength }];
}

/** The JSON properties the ODS/API derives from a complexType. */
function expectedProperties(xsd: Xsd, typeName: string, where = typeName): Map<string, Expected> {
  const out = new Map<string, Expected>();
  for (const e of xsd.elements(typeName)) {
    const at = `${where}/${e.name}`;
    try {
      expandElement(xsd, e, at, out);
    } catch (err) {
      out.set(odsCamel(e.name), { xsd: `${at} (${(err as Error).message})`, required: e.required, kind: 'unsupported' });
    }
  }
  return out;
}

function expandElement(xsd: Xsd, e: XsdElement, at: string, out: Map<string, Expected>): void {
  if (isDescriptorType(e.type) && e.many) {
    const [itemName, item] = scalar(xsd, { ...e, required: true, many: false }, at);
    out.set(collectionName(e), {
      xsd: at,
      required: e.required,
      kind: 'array',
      minItems: e.required ? 1 : undefined,
      children: new Map([[itemName, item]]),
    });
  } else if (isReferenceType(xsd, e.type)) {
    if (e.many) throw new Error('reference collections are not mapped');
    out.set(odsCamel(e.name), { xsd: at, required: e.required, kind: 'object', children: referenceIdentity(xsd, e.type, at) });
  } else if (xsd.hasComplexType(e.type)) {
    const children = expectedProperties(xsd, e.type, at);
    if (INLINED_COMMON_TYPES.has(e.type)) {
      // An inlined common type's fields are required only when the common type itself is.
      for (const [k, v] of children) out.set(k, { ...v, required: v.required && e.required });
    } else if (e.many) {
      out.set(collectionName(e), { xsd: at, required: e.required, kind: 'array', minItems: e.required ? 1 : undefined, children });
    } else {
      out.set(odsCamel(e.name), { xsd: at, required: e.required, kind: 'object', children });
    }
  } else {
    out.set(...scalar(xsd, e, at));
  }
}

/** The natural-key paths of an entity, from its XSD identity type. */
function expectedNaturalKey(xsd: Xsd, entity: string): string[] {
  const paths: string[] = [];
  for (const e of xsd.elements(`${entity}IdentityType`)) {
    if (isReferenceType(xsd, e.type)) {
      for (const k of referenceIdentity(xsd, e.type, e.name).keys()) paths.push(`${odsCamel(e.name)}.${k}`);
    } else {
      paths.push(scalar(xsd, e, e.name)[0]);
    }
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Comparing a JSON Schema with the expectation.

/** Properties the ODS/API adds that the XSD does not define. */
const API_ONLY_TOP = new Set(['id', '_etag', '_lastModifiedDate', '_ext']);
const API_ONLY_REFERENCE = new Set(['link']);

type Mode = 'complete' | 'subset';

function asSchema(value: unknown): Schema | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Schema) : undefined;
}

function compareObject(schema: Schema, expected: Map<string, Expected>, mode: Mode, at: string, apiOnly: Set<string>): string[] {
  const problems: string[] = [];
  const where = at || '(top)';
  if (schema['type'] !== 'object') problems.push(`${where}: type should be object`);
  if (schema['additionalProperties'] !== false) problems.push(`${where}: additionalProperties should be false`);
  const props = asSchema(schema['properties']) ?? {};
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
  for (const [name, exp] of expected) {
    const p = at ? `${at}.${name}` : name;
    const prop = asSchema(props[name]);
    if (!prop) {
      if (mode === 'complete' || exp.required) problems.push(`${p}: missing (XSD ${exp.xsd})`);
      continue;
    }
    if (exp.kind === 'unsupported') {
      problems.push(`${p}: XSD ${exp.xsd}; these tests cannot check it`);
      continue;
    }
    if (required.has(name) !== exp.required) problems.push(`${p}: required should be ${exp.required} (XSD ${exp.xsd})`);
    problems.push(...compareProperty(prop, exp, mode, p));
  }
  for (const name of Object.keys(props)) {
    if (!expected.has(name) && !apiOnly.has(name)) problems.push(`${at ? `${at}.${name}` : name}: not in the XSD`);
  }
  for (const name of required) {
    if (!(name in props)) problems.push(`${where}: requires '${name}', which it does not define`);
  }
  return problems;
}

function compareProperty(prop: Schema, exp: Expected, mode: Mode, p: string): string[] {
  const problems: string[] = [];
  const expectType = exp.kind === 'date' ? 'string' : exp.kind;
  if (prop['type'] !== expectType) problems.push(`${p}: type ${String(prop['type'])}, XSD says ${exp.kind}`);
  if (exp.kind === 'date' && prop['format'] !== 'date') problems.push(`${p}: should have format date`);
  if (exp.kind === 'integer' && prop['format'] !== exp.format) problems.push(`${p}: format ${String(prop['format'])}, XSD says ${String(exp.format)}`);
  if (exp.kind === 'string') {
    if (prop['format'] !== undefined) problems.push(`${p}: unexpected format ${String(prop['format'])}`);
    if (prop['maxLength'] !== exp.maxLength) problems.push(`${p}: maxLength ${String(prop['maxLength'])}, XSD says ${String(exp.maxLength)}`);
    // An empty required string is as good as missing to the ODS/API.
    const minLength = exp.required ? 1 : undefined;
    if (prop['minLength'] !== minLength) problems.push(`${p}: minLength ${String(prop['minLength'])}, expected ${String(minLength)}`);
  }
  if (prop['x-descriptor'] !== exp.descriptor) {
    problems.push(`${p}: x-descriptor ${String(prop['x-descriptor'])}, XSD says ${String(exp.descriptor)}`);
  }
  if (exp.kind === 'object' && exp.children) {
    problems.push(...compareObject(prop, exp.children, mode, p, API_ONLY_REFERENCE));
  }
  if (exp.kind === 'array' && exp.children) {
    if (prop['minItems'] !== exp.minItems) problems.push(`${p}: minItems ${String(prop['minItems'])}, expected ${String(exp.minItems)}`);
    const items = asSchema(prop['items']);
    if (!items) problems.push(`${p}: array without items schema`);
    else problems.push(...compareObject(items, exp.children, mode, `${p}[]`, new Set()));
  }
  return problems;
}

function compareWithXsd(schema: Schema, xsd: Xsd, entity: string, mode: Mode): string[] {
  const problems = compareObject(schema, expectedProperties(xsd, entity), mode, '', API_ONLY_TOP);
  const key = schema['x-naturalKey'];
  const expectedKey = expectedNaturalKey(xsd, entity);
  if (!Array.isArray(key) || [...key].sort().join('|') !== [...expectedKey].sort().join('|')) {
    problems.push(`x-naturalKey ${JSON.stringify(key)}, XSD identity is ${JSON.stringify(expectedKey)}`);
  }
  if (schema['x-entity'] !== entity) problems.push(`x-entity should be ${entity}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Descriptor XML.

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

/** Descriptor name -> `Namespace#CodeValue` list, in file order, for every XML file in the folder. */
function readDescriptorXml(folder: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of fs.readdirSync(folder).filter((f) => f.endsWith('.xml')).sort()) {
    const name = file.slice(0, -4);
    const text = fs.readFileSync(path.join(folder, file), 'utf8');
    const values: string[] = [];
    const re = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const block = m[1] ?? '';
      const code = /<CodeValue>([\s\S]*?)<\/CodeValue>/.exec(block)?.[1];
      const ns = /<Namespace>([\s\S]*?)<\/Namespace>/.exec(block)?.[1];
      if (code === undefined || ns === undefined) throw new Error(`${file}: entry without CodeValue or Namespace`);
      values.push(`${decodeXml(ns.trim())}#${decodeXml(code.trim())}`);
    }
    out.set(name, values);
  }
  return out;
}

/** Lists that are not in the shared descriptor folder; the test server needs them for LEAs. */
const EXTRA_DESCRIPTORS = ['EducationOrganizationCategoryDescriptor', 'LocalEducationAgencyCategoryDescriptor'];

function compareDescriptors(json: Record<string, unknown>, xml: Map<string, string[]>): string[] {
  const problems: string[] = [];
  for (const [name, values] of xml) {
    const ours = json[name];
    if (!Array.isArray(ours)) {
      problems.push(`${name}: missing from descriptors.json`);
      continue;
    }
    const missing = values.filter((v) => !ours.includes(v));
    const extra = ours.filter((v) => !values.includes(String(v)));
    if (missing.length) problems.push(`${name}: missing ${JSON.stringify(missing)}`);
    if (extra.length) problems.push(`${name}: not in the XML ${JSON.stringify(extra)}`);
    if (!missing.length && !extra.length && JSON.stringify(ours) !== JSON.stringify(values)) problems.push(`${name}: order differs from the XML`);
  }
  for (const name of Object.keys(json)) {
    if (xml.has(name)) continue;
    if (!EXTRA_DESCRIPTORS.includes(name)) {
      problems.push(`${name}: neither in the XML folder nor a known extra list`);
      continue;
    }
    const values = json[name];
    if (!Array.isArray(values) || values.length === 0) problems.push(`${name}: should be a non-empty list`);
    else {
      const bad = values.filter((v) => typeof v !== 'string' || !v.startsWith(`uri://ed-fi.org/${name}#`) || v.length > DESCRIPTOR_MAX_LENGTH);
      if (bad.length) problems.push(`${name}: not ed-fi URIs ${JSON.stringify(bad)}`);
    }
  }
  for (const name of EXTRA_DESCRIPTORS) if (!(name in json)) problems.push(`${name}: missing from descriptors.json`);
  return problems;
}

// ---------------------------------------------------------------------------------------------

const RESOURCES: { resource: string; entity: string; mode: Mode }[] = [
  { resource: 'studentCTEProgramAssociations', entity: 'StudentCTEProgramAssociation', mode: 'complete' },
  { resource: 'localEducationAgencies', entity: 'LocalEducationAgency', mode: 'subset' },
  { resource: 'students', entity: 'Student', mode: 'subset' },
  { resource: 'programs', entity: 'Program', mode: 'subset' },
];

function readJson(file: string): Schema {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Schema;
}

/** The Data Standards the project keeps schemas for: 4.0 at the top of schemas/edfi, others in a folder each. */
const STANDARDS: { standard: string; xsdFolder: string; folder: string }[] = [
  { standard: '4.0', xsdFolder: 'ds-4.0.0', folder: '' },
  { standard: '5.2', xsdFolder: 'ds-5.2.0', folder: 'ds-5.2' },
];

function schemaFor(resource: string, folder = ''): Schema {
  return readJson(path.join(edfiSchemaDir(), folder, `${resource}.schema.json`));
}

/** Follow a dotted path of `properties` (`programReference.programName`), `[]` stepping into items. */
function propertyAt(schema: Schema, dotted: string): Schema {
  let node: Schema = schema;
  for (const part of dotted.split('.')) {
    const isArray = part.endsWith('[]');
    const name = isArray ? part.slice(0, -2) : part;
    const next = asSchema(asSchema(node['properties'])?.[name]);
    if (!next) throw new Error(`no property ${dotted}`);
    node = isArray ? (asSchema(next['items']) as Schema) : next;
  }
  return node;
}

for (const { standard, xsdFolder, folder } of STANDARDS) {
  describe(`Ed-Fi JSON Schemas agree with Ed-Fi-Core.xsd (DS ${standard})`, () => {
    let xsd: Xsd;

    before(() => {
      xsd = new Xsd(fs.readFileSync(path.join(sharedDir(), 'edfi', xsdFolder, 'Ed-Fi-Core.xsd'), 'utf8'));
    });

    it('has a schema file for each resource the engine and the test server use', () => {
      expect(schemaResources(folder)).to.include.members(RESOURCES.map((r) => r.resource));
    });

    for (const { resource, entity, mode } of RESOURCES) {
      it(`${resource}: names, types, required flags, max lengths and natural key match ${entity}`, () => {
        expect(compareWithXsd(schemaFor(resource, folder), xsd, entity, mode)).to.deep.equal([]);
      });
    }
  });
}

describe('Ed-Fi JSON Schemas: the XSD reading and the drift checks', () => {
  let xsd: Xsd;

  before(() => {
    xsd = new Xsd(fs.readFileSync(path.join(sharedDir(), 'edfi', 'ds-4.0.0', 'Ed-Fi-Core.xsd'), 'utf8'));
  });

  it('reads the XSD the way the ODS/API presents it (spot checks of the expectation itself)', () => {
    const expected = expectedProperties(xsd, 'StudentCTEProgramAssociation');
    expect([...expected.keys()]).to.include.members([
      'beginDate',
      'ctePrograms',
      'cteProgramServices',
      'programParticipationStatuses',
      'participationStatus',
      'technicalSkillsAssessmentDescriptor',
    ]);
    const ctePrograms = expected.get('ctePrograms');
    expect(ctePrograms?.kind).to.equal('array');
    expect(ctePrograms?.children?.get('careerPathwayDescriptor')).to.include({ required: true, descriptor: 'CareerPathwayDescriptor' });
    expect(ctePrograms?.children?.get('cipCode')?.maxLength).to.equal(120);
    const programReference = expected.get('programReference')?.children;
    expect([...(programReference?.keys() ?? [])]).to.have.members(['educationOrganizationId', 'programName', 'programTypeDescriptor']);
    expect(programReference?.get('programName')?.maxLength).to.equal(60);
    expect(expectedProperties(xsd, 'LocalEducationAgency').get('categories')).to.include({ required: true, minItems: 1 });
    expect(odsCamel('CIPCode')).to.equal('cipCode');
    expect(odsCamel('PrimaryCTEProgramIndicator')).to.equal('primaryCTEProgramIndicator');
  });

  describe('the comparison catches drift', () => {
    const sctpa = (): Schema => schemaFor('studentCTEProgramAssociations');
    const problemsOf = (s: Schema, mode: Mode = 'complete'): string[] => compareWithXsd(s, xsd, 'StudentCTEProgramAssociation', mode);

    it('a wrong max length', () => {
      const s = sctpa();
      propertyAt(s, 'programReference.programName')['maxLength'] = 75;
      expect(problemsOf(s)).to.deep.equal(['programReference.programName: maxLength 75, XSD says 60']);
    });

    it('a wrong descriptor max length', () => {
      const s = sctpa();
      propertyAt(s, 'ctePrograms[].careerPathwayDescriptor')['maxLength'] = 255;
      expect(problemsOf(s)).to.deep.equal(['ctePrograms[].careerPathwayDescriptor: maxLength 255, XSD says 306']);
    });

    it('a missing property, even an optional one', () => {
      const s = sctpa();
      delete (asSchema(s['properties']) as Schema)['privateCTEProgram'];
      expect(problemsOf(s)).to.deep.equal(['privateCTEProgram: missing (XSD StudentCTEProgramAssociation/PrivateCTEProgram)']);
    });

    it('a missing required property in a subset schema', () => {
      const s = schemaFor('students');
      delete (asSchema(s['properties']) as Schema)['birthDate'];
      s['required'] = (s['required'] as string[]).filter((r) => r !== 'birthDate');
      const problems = compareWithXsd(s, xsd, 'Student', 'subset');
      expect(problems).to.deep.equal(['birthDate: missing (XSD Student/BirthData/BirthDate)']);
    });

    it('a property the XSD does not have', () => {
      const s = sctpa();
      propertyAt(s, 'ctePrograms[]')['properties'] = { ...(asSchema(propertyAt(s, 'ctePrograms[]')['properties']) ?? {}), careerPathway: { type: 'string' } };
      expect(problemsOf(s)).to.deep.equal(['ctePrograms[].careerPathway: not in the XSD']);
    });

    it('a wrong required flag, in either direction', () => {
      const s = sctpa();
      s['required'] = ['beginDate', 'educationOrganizationReference', 'programReference', 'endDate'];
      expect(problemsOf(s)).to.have.members([
        'studentReference: required should be true (XSD StudentCTEProgramAssociation/StudentReference)',
        'endDate: required should be false (XSD StudentCTEProgramAssociation/EndDate)',
      ]);
    });

    it('a wrong type, a lost date format, a wrong descriptor name, an open object', () => {
      const s = sctpa();
      propertyAt(s, 'nonTraditionalGenderStatus')['type'] = 'string';
      delete propertyAt(s, 'endDate')['format'];
      propertyAt(s, 'reasonExitedDescriptor')['x-descriptor'] = 'ExitWithdrawTypeDescriptor';
      propertyAt(s, 'studentReference')['additionalProperties'] = true;
      expect(problemsOf(s)).to.have.members([
        'nonTraditionalGenderStatus: type string, XSD says boolean',
        'endDate: should have format date',
        'reasonExitedDescriptor: x-descriptor ExitWithdrawTypeDescriptor, XSD says ReasonExitedDescriptor',
        'studentReference: additionalProperties should be false',
      ]);
    });

    it('a wrong natural key', () => {
      const s = sctpa();
      s['x-naturalKey'] = (s['x-naturalKey'] as string[]).filter((k) => k !== 'beginDate');
      expect(problemsOf(s)).to.have.length(1);
      expect(problemsOf(s)[0]).to.match(/^x-naturalKey/);
    });
  });
});

describe('Data Standard 5.2: what changed for studentCTEProgramAssociations', () => {
  let xsd5: Xsd;
  const dms = (): Schema => {
    const file = path.join(sharedDir(), 'edfi', 'dms-8', 'studentCTEProgramAssociations.ds-5.0.ApiSchema.json');
    return readJson(file)['jsonSchemaForInsert'] as Schema;
  };

  before(() => {
    xsd5 = new Xsd(fs.readFileSync(path.join(sharedDir(), 'edfi', 'ds-5.2.0', 'Ed-Fi-Core.xsd'), 'utf8'));
  });

  it('the DS 5.2 schema lacks ctePrograms, services and participationStatus, which the DS 4.0 schema has', () => {
    const four = Object.keys(asSchema(schemaFor('studentCTEProgramAssociations')['properties']) ?? {});
    const five = Object.keys(asSchema(schemaFor('studentCTEProgramAssociations', 'ds-5.2')['properties']) ?? {});
    expect(four.filter((p) => !five.includes(p))).to.have.members(['ctePrograms', 'services', 'participationStatus']);
    expect(five.filter((p) => !four.includes(p))).to.deep.equal([]);
  });

  it('catches a dropped element put back and an educationOrganizationId left 32-bit', () => {
    const s = schemaFor('studentCTEProgramAssociations', 'ds-5.2');
    (asSchema(s['properties']) as Schema)['ctePrograms'] = asSchema(schemaFor('studentCTEProgramAssociations')['properties'])?.['ctePrograms'];
    propertyAt(s, 'programReference.educationOrganizationId')['format'] = 'int32';
    expect(compareWithXsd(s, xsd5, 'StudentCTEProgramAssociation', 'complete')).to.have.members([
      'ctePrograms: not in the XSD',
      'programReference.educationOrganizationId: format int32, XSD says int64',
    ]);
  });

  it('agrees with the Ed-Fi API v8 (DMS) ApiSchema: the same properties at every level, required lists and max lengths', () => {
    const problems: string[] = [];
    const compare = (ours: Schema, theirs: Schema, at: string): void => {
      const ourProps = asSchema(ours['properties']) ?? {};
      const theirProps = asSchema(theirs['properties']) ?? {};
      const apiOnly = new Set(['id', '_etag', '_lastModifiedDate', 'link']);
      const mine = Object.keys(ourProps).filter((k) => !apiOnly.has(k)).sort();
      const dmsNames = Object.keys(theirProps).sort();
      if (mine.join() !== dmsNames.join()) problems.push(`${at || '(top)'}: ours ${mine.join(',')} vs DMS ${dmsNames.join(',')}`);
      const req = (x: Schema): string => ((x['required'] as string[] | undefined) ?? []).slice().sort().join();
      if (req(ours) !== req(theirs)) problems.push(`${at || '(top)'}: required ${req(ours)} vs DMS ${req(theirs)}`);
      for (const name of dmsNames) {
        const o = asSchema(ourProps[name]);
        const t = asSchema(theirProps[name]);
        if (!o || !t) continue;
        const p = at ? `${at}.${name}` : name;
        if (o['type'] !== t['type']) problems.push(`${p}: type ${String(o['type'])} vs DMS ${String(t['type'])}`);
        // The DMS sets no maxLength on descriptor URIs (the ODS/API's 306 is ours): only the others are compared.
        if (t['maxLength'] !== undefined && o['maxLength'] !== t['maxLength']) problems.push(`${p}: maxLength ${String(o['maxLength'])} vs DMS ${String(t['maxLength'])}`);
        if (o['type'] === 'object' && name !== '_ext') compare(o, t, p);
        if (o['type'] === 'array') compare(asSchema(o['items']) ?? {}, asSchema(t['items']) ?? {}, `${p}[]`);
      }
    };
    compare(schemaFor('studentCTEProgramAssociations', 'ds-5.2'), dms(), '');
    expect(problems).to.deep.equal([]);
  });
});

describe('descriptors.json agrees with the DS 4.0 descriptor XML', () => {
  let xml: Map<string, string[]>;
  let json: Record<string, unknown>;

  before(() => {
    xml = readDescriptorXml(path.join(sharedDir(), 'edfi', 'descriptors-ds-4.0.0'));
    json = readJson(path.join(edfiSchemaDir(), 'descriptors.json'));
  });

  it('reads every descriptor XML file', () => {
    expect([...xml.keys()]).to.include.members(['CareerPathwayDescriptor', 'ProgramTypeDescriptor', 'CTEProgramServiceDescriptor']);
    expect(xml.get('CareerPathwayDescriptor')).to.include('uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing');
  });

  it('has exactly the XML code values, in order, plus the two LEA lists', () => {
    expect(compareDescriptors(json, xml)).to.deep.equal([]);
  });

  it('catches a missing, an extra and an unknown list', () => {
    const drifted: Record<string, unknown> = structuredClone(json);
    drifted['CareerPathwayDescriptor'] = (drifted['CareerPathwayDescriptor'] as string[]).slice(1);
    (drifted['ServiceDescriptor'] as string[]).push('uri://ed-fi.org/ServiceDescriptor#Made Up');
    drifted['SexDescriptor'] = ['uri://ed-fi.org/SexDescriptor#Female'];
    delete drifted['LocalEducationAgencyCategoryDescriptor'];
    const problems = compareDescriptors(drifted, xml);
    expect(problems).to.have.length(4);
    expect(problems.join('\n')).to.contain('CareerPathwayDescriptor: missing').and.contain('ServiceDescriptor: not in the XML').and.contain('SexDescriptor').and.contain('LocalEducationAgencyCategoryDescriptor: missing');
  });

  it('every x-descriptor used by a schema has a list', () => {
    const names = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'x-descriptor' && typeof v === 'string') names.add(v);
          else walk(v);
        }
      }
    };
    for (const { resource } of RESOURCES) walk(schemaFor(resource));
    expect([...names].filter((n) => !(n in json))).to.deep.equal([]);
  });
});

describe('src/edfi/schemas', () => {
  const valid = {
    beginDate: '2024-08-20',
    educationOrganizationReference: { educationOrganizationId: 255901 },
    programReference: {
      educationOrganizationId: 255901,
      programName: 'Career and Technical Education',
      programTypeDescriptor: 'uri://ed-fi.org/ProgramTypeDescriptor#Career and Technical Education',
    },
    studentReference: { studentUniqueId: '604822' },
    ctePrograms: [{ careerPathwayDescriptor: 'uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing', cipCode: '48.0501' }],
  };

  it('accepts a valid body, a PUT body with id and _ext, and a body read back with links and _etag', () => {
    const validate = compileResourceValidator('studentCTEProgramAssociations');
    expect(validate(valid)).to.deep.equal({ ok: true });
    expect(validate({ ...valid, id: 'a'.repeat(32), _ext: { mo: {} } })).to.deep.equal({ ok: true });
    const readBack = {
      ...valid,
      studentReference: { studentUniqueId: '604822', link: { rel: 'Student', href: '/ed-fi/students/x' } },
      _etag: '5250549902882281409',
      _lastModifiedDate: '2024-08-20T10:00:00Z',
    };
    expect(validate(readBack)).to.deep.equal({ ok: true });
  });

  it('compiles once', () => {
    expect(compileResourceValidator('programs')).to.equal(compileResourceValidator('programs'));
  });

  it('words errors like the ODS/API, with dotted paths', () => {
    const validate = compileResourceValidator('studentCTEProgramAssociations');
    const result = validate({
      ...valid,
      beginDate: '2024-02-30',
      studentReference: {},
      programReference: { ...valid.programReference, programName: 'x'.repeat(61) },
      ctePrograms: [{ cipCode: '1' }],
      unknownField: true,
    });
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.errors).to.deep.include({ path: 'studentReference.studentUniqueId', message: 'studentReference.studentUniqueId is required' });
    expect(result.errors).to.deep.include({
      path: 'programReference.programName',
      message: 'The field programReference.programName must be a string with a maximum length of 60',
    });
    expect(result.errors).to.deep.include({ path: 'beginDate', message: 'beginDate must be a date (yyyy-mm-dd)' });
    expect(result.errors).to.deep.include({ path: 'ctePrograms[0].careerPathwayDescriptor', message: 'ctePrograms[0].careerPathwayDescriptor is required' });
    expect(result.errors).to.deep.include({ path: 'unknownField', message: 'unknownField is not a recognized property' });
  });

  it('treats an empty required string as missing and rejects an educationOrganizationId beyond int32', () => {
    const validate = compileResourceValidator('studentCTEProgramAssociations');
    const result = validate({ ...valid, studentReference: { studentUniqueId: '' }, educationOrganizationReference: { educationOrganizationId: 2 ** 31 } });
    expect(result).to.deep.equal({
      ok: false,
      errors: [
        { path: 'educationOrganizationReference.educationOrganizationId', message: 'educationOrganizationReference.educationOrganizationId must be a 32-bit integer' },
        { path: 'studentReference.studentUniqueId', message: 'studentReference.studentUniqueId is required' },
      ],
    });
  });

  it('requires at least one category on a local education agency', () => {
    const result = compileResourceValidator('localEducationAgencies')({
      localEducationAgencyId: 255901,
      nameOfInstitution: 'Grand Bend ISD',
      categories: [],
      localEducationAgencyCategoryDescriptor: 'uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent',
    });
    expect(result).to.deep.equal({ ok: false, errors: [{ path: 'categories', message: 'categories must contain at least 1 item(s)' }] });
  });

  it('loads descriptors as sets and lists the descriptor values of a body', () => {
    const descriptors = loadDescriptors();
    expect(descriptors.get('CareerPathwayDescriptor')?.has('uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing')).to.equal(true);
    descriptors.get('CareerPathwayDescriptor')?.add('changed');
    expect(loadDescriptors().get('CareerPathwayDescriptor')?.has('changed')).to.equal(false);
    expect(listDescriptorValues('studentCTEProgramAssociations', valid)).to.deep.equal([
      { path: 'programReference.programTypeDescriptor', descriptor: 'ProgramTypeDescriptor', value: valid.programReference.programTypeDescriptor },
      { path: 'ctePrograms[0].careerPathwayDescriptor', descriptor: 'CareerPathwayDescriptor', value: valid.ctePrograms[0]?.careerPathwayDescriptor },
    ]);
  });

  it('exposes the natural key and returns schema copies', () => {
    expect(resourceNaturalKey('studentCTEProgramAssociations')).to.have.length(6);
    const schema = loadResourceSchema('students') as Schema;
    schema['title'] = 'changed';
    expect((loadResourceSchema('students') as Schema)['title']).to.equal('Student');
    expect(() => loadResourceSchema('../package')).to.throw(/Not a resource name/);
  });
});
