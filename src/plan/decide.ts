import type { LoadedProfile } from '../profile/load-profile.js';
import type { CacheEntry, EvalCache } from '../state/eval-cache.js';
import type { IdentityBrief } from '../state/identity-map.js';
import type { Candidate, Connection, Decision } from '../types.js';
import { canonicalJson, sha1 } from '../util/hash.js';
import type { RuleDecider } from './plan-options.js';
import type { SourceReader, SourceRow } from './read.js';
import type { RecordState, RecordStateLookup } from './record-state.js';

/** A source row with the rules' decision on it. */
export interface DecidedRow extends SourceRow {
  /** Fingerprint of the row's values, the connection and the profile's files. */
  rulesKey: string;
  decision: Decision;
  decisionId: number;
  /** The cache entry of this row when it was made from the same values: its body hashes may still hold. */
  cached?: CacheEntry;
  /** Decided in this run (not from the cache). */
  evaluated: boolean;
  /** The row's facts, built when the rules or the mapping needed them. */
  candidate?: Candidate;
  /** Its identity row, if it was sent before. */
  own?: IdentityBrief;
}

/** The rules of a profile, compiled once into plain functions (the same decisions as json-rules-engine's). */
export function deciderOf(profile: LoadedProfile): RuleDecider {
  return profile.compiledRules;
}

/**
 * The decide stage: a record whose fingerprint is unchanged since the last run keeps its cached decision; the
 * others are evaluated by the rules. Works on one group of rows at a time.
 */
export class DecideStage {
  private readonly prefix: string;

  constructor(
    profile: LoadedProfile,
    private readonly decider: RuleDecider,
    private readonly cache: EvalCache,
    private readonly lookup: RecordStateLookup,
    private readonly reader: SourceReader,
    private readonly conn: Connection,
  ) {
    this.prefix = profile.version + '\0' + canonicalJson({ ...conn.facts, yearStart: conn.yearStart, yearEnd: conn.yearEnd, configID: conn.configID }) + '\0';
  }

  /**
   * The state of a chunk of rows (several groups), looked up in one query before their groups are decided.
   * Rows decided without it are looked up one by one.
   */
  prefetch(rows: SourceRow[]): void {
    this.known = this.lookup.getMany(rows.map((r) => r.sourceKey));
  }

  private known = new Map<string, RecordState>();

  async decide(rows: SourceRow[]): Promise<DecidedRow[]> {
    const out: DecidedRow[] = [];
    for (const row of rows) {
      const rulesKey = sha1(this.prefix + fingerprintText(row.values));
      const { cached: hit, own } = this.known.get(row.sourceKey) ?? this.lookup.get(row.sourceKey);
      const d = row as DecidedRow;
      d.rulesKey = rulesKey;
      d.own = own;
      // A cache entry whose decision the state file does not have (a damaged or hand-edited file) is no hit.
      const known = hit && hit.rulesKey === rulesKey ? this.cache.storedDecision(hit.decisionId) : undefined;
      if (hit && known) {
        d.decisionId = hit.decisionId;
        d.decision = known;
        d.cached = hit;
        d.evaluated = false;
      } else {
        const candidate = this.reader.candidate(row, this.conn);
        const result = this.decider.decide(candidate.facts);
        d.decision = result instanceof Promise ? await result : result;
        d.decisionId = this.cache.decisionId(d.decision);
        d.evaluated = true;
        d.candidate = candidate;
      }
      out.push(d);
    }
    return out;
  }
}

/**
 * The row's values as one unambiguous text (each value typed and length-prefixed), cheaper than JSON for rows
 * holding JSON text columns: nothing is escaped.
 */
export function fingerprintText(values: unknown[]): string {
  let s = '';
  for (const v of values) {
    if (v === null || v === undefined) s += '-';
    else if (typeof v === 'string') s += `s${v.length}:${v}`;
    else if (typeof v === 'number' || typeof v === 'bigint') s += `n${String(v)};`;
    else if (Buffer.isBuffer(v)) s += `b${v.toString('base64')};`;
    else s += `j${JSON.stringify(v)};`;
  }
  return s;
}
