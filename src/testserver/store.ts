// In-memory resources of the test server, with the rules an Ed-Fi API applies to a write: property names,
// body validation, descriptor resolution, LEA authorization, reference checks, natural-key upsert, key
// changes on PUT and dependent items on DELETE. A test double only, never the product's store.
// Failures are Problems (problems.ts), worded by the server in the generation it plays; `body` is the
// ODS/API 6.x wording, kept for callers that read a store directly.
import { randomUUID } from 'node:crypto';
import { sortedByCanonicalJson } from '../util/hash.js';
import type { Json, JsonObject } from '../types.js';
import { compileResourceValidator, listDescriptorValues, loadDescriptors, loadResourceSchema, schemaName, type JsonSchema } from '../edfi/schemas.js';
import { isJsonObject, setAt, valueAt } from './body-paths.js';
import type { ErrorBody } from './messages.js';
import { ods6Body, statusOf, type Problem } from './problems.js';
import { applyPropertyRules, type PropertyRules } from './property-rules.js';
import { referencesTo, resourceDefinition, type ReferenceRule, type ResourceDefinition, type ResourceName } from './resources.js';

export interface StoredItem {
  id: string;
  /** The body as the client sent it, without id, _etag, _lastModifiedDate and reference links. */
  body: JsonObject;
  /** Without quotes; the ETag header quotes it. */
  etag: string;
  lastModified: string;
}

export type Failure = { ok: false; status: number; body: ErrorBody; problem: Problem };
export type WriteOutcome = { ok: true; status: 200 | 201 | 204; id: string; etag: string } | Failure;
export type ReadOutcome = { ok: true; body: JsonObject; etag: string } | Failure;

export interface EdFiStoreOptions {
  /** 409 as ODS/API 6.x answers; 400 as the Campus error log words it. */
  unresolvedReferenceStatus?: 400 | 409;
  /** 'ignore' as ODS/API 6.x does; 'reject' as 7.0/7.1 do. */
  keyChangeOnPut?: 'ignore' | 'reject';
  /** LEA ids the client may write for; null or absent: no restriction. */
  authorizedLeas?: readonly number[] | null;
  /** The Data Standard's schema folder under schemas/edfi: '' for 4.0 (default), 'ds-5.2' for 5.x. */
  schemaFolder?: string;
  /** How property names of a body are read; default as the ODS/API (any case, unknown ones dropped). */
  propertyRules?: PropertyRules;
  /**
   * How a GET answers a record: 'relational' as an ODS/API rebuilds it from its tables (every collection, an empty
   * one as [], items in key order), 'document' as the DMS keeps the JSON it was sent. Default 'relational'.
   */
  answers?: 'relational' | 'document';
}

export interface WriteOptions {
  /** The If-Match header, quoted or not. */
  ifMatch?: string;
  /** For seeding: the LEA authorization does not apply. */
  skipAuthorization?: boolean;
}

const READ_ONLY_TOP = ['id', '_etag', '_lastModifiedDate'];

function fail(problem: Problem, unresolvedReferenceStatus: 400 | 409 = 409): Failure {
  return { ok: false, status: statusOf(problem, unresolvedReferenceStatus), body: ods6Body(problem), problem };
}

