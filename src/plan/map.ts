import type { MappingContext } from '../mapping/functions.js';
import { Mapper } from '../mapping/mapper.js';
import type { LoadedProfile } from '../profile/load-profile.js';
import { naturalKeyHash } from '../state/identity-map.js';
import type { Connection, Json, JsonObject } from '../types.js';
import { canonicalJson, hashJson, sha1 } from '../util/hash.js';
import { bodyChecksOf, runChecks, type BodyCheck, type BodyCheckResult } from './body-checks.js';
import type { DecidedRow } from './decide.js';
import { naturalKeyOf } from './paths.js';
import type { SourceReader } from './read.js';
import { SCHEMA_CHECK } from '../sanity/body-findings.js';

/** A kept record with its body judged: hashes always, the body itself only when it was mapped in this run. */
export interface MappedRecord {
  row: DecidedRow;
  /** Cross-record facts the body was made with (e.g. isPrimary). */
  derived: JsonObject;
  /** Fingerprint of everything the body depends on: the row, the derived facts, the Resource Preferences. */
  mapKey: string;
  bodyHash: string;
  nkHash: string;
  /** Problems that keep the body from being sent (empty: it may be sent). */
  holds: Array<{ id: string; message: string }>;
  /** Problems logged while the record is sent anyway (only known when mapped in this run). */
  warnings: BodyCheckResult[];
  body?: JsonObject;
  naturalKey?: JsonObject;
  /** Mapped in this run with inputs the cache did not know: the cache entry is written again. */
  fresh: boolean;
}

/**
 * The map stage: the profile's mapping turns a kept record into an Ed-Fi body, and the body checks (schema,
 * published descriptors, the profile's own) judge it. A record whose inputs are unchanged since the last run is
 * judged from the cache's hashes; its body is mapped again only when it must be sent.
 */
export class MapStage {
  private readonly checks: BodyCheck[];
  /** Hash of the Resource Preferences the connection is planned with: a change re-maps every record. */
  private readonly prefs: string;

  constructor(
    private readonly profile: LoadedProfile,
    private readonly mapper: Mapper,
    private readonly reader: SourceReader,
    private readonly conn: Connection,
    private readonly ctx: MappingContext,
  ) {
    this.checks = bodyChecksOf(profile, (path) => mapper.origin(path));
    this.prefs = sha1(canonicalJson([...ctx.preferences].map(([r, els]) => [r, [...els].map(([e, vals]) => [e, [...vals].sort()])]) as unknown as Json));
  }

  mapKey(row: DecidedRow, derived: JsonObject): string {
    return sha1(row.rulesKey + this.prefs + canonicalJson(derived));
  }

  /** Judged from the cache when nothing the body depends on moved, mapped otherwise (or always, with `force`). */
  async map(row: DecidedRow, derived: JsonObject, force = false): Promise<MappedRecord> {
    const mapKey = this.mapKey(row, derived);
    const c = row.cached;
    if (!force && c && c.mapKey === mapKey && c.bodyHash && c.nkHash) {
      return { row, derived, mapKey, bodyHash: c.bodyHash, nkHash: c.nkHash, holds: c.problems ?? [], warnings: [], fresh: false };
    }
    row.candidate ??= this.reader.candidate(row, this.conn);
    let body: JsonObject;
    let failure: BodyCheckResult | undefined;
    try {
      // The row's facts already hold the configured year and the connection; the derived facts are set on them.
      const mapped = this.mapper.map(Object.assign(row.candidate.facts, derived), this.ctx);
      body = mapped instanceof Promise ? await mapped : mapped;
    } catch (err) {
      body = {};
      failure = { id: SCHEMA_CHECK, severity: 'hold', message: `mapping failed: ${(err as Error).message}` };
    }
    const { holds, warnings } = failure ? { holds: [failure], warnings: [] } : runChecks(this.checks, body, row.candidate.facts);
    const naturalKey = naturalKeyOf(body, this.profile.def.naturalKey);
    return {
      row, derived, mapKey, bodyHash: hashJson(body), nkHash: naturalKeyHash(naturalKey),
      holds: holds.map((h) => ({ id: h.id, message: h.message })), warnings, body, naturalKey,
      fresh: !(c && c.mapKey === mapKey),
    };
  }

  /** The body of a record judged from the cache: mapped again from the row at hand. */
  async withBody(m: MappedRecord): Promise<MappedRecord & { body: JsonObject; naturalKey: JsonObject }> {
    if (m.body && m.naturalKey) return m as MappedRecord & { body: JsonObject; naturalKey: JsonObject };
    return (await this.map(m.row, m.derived, true)) as MappedRecord & { body: JsonObject; naturalKey: JsonObject };
  }
}
