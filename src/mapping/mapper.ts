import type { Json, JsonObject } from '../types.js';
import { mappingBindings, type MappingContext } from './functions.js';
import type { MappingFile } from './mapping-file.js';

/** Ed-Fi treats null like absent; dropping nulls keeps "does not report if NULL" true for every element. */
export function stripNulls(value: Json | undefined): Json | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const items = value.map(stripNulls).filter((v): v is Json => v !== undefined);
    return items;
  }
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const s = stripNulls(v);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return value;
}

/** JSONata hands back arrays with extra markers (sequence flags); a JSON round trip gives plain data. */
function plain(value: unknown): Json | undefined {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value)) as Json;
}

export interface FieldTrace {
  id: string;
  field: string;
  expr: string;
  value: Json | undefined;
  error?: string;
}

/** Turns one kept record's facts into an Ed-Fi body with the profile's mapping file. */
export class Mapper {
  constructor(readonly mapping: MappingFile) {}

  async map(input: JsonObject, ctx: MappingContext): Promise<JsonObject> {
    const result = plain(await this.mapping.whole.evaluate(input, mappingBindings(ctx)));
    const body = stripNulls(result);
    return body && typeof body === 'object' && !Array.isArray(body) ? body : {};
  }

  /** Field by field, for `explain`: which mapping produced which value. */
  async trace(input: JsonObject, ctx: MappingContext): Promise<FieldTrace[]> {
    const out: FieldTrace[] = [];
    for (const f of this.mapping.fields) {
      try {
        const value = stripNulls(plain(await f.compiled.evaluate(input, mappingBindings(ctx))));
        out.push({ id: f.id, field: f.field, expr: f.expr, value });
      } catch (err) {
        out.push({ id: f.id, field: f.field, expr: f.expr, value: undefined, error: (err as Error).message });
      }
    }
    return out;
  }
}
