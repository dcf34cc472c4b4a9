import type { Database, Statement } from 'better-sqlite3';
import { decodeEntry, ENTRY_COLUMNS, type CacheEntry, type RawEntry } from '../state/eval-cache.js';
import type { IdentityBrief } from '../state/identity-map.js';

/** What the state file knows of one record before it is planned: its last evaluation and its identity row. */
export interface RecordState {
  cached?: CacheEntry;
  own?: IdentityBrief;
}

type Raw = Partial<RawEntry> & {
  i_instance: string | null;
  i_edfi_id: string | null;
  i_nk_hash: string | null;
  i_body_hash: string | null;
  i_last_outcome: string | null;
  i_present: number | null;
};

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
    this.stmt = db.prepare(`SELECT ${ENTRY_COLUMNS},
        i.instance AS i_instance, i.edfi_id AS i_edfi_id, i.nk_hash AS i_nk_hash, i.body_hash AS i_body_hash,
        i.last_outcome AS i_last_outcome, i.rowid AS i_present
      FROM (SELECT ? AS k) q
      LEFT JOIN eval_cache c ON c.scope_id = ? AND c.source_key = q.k
      LEFT JOIN identity_map i ON i.connection = ? AND i.resource = ? AND i.source_key = q.k`);
    this.many = db.prepare(`SELECT q.value AS k, ${ENTRY_COLUMNS},
        i.instance AS i_instance, i.edfi_id AS i_edfi_id, i.nk_hash AS i_nk_hash, i.body_hash AS i_body_hash,
        i.last_outcome AS i_last_outcome, i.rowid AS i_present
      FROM json_each(?) q
      LEFT JOIN eval_cache c ON c.scope_id = ? AND c.source_key = q.value
      LEFT JOIN identity_map i ON i.connection = ? AND i.resource = ? AND i.source_key = q.value`);
  }

  /** Many records in one query (a chunk of the stream): the per-call cost of a look-up is paid once. */
  getMany(sourceKeys: string[]): Map<string, RecordState> {
    const out = new Map<string, RecordState>();
    if (this.nothingKnown) {
      for (const k of sourceKeys) out.set(k, {});
      return out;
    }
    for (const r of this.many.all(JSON.stringify(sourceKeys), this.scope, this.connection, this.resource) as Array<Raw & { k: string }>) out.set(r.k, decode(r));
    return out;
  }

  get(sourceKey: string): RecordState {
    if (this.nothingKnown) return {};
    return decode(this.stmt.get(sourceKey, this.scope, this.connection, this.resource) as Raw);
  }
}

function decode(r: Raw): RecordState {
  const out: RecordState = {};
  if (r.rules_key) out.cached = decodeEntry(r as RawEntry);
  if (r.i_present !== null && r.i_present !== undefined) {
    out.own = { instance: r.i_instance, edfiId: r.i_edfi_id, nkHash: r.i_nk_hash ?? '', bodyHash: r.i_body_hash ?? '', lastOutcome: r.i_last_outcome };
  }
  return out;
}
