// What the ODS holds of a resource, for resync. Read page by page in the API's paging style; when the API cannot
// list (an implementation without its search backend answers 500, or 400 to a query parameter), every mapped
// record is looked up by its id instead. That finds the mapped records the ODS lost, but not the records nobody
// mapped: resync then adopts and deletes nothing it cannot see, and says so.

import type { ResourceApi } from '../emit/api.js';
import { EdFiRequestError, type ApiResult } from '../emit/edfi-client.js';
import type { JsonObject } from '../types.js';
import { normalizeOdsBody } from './ods-body.js';

export interface OdsListing {
  /** Ed-Fi id -> the record as we would send it. */
  records: Map<string, JsonObject>;
  /** Whether the collection (within the queries) was listed; false when records were looked up by id instead. */
  complete: boolean;
  /** Ids whose lookup failed: their records may well be in the ODS, so nothing may treat them as gone. */
  unchecked: Set<string>;
  /** What went wrong and what was done instead, for the operator. */
  notes: string[];
  /** Ed-Fi id -> the index of the first query that listed it (absent when looked up by id). */
  foundBy: Map<string, number>;
}

const PAGE_SIZE = 500;

/** Every record matching each query; falls back to a lookup by id of `mappedIds` when listing fails. */
export async function listOdsRecords(api: ResourceApi, resourcePath: string, queries: Array<Record<string, string | number>>, mappedIds: string[], label: string): Promise<OdsListing> {
  let pageSize = PAGE_SIZE;
  for (;;) {
    const records = new Map<string, JsonObject>();
    const foundBy = new Map<string, number>();
    try {
      for (const [index, query] of queries.entries()) {
        for await (const item of listAll(api, resourcePath, query, pageSize)) {
          const id = (item as { id?: unknown }).id;
          if (typeof id !== 'string' || id === '') continue;
          records.set(id, normalizeOdsBody(item as JsonObject) as JsonObject);
          if (!foundBy.has(id)) foundBy.set(id, index);
        }
      }
      return { records, complete: true, unchecked: new Set(), notes: [], foundBy };
    } catch (err) {
      if (!(err instanceof EdFiRequestError)) throw err;
      // An API configured with a smaller page cap than the default 500 refuses the page size: list again with its cap.
      const smaller = smallerPageSize(err.result, pageSize);
      if (smaller !== undefined) {
        pageSize = smaller;
        continue;
      }
      return lookUpById(api, resourcePath, mappedIds, label, err.result);
    }
  }
}

/** The page size an API's 400 about the limit asks for ("a value between 1 and 100"), if smaller than the one tried. */
export function smallerPageSize(failure: ApiResult, tried: number): number | undefined {
  if (failure.status !== 400) return undefined;
  const text = failure.message ?? '';
  const max = /between\s+[01]\s+and\s+(\d+)/i.exec(text);
  if (max) {
    const n = Number(max[1]);
    return n >= 1 && n < tried ? n : undefined;
  }
  // A refusal that names the limit without its range: a quarter of the size, down to 25.
  return /\b(limit|page ?size)\b/i.test(text) && tried > 25 ? Math.max(25, Math.floor(tried / 4)) : undefined;
}

async function* listAll(api: ResourceApi, resourcePath: string, query: Record<string, string | number>, pageSize: number): AsyncIterable<object> {
  if (api.getAll) {
    yield* api.getAll(resourcePath, query, pageSize);
    return;
  }
  for (let offset = 0; ; offset += pageSize) {
    const page = await api.get(resourcePath, query, { offset, limit: pageSize, totalCount: offset === 0 });
    if (!page.ok) throw new EdFiRequestError(page);
    const items = (page.items ?? []).filter((i): i is object => typeof i === 'object' && i !== null);
    yield* items;
    if (items.length < pageSize) return;
  }
}

async function lookUpById(api: ResourceApi, resourcePath: string, ids: string[], label: string, failure: ApiResult): Promise<OdsListing> {
  const why = `${failure.status === 0 ? 'no answer' : `HTTP ${failure.status}`}${failure.message ? `: ${failure.message}` : ''}`;
  const notes = [
    `${label}: the API could not list ${resourcePath} (${why}). Resync looked up the ${ids.length} mapped record(s) by id instead; ` +
      'records in the ODS that no identity row maps cannot be found this way, so none was adopted or deleted.',
  ];
  if (!api.getById) {
    notes.push(`${label}: this API cannot be asked for one record by id either: nothing was checked.`);
    return { records: new Map(), complete: false, unchecked: new Set(ids), notes, foundBy: new Map() };
  }
  const looked = await lookUpEach(api, resourcePath, ids);
  const unchecked = new Set(looked.failed.keys());
  if (unchecked.size > 0) {
    const counts = new Map<string, number>();
    for (const why of looked.failed.values()) counts.set(why, (counts.get(why) ?? 0) + 1);
    notes.push(`${label}: ${unchecked.size} lookup(s) by id failed (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}): those records are kept as mapped.`);
  }
  return { records: looked.found, complete: false, unchecked, notes, foundBy: new Map() };
}

export interface Lookups {
  /** Ed-Fi id -> the record as we would send it. */
  found: Map<string, JsonObject>;
  /** Ids the API answered 404 for: the only proof that a record is gone. */
  gone: Set<string>;
  /** Ids whose lookup gave no answer either way, with why ("HTTP 500", "no answer"). */
  failed: Map<string, string>;
}

// A few GETs at a time: enough to keep a long list moving without crowding an API the run also writes to.
const LOOKUP_CONCURRENCY = 8;

/** Each id looked up by GET; only a 404 counts as gone. */
export async function lookUpEach(api: ResourceApi, resourcePath: string, ids: string[]): Promise<Lookups> {
  const out: Lookups = { found: new Map(), gone: new Set(), failed: new Map() };
  if (!api.getById) {
    for (const id of ids) out.failed.set(id, 'no lookup by id in this API');
    return out;
  }
  const getById = api.getById.bind(api);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const r = await getById(resourcePath, id);
      if (r.ok && typeof r.body === 'object' && r.body !== null) out.found.set(id, normalizeOdsBody(r.body as JsonObject) as JsonObject);
      else if (r.status === 404) out.gone.add(id);
      else out.failed.set(id, r.status === 0 ? 'no answer' : `HTTP ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, ids.length) }, worker));
  return out;
}
