// The generations of Ed-Fi API a district may send to, and what differs between them for a client:
// where the data and token URLs sit, how a collection is paged, how errors are worded.
// Sources: ../shared/edfi/README.md ("What an ODS/API answers", "Data Standard 5.x ... and the Ed-Fi API v8").

export const API_FLAVORS = ['ods-6', 'ods-7', 'dms'] as const;
export type ApiFlavor = (typeof API_FLAVORS)[number];

export interface FlavorTraits {
  flavor: ApiFlavor;
  /** The name an operator knows it by. */
  label: string;
  /**
   * How a whole collection is read: `offset` (offset/limit, Total-Count) or `cursor` (the first page by `limit`,
   * then `pageToken` from the Next-Page-Token header until a page comes without one).
   */
  paging: 'offset' | 'cursor';
  /** The data path under the API root (after any route context) when the root document names none. */
  dataPath: string;
  /** Largest page the API serves by default. */
  pageSizeCap: number;
}

const TRAITS: Record<ApiFlavor, FlavorTraits> = {
  'ods-6': { flavor: 'ods-6', label: 'Ed-Fi ODS/API 5.x/6.x', paging: 'offset', dataPath: '/data/v3', pageSizeCap: 500 },
  'ods-7': { flavor: 'ods-7', label: 'Ed-Fi ODS/API 7.x', paging: 'offset', dataPath: '/data/v3', pageSizeCap: 500 },
  dms: { flavor: 'dms', label: 'Ed-Fi API v8 (Data Management Service)', paging: 'cursor', dataPath: '/data', pageSizeCap: 500 },
};

export function flavorTraits(flavor: ApiFlavor): FlavorTraits {
  return TRAITS[flavor];
}

export function isApiFlavor(value: string): value is ApiFlavor {
  return (API_FLAVORS as readonly string[]).includes(value);
}

/** `--api-flavor` as the operator typed it; a usage error names the accepted values. */
export function parseApiFlavor(value: string): ApiFlavor {
  const v = value.trim().toLowerCase();
  if (isApiFlavor(v)) return v;
  throw Object.assign(new Error(`--api-flavor must be one of ${API_FLAVORS.join(', ')} (got '${value}')`), { exitCode: 2 });
}