function unquote(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export class EdFiStore {
  unresolvedReferenceStatus: 400 | 409;
  keyChangeOnPut: 'ignore' | 'reject';
  private readonly items = new Map<ResourceName, Map<string, StoredItem>>();
  /** resource -> natural-key string -> id */
  private readonly keys = new Map<ResourceName, Map<string, string>>();
  private readonly descriptors = loadDescriptors();
  private authorizedLeas: Set<number> | null = null;
  private etagSequence = 0;
  readonly schemaFolder: string;
  private readonly propertyRules: PropertyRules;
  private readonly schemas = new Map<ResourceName, JsonSchema>();

  constructor(options: EdFiStoreOptions = {}) {
    this.unresolvedReferenceStatus = options.unresolvedReferenceStatus ?? 409;
    this.keyChangeOnPut = options.keyChangeOnPut ?? 'ignore';
    this.schemaFolder = options.schemaFolder ?? '';
    this.propertyRules = options.propertyRules ?? { caseSensitive: false, dropEmpty: false };
    this.answers = options.answers ?? 'relational';
    this.setAuthorizedLeas(options.authorizedLeas ?? null);
  }

  private schemaOf(resource: ResourceName): string {
    return schemaName(this.schemaFolder, resource);
  }

  /** Makes more descriptor values resolvable, e.g. a state's own namespace. */
  addDescriptors(name: string, uris: Iterable<string>): void {
    let set = this.descriptors.get(name);
    if (!set) {
      set = new Set();
      this.descriptors.set(name, set);
    }
    for (const uri of uris) set.add(uri);
  }

  knowsDescriptor(name: string, uri: string): boolean {
    return this.descriptors.get(name)?.has(uri) ?? false;
  }

  /** Restricts writes and reads to these LEA ids; null lifts the restriction. */
  setAuthorizedLeas(ids: readonly number[] | null): void {
    this.authorizedLeas = ids === null ? null : new Set(ids);
  }

  /** POST: create, or update the item with the same natural key. */
  post(resource: ResourceName, body: unknown, options: WriteOptions = {}): WriteOutcome {
    const def = resourceDefinition(resource);
    if (isJsonObject(body) && 'id' in body) return fail({ kind: 'client-assigned-id' });
    const checked = this.checkBody(def, body);
    if (!checked.ok) return checked;
    const item = checked.body;
    const denied = options.skipAuthorization ? undefined : this.authorize(def, item);
    if (denied) return denied;
    const unresolved = this.resolveReferences(def, item);
    if (unresolved) return unresolved;

    const key = this.keyOf(def, item);
    const existingId = this.keyIndex(resource).get(key);
    if (existingId) {
      const stored = this.store(resource, existingId, item);
      return { ok: true, status: 200, id: existingId, etag: stored.etag };
    }
    const id = randomUUID().replace(/-/g, '');
    const stored = this.store(resource, id, item);
    this.keyIndex(resource).set(key, id);
    return { ok: true, status: 201, id, etag: stored.etag };
  }

  /** PUT /{id}: replace the item; natural-key changes are ignored or rejected as configured. */
  put(resource: ResourceName, id: string, body: unknown, options: WriteOptions = {}): WriteOutcome {
    const def = resourceDefinition(resource);
    const checked = this.checkBody(def, body);
    if (!checked.ok) return checked;
    const current = this.table(resource).get(id);
    if (!current) return fail({ kind: 'not-found', action: 'update' });
    if (options.ifMatch !== undefined && unquote(options.ifMatch) !== current.etag) return fail({ kind: 'modified' });

    const item = checked.body;
    if (this.keyOf(def, item) !== this.keyOf(def, current.body)) {
      if (this.keyChangeOnPut === 'reject') return fail({ kind: 'key-change', entity: def.entity });
      // ODS/API 6.x keeps the stored key and applies the rest of the body.
      for (const path of def.naturalKey) {
        const kept = valueAt(current.body, path);
        if (kept !== undefined) setAt(item, path, kept);
      }
    }
    if (!options.skipAuthorization) {
      const denied = this.authorize(def, current.body) ?? this.authorize(def, item);
      if (denied) return denied;
    }
    const unresolved = this.resolveReferences(def, item);
    if (unresolved) return unresolved;
    const stored = this.store(resource, id, item);
    return { ok: true, status: 204, id, etag: stored.etag };
  }

  /** DELETE /{id}: refused while another item references this one. */
  delete(resource: ResourceName, id: string, options: WriteOptions = {}): WriteOutcome {
    const def = resourceDefinition(resource);
    const current = this.table(resource).get(id);
    if (!current) return fail({ kind: 'not-found', action: 'delete' });
    if (options.ifMatch !== undefined && unquote(options.ifMatch) !== current.etag) return fail({ kind: 'modified' });
    const denied = options.skipAuthorization ? undefined : this.authorize(def, current.body);
    if (denied) return denied;

    const key = this.keyOf(def, current.body);
    for (const { resource: dependent, rule } of referencesTo(resource)) {
      for (const other of this.table(dependent.name).values()) {
        if (this.referencedKey(rule, other.body) === key) return fail({ kind: 'dependent-item', entity: dependent.entity, dependencyName: dependent.dependencyName });
      }
    }
    this.table(resource).delete(id);
    this.keyIndex(resource).delete(key);
    return { ok: true, status: 204, id, etag: current.etag };
  }

  /** GET /{id}: the item as an ODS/API returns it (id, reference links, _etag, _lastModifiedDate). */
  read(resource: ResourceName, id: string): ReadOutcome {
    const def = resourceDefinition(resource);
    const item = this.table(resource).get(id);
    if (!item) return fail({ kind: 'not-found', action: 'get' });
    const denied = this.authorize(def, item.body);
    if (denied) return denied;
    return { ok: true, body: this.represent(def, item), etag: item.etag };
  }

  /** GET list: items matching every filter (query parameter -> value), in creation order, limited to authorized LEAs. */
  query(resource: ResourceName, filters: Record<string, string>, offset: number, limit: number): { items: JsonObject[]; total: number } {
    const def = resourceDefinition(resource);
    const conditions = Object.entries(filters)
      .filter(([param]) => param in def.queryParameters)
      .map(([param, value]) => [def.queryParameters[param] as string, value] as const);
    const matching = [...this.table(resource).values()].filter(
      (item) => !this.authorize(def, item.body) && conditions.every(([path, value]) => String(valueAt(item.body, path)) === value),
    );
    return { items: matching.slice(offset, offset + limit).map((item) => this.represent(def, item)), total: matching.length };
  }

  /** The stored item, unfiltered by authorization. */
  get(resource: ResourceName, id: string): StoredItem | undefined {
    return this.table(resource).get(id);
  }

  /** Every stored item of a resource, in creation order. */
  list(resource: ResourceName): StoredItem[] {
    return [...this.table(resource).values()];
  }

  count(resource: ResourceName): number {
    return this.table(resource).size;
  }

  /** The id of the item whose natural key equals the given body's, if any. */
  findId(resource: ResourceName, body: JsonObject): string | undefined {
    return this.keyIndex(resource).get(this.keyOf(resourceDefinition(resource), body));
  }

  clear(): void {
    this.items.clear();
    this.keys.clear();
  }

  private table(resource: ResourceName): Map<string, StoredItem> {
    let t = this.items.get(resource);
    if (!t) {
      t = new Map();
      this.items.set(resource, t);
    }
    return t;
  }

  private keyIndex(resource: ResourceName): Map<string, string> {
    let k = this.keys.get(resource);
    if (!k) {
      k = new Map();
      this.keys.set(resource, k);
    }
    return k;
  }

  private keyOf(def: ResourceDefinition, body: JsonObject): string {
    return JSON.stringify(def.naturalKey.map((path) => valueAt(body, path) ?? null));
  }

  /** The natural-key string of the item a reference points at, or undefined when the body has no such reference. */
  private referencedKey(rule: ReferenceRule, body: JsonObject): string | undefined {
    const reference = body[rule.property];
    if (!isJsonObject(reference)) return undefined;
    const byTargetPath = new Map(Object.entries(rule.fields).map(([field, targetPath]) => [targetPath, reference[field]]));
    return JSON.stringify(resourceDefinition(rule.target).naturalKey.map((path) => byTargetPath.get(path) ?? null));
  }

  /**
   * Property names (unknown ones dropped, as the Ed-Fi APIs do), then the schema, then descriptors, as the
   * API's model binding does before anything touches the database.
   */
  private checkBody(def: ResourceDefinition, body: unknown): { ok: true; body: JsonObject } | Failure {
    if (body === undefined || body === null) return fail({ kind: 'empty-body' });
    let schema = this.schemas.get(def.name);
    if (!schema) this.schemas.set(def.name, (schema = loadResourceSchema(this.schemaOf(def.name)) as JsonSchema));
    const read = applyPropertyRules(schema, body, this.propertyRules);
    const validation = compileResourceValidator(this.schemaOf(def.name))(read);
    if (!validation.ok) return fail({ kind: 'validation', entity: def.entity, errors: validation.errors });
    const item = structuredClone(read) as JsonObject;
    for (const found of listDescriptorValues(this.schemaOf(def.name), item)) {
      if (!this.knowsDescriptor(found.descriptor, found.value)) return fail({ kind: 'unknown-descriptor', path: found.path, descriptor: found.descriptor, value: found.value });
    }
    for (const name of READ_ONLY_TOP) delete item[name];
    for (const rule of def.references) {
      const reference = item[rule.property];
      if (isJsonObject(reference)) delete reference['link'];
    }
    return { ok: true, body: item };
  }

  private authorize(def: ResourceDefinition, body: JsonObject): Failure | undefined {
    if (!this.authorizedLeas || !def.authorization) return undefined;
    const value = valueAt(body, def.authorization.path);
    if (typeof value === 'number' && this.authorizedLeas.has(value)) return undefined;
    return fail({ kind: 'forbidden', claims: [...this.authorizedLeas], property: def.authorization.property });
  }

  private resolveReferences(def: ResourceDefinition, body: JsonObject): Failure | undefined {
    for (const rule of def.references) {
      const key = this.referencedKey(rule, body);
      if (key !== undefined && !this.keyIndex(rule.target).has(key)) {
        const entity = rule.table.charAt(0).toUpperCase() + rule.table.slice(1);
        return fail({ kind: 'unresolved-reference', table: rule.table, entity, property: rule.property }, this.unresolvedReferenceStatus);
      }
    }
    return undefined;
  }

  private store(resource: ResourceName, id: string, body: JsonObject): StoredItem {
    const item: StoredItem = { id, body, etag: this.nextEtag(), lastModified: new Date().toISOString() };
    this.table(resource).set(id, item);
    return item;
  }

  private nextEtag(): string {
    this.etagSequence += 1;
    return `${Date.now()}${String(this.etagSequence).padStart(6, '0')}`;
  }

  private represent(def: ResourceDefinition, item: StoredItem): JsonObject {
    const body = structuredClone(item.body);
    for (const rule of def.references) {
      const reference = body[rule.property];
      const key = this.referencedKey(rule, body);
      const targetId = key === undefined ? undefined : this.keyIndex(rule.target).get(key);
      if (isJsonObject(reference) && targetId) {
        const link: Json = { rel: rule.rel, href: `/ed-fi/${rule.target}/${targetId}` };
        reference['link'] = link;
      }
    }
    if (this.answers === 'relational') {
      for (const name of this.collectionsOf(def.name)) {
        const items = body[name];
        // The items come back in an order of the server's own (an ODS/API reads its child table by key), not as
        // sent: here sorted by their JSON text.
        body[name] = Array.isArray(items) ? sortedByCanonicalJson(items) : [];
      }
    }
    return { id: item.id, ...body, _etag: item.etag, _lastModifiedDate: item.lastModified };
  }

  private readonly answers: 'relational' | 'document';
  private readonly collections = new Map<ResourceName, string[]>();

  /** The top-level collections of a resource's body (a resource without a schema here has none). */
  private collectionsOf(resource: ResourceName): string[] {
    let names = this.collections.get(resource);
    if (!names) {
      names = [];
      try {
        const properties = (loadResourceSchema(this.schemaOf(resource)) as { properties?: Record<string, { type?: string }> }).properties ?? {};
        names = Object.entries(properties).filter(([, p]) => p.type === 'array').map(([n]) => n);
      } catch {
        // No schema of this resource in the double: answered as stored.
      }
      this.collections.set(resource, names);
    }
    return names;
  }
}
