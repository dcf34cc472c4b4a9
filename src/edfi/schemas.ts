// The project's Ed-Fi JSON Schemas (schemas/edfi/*.schema.json) and descriptor lists, and a body
// validator whose messages read like the ODS/API's, so a body can be checked before it is sent.
import fs from 'node:fs';
import path from 'node:path';
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { edfiSchemaDir } from './repo-paths.js';

// ajv and ajv-formats are CommonJS; under NodeNext their default export is reached through `.default`.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

/** A JSON Schema object as read from disk. */
export type JsonSchema = { [key: string]: unknown };

export interface BodyError {
  /** Dotted path of the offending property, e.g. `programReference.programName` or `ctePrograms[0].cipCode`. */
  path: string;
  message: string;
}

export type BodyValidation = { ok: true } | { ok: false; errors: BodyError[] };
export type BodyValidator = (body: unknown) => BodyValidation;

/** One descriptor-valued property found in a body. */
export interface DescriptorValue {
  path: string;
  /** Descriptor name from the schema's `x-descriptor`, e.g. `CareerPathwayDescriptor`. */
  descriptor: string;
  value: string;
}

/** Schema keywords of ours that only annotate; ajv's strict mode must be told about them. */
const ANNOTATION_KEYWORDS = ['x-naturalKey', 'x-entity', 'x-descriptor', 'x-itemIdentity'];

const schemaCache = new Map<string, JsonSchema>();
const validatorCache = new Map<string, BodyValidator>();
let ajvInstance: InstanceType<typeof Ajv> | undefined;

function ajv(): InstanceType<typeof Ajv> {
  if (!ajvInstance) {
    ajvInstance = new Ajv({ allErrors: true, strict: true });
    addFormats(ajvInstance);
    for (const keyword of ANNOTATION_KEYWORDS) ajvInstance.addKeyword({ keyword, schemaType: ['string', 'array'] });
  }
  return ajvInstance;
}

/**
 * `studentCTEProgramAssociations` is the Data Standard 4.0 schema in schemas/edfi/; another standard's schemas sit
 * in a folder named for it: `ds-5.2/studentCTEProgramAssociations` is schemas/edfi/ds-5.2/....
 */
function schemaFile(resource: string): string {
  // The resource name becomes a file name: keep it to a plain identifier, after an optional standard folder.
  if (!/^(?:ds-[0-9][0-9.]*\/)?[A-Za-z][A-Za-z0-9]*$/.test(resource)) throw new Error(`Not a resource name: '${resource}'`);
  return path.join(edfiSchemaDir(), `${resource}.schema.json`);
}

/** The schema name of `resource` in a standard's folder ('' for the Data Standard 4.0 schemas at the top). */
export function schemaName(standardFolder: string, resource: string): string {
  return standardFolder === '' ? resource : `${standardFolder}/${resource}`;
}

function readSchema(resource: string): JsonSchema {
  let schema = schemaCache.get(resource);
  if (!schema) {
    const file = schemaFile(resource);
    if (!fs.existsSync(file)) throw new Error(`No Ed-Fi schema for resource '${resource}' (${path.basename(file)})`);
    schema = JSON.parse(fs.readFileSync(file, 'utf8')) as JsonSchema;
    schemaCache.set(resource, schema);
  }
  return schema;
}

/** The JSON Schema of a resource's POST/PUT body, e.g. `loadResourceSchema('studentCTEProgramAssociations')`. */
export function loadResourceSchema(resource: string): object {
  return structuredClone(readSchema(resource));
}

/** The names of the resources that have a schema in schemas/edfi (or in one standard's folder of it). */
export function schemaResources(standardFolder = ''): string[] {
  return fs
    .readdirSync(path.join(edfiSchemaDir(), standardFolder))
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => f.slice(0, -'.schema.json'.length))
    .sort();
}

/** Dotted natural-key paths of a resource (the schema's `x-naturalKey`). */
export function resourceNaturalKey(resource: string): string[] {
  const key = readSchema(resource)['x-naturalKey'];
  if (!Array.isArray(key) || !key.every((k): k is string => typeof k === 'string')) {
    throw new Error(`Schema of '${resource}' has no x-naturalKey list`);
  }
  return [...key];
}

