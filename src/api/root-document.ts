// The document every Ed-Fi API answers at its root URL (the Ed-Fi Discovery API, "version endpoint"): its version,
// the data models it serves and the URLs of its token endpoint and data API. Read liberally, checked strictly where
// the engine depends on a member: a document without urls.oauth or urls.dataManagementApi cannot be used.

import { type ApiFlavor } from './flavor.js';

export interface DataModel {
  name: string;
  version: string;
}

export interface RootDocument {
  version: string;
  applicationName?: string;
  suite?: string;
  /** ODS/API 5.x/6.x: 'Shared Instance', 'Year Specific', 'Instance Year Specific', 'District Specific', ... */
  apiMode?: string;
  dataModels: DataModel[];
  /** URL templates, possibly with route-context placeholders such as {schoolYearFromRoute}. */
  oauthUrl: string;
  dataUrl: string;
  dependenciesUrl?: string;
}

/** The root URL did not give a usable discovery document (or could not be read at all). */
export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
  /** EXIT.unreachable: the API cannot be used as given. */
  readonly exitCode = 6;
}

type JsonRecord = Record<string, unknown>;

function isRecord(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Member names are matched without regard to case: ODS/API serializers have differed (urls / Urls). */
function member(obj: JsonRecord, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function parseRootDocument(json: unknown, rootUrl: string): RootDocument {
  const where = `the root document of ${rootUrl}`;
  if (!isRecord(json)) throw new DiscoveryError(`${where} is not a JSON object: is --api-base the API's root URL?`);
  const urls = member(json, 'urls');
  if (!isRecord(urls)) throw new DiscoveryError(`${where} has no 'urls': is --api-base the API's root URL (not its data path)?`);
  const oauthUrl = text(member(urls, 'oauth'));
  const dataUrl = text(member(urls, 'dataManagementApi'));
  const missing = [oauthUrl ? '' : 'urls.oauth', dataUrl ? '' : 'urls.dataManagementApi'].filter(Boolean);
  if (missing.length > 0 || !oauthUrl || !dataUrl) throw new DiscoveryError(`${where} gives no ${missing.join(' and ')}`);
  const models = member(json, 'dataModels');
  const dataModels: DataModel[] = [];
  if (Array.isArray(models)) {
    for (const m of models) {
      if (!isRecord(m)) continue;
      const name = text(member(m, 'name'));
      const version = text(member(m, 'version'));
      if (name && version) dataModels.push({ name, version });
    }
  }
  return {
    version: text(member(json, 'version')) ?? '',
    applicationName: text(member(json, 'applicationName')),
    suite: text(member(json, 'suite')),
    apiMode: text(member(json, 'apiMode')),
    dataModels,
    oauthUrl,
    dataUrl,
    dependenciesUrl: text(member(urls, 'dependencies')),
  };
}

/** The version of the Ed-Fi data model (the Data Standard) the API serves, e.g. '4.0.0' or '5.2.0'. */
export function edfiDataStandard(doc: RootDocument): string | undefined {
  return doc.dataModels.find((m) => m.name.toLowerCase() === 'ed-fi')?.version;
}

/**
 * Which generation answered, from what its root document says: the DMS names itself and has no /v3 in its data
 * URL; the ODS/API reports its own version (7.x, or 3.x to 6.x for the older ones that share 6.x's shapes).
 * Undefined when the document does not tell.
 */
export function inferFlavor(doc: RootDocument): ApiFlavor | undefined {
  if (/data management service/i.test(doc.applicationName ?? '')) return 'dms';
  const major = Number.parseInt(doc.version, 10);
  if (Number.isFinite(major)) {
    if (major >= 8) return 'dms';
    if (major === 7) return 'ods-7';
    if (major >= 3 && major <= 6) return 'ods-6';
  }
  if (!/\/data\/v\d+(\/|$)/.test(doc.dataUrl) && /\/data\/?$/.test(doc.dataUrl)) return 'dms';
  return undefined;
}
