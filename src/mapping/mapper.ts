import type { Json, JsonObject } from '../types.js';
import { mappingBindings, type MappingContext } from './functions.js';
import { bindingFrame, type Frame } from './jsonata-compile.js';
import type { FieldMapping, MappingFile } from './mapping-file.js';

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

/**
 * `stripNulls(plain(value))` in one pass without the JSON text: what a JSON round trip keeps (no undefined, no
 * functions, no NaN/Infinity, -0 as 0, no sequence markers), without nulls.
 */
export function cleanValue(value: unknown): Json | undefined {
  return toJson(value, false);
}

/** `plain(value)`: a JSON round trip without the text (nulls kept; an undefined list item becomes null as in JSON). */
export function plainValue(value: unknown): Json | undefined {
  return toJson(value, true);
}

function toJson(value: unknown, keepNulls: boolean): Json | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : keepNulls ? null : undefined;
    case 'object': {
      if (value === null) return keepNulls ? null : undefined;
      if (Array.isArray(value)) {
        const out: Json[] = [];
        for (const item of value) {
          const c = toJson(item, keepNulls);
          if (c !== undefined) out.push(c);
          else if (keepNulls) out.push(null);
        }
        return out;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return keepNulls ? plain(value) : stripNulls(plain(value));
      const out: JsonObject = {};
      for (const key of Object.keys(value)) {
        const c = toJson((value as Record<string, unknown>)[key], keepNulls);
        if (c !== undefined) out[key] = c;
      }
      return out;
    }
    case 'bigint':
      return keepNulls ? plain(value) : stripNulls(plain(value));
    default:
      return undefined;
  }
}

/** A mapping expression that failed on a record, named by its file, line and field id. */
export class MappingError extends Error {
  constructor(readonly mappingFile: string, readonly field: FieldMapping | undefined, readonly failure: unknown) {
    const where = field ? `${mappingFile}:${field.line ?? '?'} [${field.id}] (field ${field.field})` : mappingFile;
    super(`${where}: ${(failure as Error)?.message ?? String(failure)}`);
    this.name = 'MappingError';
  }
}

export interface FieldTrace {
  id: string;
  field: string;
  expr: string;
  value: Json | undefined;
  error?: string;
}

const frames = new WeakMap<MappingContext, Frame>();

/**
 * Turns one kept record's facts into an Ed-Fi body with the profile's mapping file. Fields whose expression
 * compiled (mapping-file.ts) are evaluated as plain functions; the rest in one JSONata evaluation.
 */
export class Mapper {
  constructor(readonly mapping: MappingFile) {}

  /** True when every field compiled, so `mapSync` can be used. */
  get allCompiled(): boolean {
    return this.mapping.rest === undefined;
  }

  /** Fields JSONata evaluates, with why each did not compile. */
  get interpreted(): Array<{ id: string; field: string; line?: number; reason: string }> {
    return this.mapping.fields.filter((f) => !f.fast).map((f) => ({ id: f.id, field: f.field, line: f.line, reason: f.notCompiled ?? '' }));
  }

  private frame(ctx: MappingContext): Frame {
    let f = frames.get(ctx);
    if (!f) frames.set(ctx, (f = bindingFrame(mappingBindings(ctx))));
    return f;
  }

  async map(input: JsonObject, ctx: MappingContext): Promise<JsonObject> {
    let rest: Record<string, unknown> | undefined;
    if (this.mapping.rest) {
      try {
        rest = (await this.mapping.rest.evaluate(input, mappingBindings(ctx))) as Record<string, unknown> | undefined;
      } catch (err) {
        throw await this.locate(input, ctx, err);
      }
    }
    return this.assemble(input, ctx, rest);
  }

  /** The body without a promise: only when every field compiled (allCompiled). */
  mapSync(input: JsonObject, ctx: MappingContext): JsonObject {
    if (this.mapping.rest) throw new Error(`${this.mapping.file}: fields ${this.interpreted.map((f) => f.id).join(', ')} need JSONata; use map()`);
    return this.assemble(input, ctx, undefined);
  }

  private assemble(input: JsonObject, ctx: MappingContext, rest: Record<string, unknown> | undefined): JsonObject {
    const frame = this.frame(ctx);
    const body: JsonObject = {};
    for (const f of this.mapping.fields) {
      let raw: unknown;
      if (f.fast) {
        try {
          raw = f.fast.evaluate(input, frame);
        } catch (err) {
          throw new MappingError(this.mapping.file, f, err);
        }
      } else {
        raw = rest?.[f.field];
      }
      const value = cleanValue(raw);
      if (value !== undefined) body[f.field] = value;
    }
    return body;
  }

  /** The combined JSONata expression failed: evaluate its fields one by one to name the one that fails. */
  private async locate(input: JsonObject, ctx: MappingContext, err: unknown): Promise<MappingError> {
    for (const f of this.mapping.fields.filter((x) => !x.fast)) {
      try {
        await f.compiled.evaluate(input, mappingBindings(ctx));
      } catch (fieldErr) {
        return new MappingError(this.mapping.file, f, fieldErr);
      }
    }
    return new MappingError(this.mapping.file, undefined, err);
  }

  /**
   * Where a body path comes from, for a held-back record's message: the Ed-Fi element alone does not say which
   * file and expression to look at.
   */
  origin(path: string): string {
    const field = path.split(/[.[]/)[0] ?? path;
    const f = this.mapping.fields.find((x) => x.field === field);
    if (f) return `mapped by ${f.id} at ${this.mapping.file}:${f.line ?? '?'}`;
    if (this.mapping.notReported.some((x) => x.field === field)) return `listed as not reported in ${this.mapping.file}`;
    return `no field of ${this.mapping.file} maps ${field}`;
  }

  /** Field by field, for `explain`: which mapping produced which value. */
  async trace(input: JsonObject, ctx: MappingContext): Promise<FieldTrace[]> {
    const out: FieldTrace[] = [];
    for (const f of this.mapping.fields) {
      try {
        const raw = f.fast ? f.fast.evaluate(input, this.frame(ctx)) : await f.compiled.evaluate(input, mappingBindings(ctx));
        out.push({ id: f.id, field: f.field, expr: f.expr, value: cleanValue(raw) });
      } catch (err) {
        out.push({ id: f.id, field: f.field, expr: f.expr, value: undefined, error: (err as Error).message });
      }
    }
    return out;
  }

  /** The same body with JSONata alone: the reference the compiled fields are proved against. */
  async mapInterpreted(input: JsonObject, ctx: MappingContext): Promise<JsonObject> {
    const body = stripNulls(plain(await this.mapping.whole.evaluate(input, mappingBindings(ctx))));
    return body && typeof body === 'object' && !Array.isArray(body) ? body : {};
  }
}