/** The Ed-Fi entity name of a resource as ODS/API messages spell it, e.g. `StudentCTEProgramAssociation`. */
export function resourceEntityName(resource: string): string {
  const entity = readSchema(resource)['x-entity'];
  if (typeof entity !== 'string') throw new Error(`Schema of '${resource}' has no x-entity`);
  return entity;
}

/** A validator for a resource's body, compiled once per process. */
export function compileResourceValidator(resource: string): BodyValidator {
  let validator = validatorCache.get(resource);
  if (!validator) {
    const validate = ajv().compile(readSchema(resource));
    validator = (body: unknown): BodyValidation => {
      if (validate(body)) return { ok: true };
      return { ok: false, errors: describeErrors(validate) };
    };
    validatorCache.set(resource, validator);
  }
  return validator;
}

/** Descriptor name -> allowed URIs, from schemas/edfi/descriptors.json. A fresh copy each call, safe to extend. */
export function loadDescriptors(): Map<string, Set<string>> {
  const raw = JSON.parse(fs.readFileSync(path.join(edfiSchemaDir(), 'descriptors.json'), 'utf8')) as Record<string, unknown>;
  const result = new Map<string, Set<string>>();
  for (const [name, values] of Object.entries(raw)) {
    if (!Array.isArray(values)) throw new Error(`descriptors.json: '${name}' is not a list`);
    result.set(name, new Set(values.map(String)));
  }
  return result;
}

/** Every descriptor-valued property present in a body, found through the schema's `x-descriptor` marks. */
export function listDescriptorValues(resource: string, body: unknown): DescriptorValue[] {
  const found: DescriptorValue[] = [];
  collectDescriptors(readSchema(resource), body, '', found);
  return found;
}

function collectDescriptors(schema: JsonSchema, value: unknown, at: string, found: DescriptorValue[]): void {
  const descriptor = schema['x-descriptor'];
  if (typeof descriptor === 'string') {
    if (typeof value === 'string') found.push({ path: at, descriptor, value });
    return;
  }
  if (Array.isArray(value)) {
    const items = schema['items'];
    if (isSchema(items)) value.forEach((item, i) => collectDescriptors(items, item, `${at}[${i}]`, found));
    return;
  }
  const properties = schema['properties'];
  if (value !== null && typeof value === 'object' && isSchema(properties)) {
    for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
      const childSchema = properties[name];
      if (isSchema(childSchema)) collectDescriptors(childSchema, child, at ? `${at}.${name}` : name, found);
    }
  }
}

function isSchema(value: unknown): value is JsonSchema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `/ctePrograms/0/cipCode` -> `ctePrograms[0].cipCode`. */
export function pointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

function join(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}

function describeErrors(validate: ValidateFunction): BodyError[] {
  const errors = (validate.errors ?? []).map(describeError);
  // allErrors can report one problem more than once (e.g. type and format); keep the first of each.
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.path}\u0000${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function describeError(error: ErrorObject): BodyError {
  const at = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const shown = at || 'The request body';
  switch (error.keyword) {
    case 'required': {
      const p = join(at, String(params['missingProperty']));
      return { path: p, message: `${p} is required` };
    }
    case 'minLength':
      // The ODS/API rejects an empty required string as missing.
      if (params['limit'] === 1) return { path: at, message: `${at} is required` };
      return { path: at, message: `The field ${at} must be a string with a minimum length of ${String(params['limit'])}` };
    case 'maxLength':
      return { path: at, message: `The field ${at} must be a string with a maximum length of ${String(params['limit'])}` };
    case 'minItems':
      return { path: at, message: `${at} must contain at least ${String(params['limit'])} item(s)` };
    case 'additionalProperties': {
      const p = join(at, String(params['additionalProperty']));
      return { path: p, message: `${p} is not a recognized property` };
    }
    case 'type':
      return { path: at, message: at ? `${at} must be of type ${String(params['type'])}` : 'The request body must be a JSON object' };
    case 'format':
      if (params['format'] === 'date') return { path: at, message: `${at} must be a date (yyyy-mm-dd)` };
      if (params['format'] === 'int32') return { path: at, message: `${at} must be a 32-bit integer` };
      if (params['format'] === 'int64') return { path: at, message: `${at} must be a 64-bit integer` };
      return { path: at, message: `${at} must match format ${String(params['format'])}` };
    default:
      return { path: at, message: `${shown} ${error.message ?? 'is invalid'}` };
  }
}
