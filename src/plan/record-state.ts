import type { Database, Statement } from 'better-sqlite3';
import { decodeEntry, ENTRY_COLUMNS, type CacheEntry } from '../state/eval-cache.js';
import type { IdentityBrief } from '../state/identity-map.js';

/** What the state file knows of one record before it is planned: its last evaluation and its identity row. */
export interface RecordState {
  cached?: CacheEntry;
  own?: IdentityBrief;
}

/**
 * A row as the look-ups return it, by position (raw rows: naming every column of every row cost a fifth of the
 * look-ups): the cache entry's columns in ENTRY_COLUMNS order, then the identity row's.
 */
type RawRow = [
  rules_key: string | null, decision_id: number | null, map_key: string | null, body_hash: string | null, nk_hash: string | null, problems: string | null,
  i_instance: string | null, i_edfi_id: string | null, i_nk_hash: string | null, i_body_hash: string | null, i_last_outcome: string | null, i_present: number | null,
];
const IDENTITY_COLUMNS = 'i.instance, i.edfi_id, i.nk_hash, i.body_hash, i.last_outcome, i.rowid';

/**
 * One query per record for both (a point look-up each, joined), rather than loading a whole connection: memory
 * stays flat however many records a connection has.
 */
export class RecordStateLookup {
  private readonly stmt: Statement;
  private readonly many: Statement;
  /**
   * The connection has neither cache entries nor identity rows (its first night): every look-up would find nothing,
   * so none is made. Asked once, when the pass starts; a pass writes neither table until it ends.
   */
  private readonly nothingKnown: boolean;

  constructor(db: Database, private readonly scope: number, private readonly connection: string, private readonly resource: string) {
    this.nothingKnown = db.prepare('SELECT 1 FROM eval_cache WHERE scope_id = ? LIMIT 1').get(scope) === undefined
      && db.prepare('SELECT 1 FROM identity_map WHERE connection = ? AND resource = ? LIMIT 1').get(connection, resource) === undefined;
    this.stmt = db.prepare(`SELECT ${ENTRY_COLUMNS}, ${IDENTITY_COLUMNS}
      FROM (SELECT ? AS k) q
      LEFT JOIN eval_cache c ON c.scope_id = ? AND c.source_key = q.k
      LEFT JOIN identity_map i ON i.connection = ? AND i.resource = ? AND i.source_key = q.k`).raw(true);
    this.many = db.prepare(`SELECT ${ENTRY_COLUMNS}, ${IDENTITY_COLUMNS}, q.value
      FROM json_each(?) q
      LEFT JOIN eval_cache c ON c.scope_id = ? AND c.source_key = q.value
      LEFT JOIN identity_map i ON i.connection = ? AND i.resource = ? AND i.source_key = q.value`).raw(true);
  }

  /** Many records in one query (a chunk of the stream): the per-call cost of a look-up is paid once. */
  getMany(sourceKeys: string[]): Map<string, RecordState> {
    const out = new Map<string, RecordState>();
    if (this.nothingKnown) {
      for (const k of sourceKeys) out.set(k, {});
      return out;
    }
    for (const r of this.many.all(JSON.stringify(sourceKeys), this.scope, this.connection, this.resource) as Array<[...RawRow, string]>) out.set(r[12], decode(r));
    return out;
  }

  get(sourceKey: string): RecordState {
    if (this.nothingKnown) return {};
    return decode(this.stmt.get(sourceKey, this.scope, this.connection, this.resource) as RawRow);
  }
}

function decode(r: RawRow | [...RawRow, string]): RecordState {
  const out: RecordState = {};
  if (r[0]) out.cached = decodeEntry({ rules_key: r[0], decision_id: r[1]!, map_key: r[2], body_hash: r[3], nk_hash: r[4], problems: r[5] });
  if (r[11] !== null && r[11] !== undefined) out.own = { instance: r[6], edfiId: r[7], nkHash: r[8] ?? '', bodyHash: r[9] ?? '', lastOutcome: r[10] };
  return out;
}
